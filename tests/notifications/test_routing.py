"""Routing: channels per team, group, domain and role; the fallback team -> group -> domain -> default."""

from __future__ import annotations

import pytest

from notifications import RoutingError, audience, load_routing

ROUTING = """
default: json://127.0.0.1:9/default
roles: {readiness_team: json://127.0.0.1:9/readiness, ratelimit_team: [json://127.0.0.1:9/ratelimits]}
domains: {pay: json://127.0.0.1:9/pay}
groups: {pay-core: json://127.0.0.1:9/core}
teams: {checkout: json://127.0.0.1:9/checkout}
"""


@pytest.fixture
def routing(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING)
    return load_routing(path, env={})


@pytest.mark.parametrize(("chain", "path"), [
    (audience(("team", "checkout"), ("group", "pay-core"), ("domain", "pay")), "checkout"),  # the team's own
    (audience(("team", "payments"), ("group", "pay-core"), ("domain", "pay")), "core"),  # its group's
    (audience(("team", "risk"), ("group", "fraud"), ("domain", "pay")), "pay"),  # its domain's
    (audience(("team", "web"), ("group", "shop"), ("domain", "front")), "default"),  # nobody's: the default
    (audience(("team", "web"), ("group", None), ("domain", "pay")), "pay"),  # a team without a group
    ("role:readiness_team", "readiness"),
    ("role:ratelimit_team", "ratelimits"),
    ("", "default"),
])
def test_each_audience_reaches_the_most_specific_channel_configured(routing, chain, path):
    assert routing.urls_for(chain) == (f"json://127.0.0.1:9/{path}",)


def test_without_a_routing_file_everything_goes_to_peak_notify_urls():
    routing = load_routing(env={"PEAK_NOTIFY_URLS": "json://127.0.0.1:9/a, json://127.0.0.1:9/b"})
    assert routing.urls_for("team:x>domain:y") == ("json://127.0.0.1:9/a", "json://127.0.0.1:9/b")


@pytest.mark.parametrize(("text", "field"), [
    ("teams: {checkout: not-a-url}\n", "teams.checkout"),
    ("roles: {janitors: json://127.0.0.1:9/x}\n", "roles.janitors"),
    ("team: {checkout: json://127.0.0.1:9/x}\n", "'team'"),
    ("domains: [pay]\n", "domains"),
])
def test_a_bad_routing_file_is_refused_naming_the_file_and_field(tmp_path, text, field):
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    with pytest.raises(RoutingError) as caught:
        load_routing(path, env={})
    assert str(path) in str(caught.value) and field in str(caught.value)
