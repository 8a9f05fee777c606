"""Each flash-sale message reaches its documented audience's channels, and no other."""

from __future__ import annotations

import pytest

import flashsales
from tests.flashsales.helpers import NOW, RATELIMIT_USER, request, settings
from tests.notifications.sinks import webhook_sink


@pytest.fixture
def routed(tmp_path, monkeypatch):
    with webhook_sink() as sink:
        path = tmp_path / "routing.yaml"
        path.write_text(f"default: {sink.url('default')}\n"
                        f"roles: {{readiness_team: {sink.url('readiness')}, ratelimit_team: {sink.url('ratelimits')}}}\n"
                        f"teams: {{checkout: {sink.url('checkout')}, reports: {sink.url('reports')}}}\n"
                        f"groups: {{pay-core: {sink.url('core')}}}\n")
        monkeypatch.setenv("PEAK_NOTIFY_ROUTING", str(path))
        yield sink


def test_each_flash_sale_message_goes_to_its_audience_only(org_engine, routed):
    config = settings()
    sale = flashsales.submit(org_engine, request(), now=NOW, settings=config).request
    flashsales.approve(org_engine, sale.id, actor=RATELIMIT_USER, now=NOW, settings=config)
    events = {path: [t.split("] ")[1].split(":")[0] for t in routed.titles(path)] for path in routed.posts}
    assert events == {
        # the request's own people (reporter, key account manager, solution engineer)
        "default": ["new flash sale announced", "temporary rate-limit increase approved"],
        "readiness": ["new flash sale announced", "temporary rate-limit increase requested",
                      "temporary rate-limit increase approved"],
        "ratelimits": ["temporary rate-limit increase requested"],
        "checkout": ["temporary rate-limit increase approved"],  # a purchase-flow team with its own channel
        "core": ["temporary rate-limit increase approved"],  # payments (purchase flow) falls back to its group
    }  # the reports team (not in the purchase flow) hears nothing
    approved = routed.posts["checkout"][0]["message"]
    assert "To: cy.checkout@example.com, dee.checkout@example.com" in approved
    assert "bd.bea@" not in approved and "rob.ready@" not in approved


def test_a_decision_that_changes_nothing_is_recorded_not_broadcast(org_engine, routed):
    sale = flashsales.submit(org_engine, request(expected_multiplier=2), now=NOW, settings=settings()).request
    assert all("no rate-limit change" not in t for path in routed.posts for t in routed.titles(path))
    notes = flashsales.get_request(org_engine, sale.id).notifications
    assert [(n.event, n.status) for n in notes if n.event == "no_change_needed"] == [("no_change_needed", "recorded")]
    assert all("None" not in post["message"] for posts in routed.posts.values() for post in posts)
