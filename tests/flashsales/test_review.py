"""Review: projected peak against the category limit and the purchase flow's FLAS headroom."""

from __future__ import annotations

from datetime import timedelta

import pytest

import flashsales
import readiness
from flashsales import capacity
from flashsales.errors import CapacityExceeded
from readiness import CollectedFacts
from tests.flashsales.helpers import (
    HEADROOM_RPS,
    NOW,
    RATELIMIT_USER,
    request,
    set_inventory,
    settings,
)

START = NOW + timedelta(days=1)


def _submit(engine, **overrides):
    return flashsales.submit(engine, request(**overrides), now=NOW, settings=settings())


def _peak_for(rps: float, limit: int = 600) -> float:
    """A declared peak whose proposed limit adds exactly ``rps`` requests/s (limits round to 10 rpm)."""
    return limit + rps * 60


def test_within_the_category_limit_no_change_is_needed(org_engine):
    result = _submit(org_engine, expected_multiplier=2.5)  # M-1's normal 200 rpm x 2.5 = 500 <= 600
    assert result.request.status == "no_change_needed"
    review = result.review
    assert review.decision == "no_change_needed"
    assert review.projected_peak_rpm == pytest.approx(500)
    assert review.figures["history"]["normal_rpm"] == pytest.approx(200)
    assert review.figures["history"]["peak_rpm"] == pytest.approx(600)
    assert any("no change needed" in r for r in review.reasoning)
    assert result.request.reserved_rps == 0


def test_above_the_limit_an_increase_is_proposed_with_its_figures(org_engine):
    result = _submit(org_engine)  # 200 x 8 = 1600 rpm against 600
    review = result.review
    assert result.request.status == "increase_requested"
    assert review.decision == "increase"
    assert review.projected_peak_rpm == pytest.approx(1600)
    assert review.proposed_limit_rpm == 1600
    assert review.extra_rps == pytest.approx(1000 / 60)
    assert review.headroom_rps == pytest.approx(HEADROOM_RPS)  # 100 running - 30 expected at CHK
    assert review.figures["headroom_bottleneck"] == "CHK" and review.figures["grantable_increase_rpm"] == 70 * 60
    platform = review.figures["platform"]
    assert platform["bottleneck"] == "CHK" and platform["capacity_rps"] == pytest.approx(100)
    chk = next(s for s in platform["systems"] if s["system_id"] == "CHK")
    assert chk["limited_by"] == "provisioned" and chk["flas_rps"] == 120 and chk["provisioned_rps"] == 100
    assert (chk["expected_p99_rps"], chk["expected_source"]) == (30, "baseline_fallback")
    assert result.request.reserved_rps == pytest.approx(1000 / 60)
    assert result.request.proposed_limit_rpm == 1600


def test_the_larger_of_the_declared_peak_and_history_times_multiplier_wins(org_engine):
    declared = _submit(org_engine, expected_peak_rpm=2000).review  # 2000 > 1600
    assert declared.projected_peak_rpm == 2000 and declared.figures["projected_basis"] == "declared peak"
    history = _submit(org_engine, expected_peak_rpm=700).review  # 1600 > 700
    assert history.projected_peak_rpm == pytest.approx(1600)
    assert history.figures["projected_basis"].startswith("history x multiplier")


def test_proposed_limits_round_up_to_the_step(org_engine):
    review = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=1234.5).review
    assert review.proposed_limit_rpm == 1240


def test_an_increase_beyond_the_headroom_is_refused_with_the_most_that_fits(org_engine):
    result = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(120))
    assert result.request.status == "rejected"
    review = result.review
    assert review.decision == "refuse"
    assert review.figures["max_grantable_limit_rpm"] == 600 + 70 * 60
    assert any("the platform cannot take it" in r for r in review.reasoning)
    assert result.request.reserved_rps == 0


def test_overlapping_sales_are_never_granted_more_than_the_headroom_together(org_engine):
    first = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(60))
    assert first.request.status == "increase_requested"
    second = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(60),
                     start=START + timedelta(hours=2))  # overlaps the first's last two hours
    assert second.request.status == "rejected"
    assert second.review.headroom_rps == pytest.approx(10)
    assert second.review.figures["overlapping"][0]["request_id"] == first.request.id
    fits = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(10),
                   start=START + timedelta(hours=2))
    assert fits.request.status == "increase_requested"
    later = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(60),
                    start=START + timedelta(hours=4))  # starts when the first ends
    assert later.request.status == "increase_requested"
    assert later.review.headroom_rps == pytest.approx(60)  # only the second-hour sale overlaps


