"""Merchant traffic profiles, the unmanaged flash-sale report, and known events for Kapacity."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

import flashsales
from flashsales import history, reports
from flashsales.errors import HistoryUnavailable
from tests.flashsales.helpers import (
    NOW,
    PLATFORM_RPS,
    RATELIMIT_USER,
    request,
    settings,
    write_history,
)


def test_a_profile_gives_the_normal_daily_peak_the_busiest_interval_and_the_spike_ratio(tmp_path):
    profile = history.load_profile(write_history(tmp_path / "m.csv", normal_rpm=200, spike=3.0))
    assert profile.step_seconds == 3600 and profile.days == 7 and profile.points == 168
    assert profile.normal_rpm == pytest.approx(200)
    assert profile.peak_rpm == pytest.approx(600)
    assert profile.spike_ratio == pytest.approx(3.0)
    assert profile.busiest_hour == 20


def test_real_minute_history_with_offsets_and_gaps_loads(data_dir):
    profile = history.load_profile(data_dir / "nasa_http_requests_1min.csv.gz")
    assert profile.step_seconds == 60
    assert profile.peak_rpm == 405  # the STS-70 launch day's busiest minute (SOURCES.md)
    assert 50 < profile.normal_rpm < profile.peak_rpm
    assert profile.first.startswith("1995-07-01")


@pytest.mark.parametrize(("content", "words"), [
    ("when,count\n2026-01-01T00:00:00,1\n", "timestamp"),
    ("timestamp,value\nyesterday,1\n2026-01-01T00:05:00,2\n", "line 2.*not ISO 8601"),
    ("timestamp,value\n2026-01-01T00:00:00,-1\n2026-01-01T00:05:00,2\n", "line 2.*(negative|at least 0)"),
])
def test_an_unusable_history_names_the_file(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(HistoryUnavailable, match=words) as caught:
        history.load_profile(path)
    assert str(path) in str(caught.value)


def test_a_missing_history_file_is_reported_in_the_review_not_fatal(org_engine, tmp_path):
    flashsales.upsert_merchant(org_engine, "M-1", name="Threads", category="fashion",
                            history_path=tmp_path / "gone.csv")
    raw = request(expected_peak_rpm=900)
    result = flashsales.submit(org_engine, raw, now=NOW, settings=settings())
    assert result.review.projected_peak_rpm == 900
    assert any("history" in r and "not found" in r for r in result.review.reasoning)


def test_the_unmanaged_report_flags_categories_whose_spikes_exceed_the_headroom_left(org_engine):
    # Ticketing: T-1 normal 50 rpm x spike 20 = 1000 rpm, capped by the 300 rpm limit = 5 req/s.
    # Fashion: M-1 200 x max ratio 3 = 600 rpm = 10 req/s. Headroom 100 running - 30 expected
    # at CHK = 70 req/s: nothing exceeds.
    report = reports.unmanaged_report(org_engine, at=NOW, settings=settings())
    rows = {r.category: r for r in report.categories}
    assert report.capacity_rps == PLATFORM_RPS and report.bottleneck == "CHK"
    assert rows["ticketing"].spike_ratio == pytest.approx(20) and rows["ticketing"].admitted_rps == pytest.approx(5)
    assert rows["fashion"].spike_rpm == pytest.approx(600) and rows["fashion"].headroom_left_rps == pytest.approx(60)
    assert rows["groceries"].merchants_with_history == 0 and rows["groceries"].could_exceed is None
    assert not any(r.could_exceed for r in report.categories)
    # An approved sale holding 65 req/s during its window leaves 5: the fashion spike no longer fits.
    sale = flashsales.submit(org_engine, request(expected_multiplier=None, expected_peak_rpm=600 + 65 * 60),
                          now=NOW, settings=settings()).request
    flashsales.approve(org_engine, sale.id, actor=RATELIMIT_USER, now=NOW, settings=settings())
    during = reports.unmanaged_report(org_engine, at=sale.starts_at + timedelta(hours=1), settings=settings())
    rows = {r.category: r for r in during.categories}
    assert during.reserved_rps == pytest.approx(65) and during.headroom_rps == pytest.approx(5)
    assert rows["fashion"].could_exceed is True and rows["fashion"].headroom_left_rps == pytest.approx(-5)
    assert rows["ticketing"].could_exceed is False and rows["ticketing"].limit_could_exceed is False
    assert during.categories[0].category == "fashion"  # least headroom left first
    after = reports.unmanaged_report(org_engine, at=sale.ends_at, settings=settings())
    assert after.reserved_rps == 0


def test_known_events_list_sales_going_ahead_with_systems_window_and_multiplier(org_engine):
    approved = flashsales.submit(org_engine, request(), now=NOW, settings=settings()).request
    flashsales.approve(org_engine, approved.id, actor=RATELIMIT_USER, now=NOW, settings=settings())
    small = flashsales.submit(org_engine, request(expected_multiplier=2, start=NOW + timedelta(days=3)),
                           now=NOW, settings=settings()).request
    pending = flashsales.submit(org_engine, request(), now=NOW, settings=settings()).request
    refused = flashsales.submit(org_engine, request(expected_multiplier=None, expected_peak_rpm=99_000),
                             now=NOW, settings=settings()).request
    assert (pending.status, refused.status) == ("increase_requested", "rejected")
    events = reports.known_events(org_engine, settings=settings())
    assert [e.request_id for e in events] == [approved.id, small.id]
    first = events[0]
    assert first.system_ids == ("CHK", "PAY")
    assert first.starts_at == (NOW + timedelta(days=1)).replace(tzinfo=UTC)
    assert first.multiplier == pytest.approx(8) and first.extra_rps == pytest.approx(1000 / 60, abs=1e-3)
    assert events[1].multiplier == pytest.approx(2) and events[1].extra_rps == 0
    window = reports.known_events(org_engine, start=NOW + timedelta(days=2), end=NOW + timedelta(days=4))
    assert [e.request_id for e in window] == [small.id]


def test_kapacity_reads_the_events_export_with_one_multiplier_per_system(org_engine, tmp_path):
    kapacity = pytest.importorskip("kapacity")
    sale = flashsales.submit(org_engine, request(), now=NOW, settings=settings()).request
    flashsales.approve(org_engine, sale.id, actor=RATELIMIT_USER, now=NOW, settings=settings())
    rows = reports.kapacity_events(org_engine, settings=settings())
    # Admitted 1600 rpm against a normal 200 rpm: 1400 rpm = 23.3 req/s more at each system.
    assert {r["series"]: r["multiplier"] for r in rows} == {
        "CHK": pytest.approx(1 + (1400 / 60) / 30, abs=1e-3), "PAY": pytest.approx(1 + (1400 / 60) / 40, abs=1e-3)}
    path = tmp_path / "events.csv"
    path.write_text("name,start,end,multiplier,series\n"
                    + "".join(f"{r['name']},{r['start']},{r['end']},{r['multiplier']},{r['series']}\n" for r in rows))
    events = kapacity.read_events(path)
    assert [(e.series, e.start) for e in events] == [("CHK", rows[0]["start"]), ("PAY", rows[1]["start"])]


@pytest.mark.parametrize("reader", ["kapacity", "own"])
def test_both_history_readers_agree(tmp_path, monkeypatch, reader):
    if reader == "own":
        monkeypatch.setattr(history, "_kapacity_reader", lambda: None)
    profile = history.load_profile(write_history(tmp_path / "m.csv", normal_rpm=120, spike=5.0))
    assert profile.reader == ("flashsales.history" if reader == "own" else "kapacity.read_history")
    assert (profile.normal_rpm, profile.peak_rpm, profile.busiest_hour) == (pytest.approx(120), pytest.approx(600), 20)
