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
    ("people: {cy: not an address}\n", "people.cy"),
    ("people: [cy]\n", "people"),
])
def test_a_bad_routing_file_is_refused_naming_the_file_and_field(tmp_path, text, field):
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    with pytest.raises(RoutingError) as caught:
        load_routing(path, env={})
    assert str(path) in str(caught.value) and field in str(caught.value)


SMTP = {"PEAK_SMTP_HOST": "127.0.0.1", "PEAK_SMTP_PORT": "2525", "PEAK_SMTP_MODE": "insecure",
        "PEAK_SMTP_FROM": "peak@corp.example"}


def test_a_person_gets_e_mail_only_with_an_address_and_smtp_and_never_through_a_channel(tmp_path):
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING + "people: {cy: cy@corp.example}\n")
    routing = load_routing(path, env=SMTP)
    assert routing.emailable(["cy", "dee", "eve@corp.example"]) == {"person:cy": ["cy@corp.example"],
                                                                   "person:eve@corp.example": ["eve@corp.example"]}
    [url] = routing.urls_for("person:cy")
    assert url.startswith("mailto://127.0.0.1:2525?") and "to=cy@corp.example" in url and "mode=insecure" in url
    assert routing.urls_for("person:dee") == ()  # no address: no e-mail, and not the default channel either
    assert load_routing(path, env={}).urls_for("person:cy") == ()  # no SMTP server: no e-mail


@pytest.mark.parametrize(("name", "value"), [("PEAK_SMTP_MODE", "tls"), ("PEAK_SMTP_PORT", "smtp")])
def test_bad_smtp_settings_are_refused_naming_the_setting(name, value):
    with pytest.raises(RoutingError) as caught:
        load_routing(env={**SMTP, name: value})
    assert name in str(caught.value)