def test_sales_that_do_not_overlap_each_other_share_the_headroom_at_each_instant(org_engine):
    _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(40), hours=2)
    _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(40), hours=2,
            start=START + timedelta(hours=2))
    across = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(30), hours=4)
    assert across.request.status == "increase_requested"  # at most 40 + 30 at any instant
    assert across.review.figures["reserved_rps"] == pytest.approx(40)


def test_cancelling_a_sale_releases_its_hold(org_engine):
    first = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(60))
    flashsales.cancel(org_engine, first.request.id, actor="bd.bea", now=NOW, settings=settings())
    second = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(60))
    assert second.request.status == "increase_requested"


def test_approval_checks_the_headroom_again(org_engine, tmp_path):
    result = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(60))
    set_inventory(org_engine, tmp_path, chk_replicas=2)  # CHK now runs 2 x 25 = 50 req/s, expects 30
    with pytest.raises(CapacityExceeded, match="only 20.00 are left"):
        flashsales.approve(org_engine, result.request.id, actor=RATELIMIT_USER, now=NOW, settings=settings())
    assert flashsales.get_request(org_engine, result.request.id).request.status == "increase_requested"
    approved = flashsales.approve(org_engine, result.request.id, actor=RATELIMIT_USER, limit_rpm=600 + 20 * 60,
                               now=NOW, settings=settings())
    assert approved.status == "approved" and approved.granted_limit_rpm == 1800
    assert approved.reserved_rps == pytest.approx(20)


def test_kapacity_forecasts_win_over_the_inventory_and_are_traffic_not_capacity(org_engine):
    class KapacityFacts:
        name, freshness = "kapacity", timedelta(days=1)

        def collect(self, engine):
            return CollectedFacts("kapacity", {"CHK": {"flas_rps": 90.0, "baseline_rps": 50.0},
                                               "PAY": {"flas_rps": 0.2, "baseline_rps": 0.1}})

    readiness.collect_and_store(org_engine, KapacityFacts())
    platform = capacity.purchase_flow_capacity(org_engine, (START, START + timedelta(hours=4)))
    assert platform.capacity_rps == 100.0 and platform.bottleneck == "CHK"  # running, not the 0.2 forecast
    by_id = {s.system_id: s for s in platform.systems}
    assert (by_id["CHK"].flas_rps, by_id["CHK"].expected_p99_rps, by_id["CHK"].expected_source) == (
        90.0, 50.0, "baseline_fallback")  # no stored forecast covers the window: Kapacity's Baseline
    assert by_id["PAY"].capacity_rps == 200.0


def test_without_known_capacity_an_increase_is_refused_and_says_why(engine, tmp_path):
    import yaml

    from tests.flashsales.helpers import catalog_doc

    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog_doc()))
    readiness.import_catalog_file(engine, path)
    flashsales.set_category(engine, "fashion", rate_limit_rpm=600)
    result = flashsales.submit(engine, request(expected_multiplier=None, expected_peak_rpm=900), now=NOW,
                            settings=settings())
    assert result.request.status == "rejected"
    assert any("headroom of the purchase flow unknown" in r and "CHK" in r for r in result.review.reasoning)


def test_peak_reserved_is_the_largest_total_at_any_instant():
    start = NOW
    holds = [capacity.Hold(1, "A", 10, start, start + timedelta(hours=2)),
             capacity.Hold(2, "B", 20, start + timedelta(hours=2), start + timedelta(hours=4)),
             capacity.Hold(3, "C", 5, start + timedelta(hours=1), start + timedelta(hours=3))]
    assert capacity.peak_reserved(holds, start, start + timedelta(hours=4)) == 25
    assert capacity.peak_reserved(holds, start, start + timedelta(hours=1)) == 10
    assert capacity.peak_reserved([], start, start + timedelta(hours=1)) == 0


def test_the_reasoning_counts_in_words(org_engine):
    """Counts a person reads in the review (the app, `flashsales show`, the messages): "1 overlapping
    sale", "0 overlapping sales", the history's days, never "sale(s)"."""
    first = _submit(org_engine, expected_multiplier=None, expected_peak_rpm=_peak_for(20))
    second = _submit(org_engine, start=START + timedelta(hours=2))  # from history x multiplier, overlapping
    assert any(r.endswith("held by 0 overlapping sales") for r in first.review.reasoning)
    assert any(r.endswith("held by 1 overlapping sale") for r in second.review.reasoning)
    days = second.review.figures["history"]["days"]
    assert days > 1 and any(r.startswith("history ") and f": {days} days at " in r for r in second.review.reasoning)
    assert not [r for review in (first.review, second.review) for r in review.reasoning if "(s)" in r]
