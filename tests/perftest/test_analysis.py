"""Reading k6 output: summary JSON, windowed points, breaking point, failover recovery."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from perftest.analysis import (
    Window,
    breaking_point,
    failover_analysis,
    parse_points,
    parse_summary,
    phase_windows,
)
from perftest.spec import SLO, Endpoint, OverloadSettings, TestSpec

T0 = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


def _stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


def _write_points(path, requests, drops=()):
    """requests: (start_s, duration_ms, ok, phase)."""
    with gzip.open(path, "wt") as out:
        out.write(json.dumps({"type": "Metric", "metric": "http_req_duration", "data": {"type": "trend"}}) + "\n")
        for start, dur, ok, phase in requests:
            tags = {"expected_response": "true" if ok else "false", "phase": phase, "status": "200" if ok else "503"}
            end = _stamp(start + dur / 1000)
            out.write(json.dumps({"metric": "http_reqs", "type": "Point", "data": {"time": end, "value": 1, "tags": tags}}) + "\n")
            out.write(json.dumps({"metric": "http_req_duration", "type": "Point", "data": {"time": end, "value": dur, "tags": tags}}) + "\n")
        for t in drops:
            out.write(json.dumps({"metric": "dropped_iterations", "type": "Point", "data": {"time": _stamp(t), "value": 1, "tags": {}}}) + "\n")


def test_summary_figures_and_threshold_outcomes_are_read(tmp_path):
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({
        "state": {"testRunDurationMs": 10000},
        "metrics": {
            "http_req_duration": {"values": {"med": 20, "p(90)": 30, "p(95)": 40, "p(99)": 90, "max": 120, "avg": 22},
                                  "thresholds": {"p(95)<50": {"ok": True}, "p(99)<80": {"ok": False}}},
            "http_reqs": {"values": {"count": 990, "rate": 99.0}},
            "http_req_failed": {"values": {"rate": 0.002}, "thresholds": {"rate<0.01": {"ok": True}}},
            "iterations": {"values": {"count": 990}},
            "dropped_iterations": {"values": {"count": 10}},
        },
    }))
    s = parse_summary(path)
    assert (s.requests, s.achieved_rps, s.p95_ms, s.p99_ms, s.error_rate) == (990, 99.0, 40, 90, 0.002)
    assert s.dropped_share == pytest.approx(0.01)
    assert s.thresholds == {"http_req_duration:p(95)<50": True, "http_req_duration:p(99)<80": False,
                            "http_req_failed:rate<0.01": True}


def test_points_are_grouped_by_phase_and_judged_against_the_slo(tmp_path):
    spec = TestSpec(test_type="overload", endpoints=[Endpoint(url="http://127.0.0.1/")], rps=10,
                    slo=SLO(p95_ms=100, p99_ms=200, error_rate=0.01),
                    overload=OverloadSettings(step_s=2, start_factor=1, max_factor=3, step_factor=1))
    reqs = []
    for i in range(20):  # step_0 at 10 rps: fast
        reqs.append((i * 0.1, 20.0, True, "step_0"))
    for i in range(40):  # step_1 at 20 rps: fast
        reqs.append((2 + i * 0.05, 25.0, True, "step_1"))
    for i in range(60):  # step_2 at 30 rps: slow and failing
        reqs.append((4 + i / 30, 400.0, i % 2 == 0, "step_2"))
    path = tmp_path / "points.json.gz"
    _write_points(path, reqs, drops=[5.0, 5.5])
    parsed = parse_points(path)
    assert len(parsed) == 120 and parsed.origin == pytest.approx(T0.timestamp())
    windows = phase_windows(spec, parsed)
    assert [w.label for w in windows] == ["step_0", "step_1", "step_2"]
    assert [w.requests for w in windows] == [20, 40, 60]
    assert [w.within_slo for w in windows] == [True, True, False]
    assert windows[2].dropped == 2
    assert any("error rate" in b for b in windows[2].breaches)
    bp = breaking_point(windows)
    assert (bp.sustained_rps, bp.broke_at_rps) == (20, 30)


def _w(rate, ok):
    return Window(label=f"r{rate}", start_s=0, end_s=1, target_rps=rate, requests=10, achieved_rps=rate,
                  error_rate=0.0, p95_ms=1, p99_ms=1, dropped=0, within_slo=ok, breaches=[] if ok else ["p95"])


def test_breaking_point_is_the_last_good_step_before_a_confirmed_break():
    bp = breaking_point([_w(10, True), _w(20, True), _w(30, False), _w(40, False), _w(50, True)])
    assert (bp.sustained_rps, bp.broke_at_rps) == (20, 30)


def test_a_lone_bad_step_followed_by_a_good_one_is_a_blip_not_the_break():
    bp = breaking_point([_w(10, True), _w(20, False), _w(30, True), _w(40, False), _w(50, False)])
    assert (bp.sustained_rps, bp.broke_at_rps) == (30, 40)


def test_a_bad_last_step_is_a_break():
    assert breaking_point([_w(10, True), _w(20, False)]).broke_at_rps == 20


def test_a_service_that_never_breaks_reports_the_top_rate_and_no_break():
    bp = breaking_point([_w(10, True), _w(20, True)])
    assert (bp.sustained_rps, bp.broke_at_rps) == (20, None)
    assert "did not break up to 20" in bp.reason


def test_a_service_broken_from_the_first_step_has_no_sustained_rate():
    assert breaking_point([_w(10, False), _w(20, False)]).sustained_rps is None


def _failover_points(tmp_path, outage=(5.0, 7.0), end=12.0):
    reqs = []
    t = 0.0
    while t < end:
        ok = not (outage[0] <= t < outage[1])
        reqs.append((t, 15.0 if ok else 1.0, ok, "steady"))
        t += 0.1
    path = tmp_path / "p.json.gz"
    _write_points(path, reqs)
    return parse_points(path)


def test_failover_recovery_is_measured_from_the_trigger_to_the_first_good_request_after_the_last_bad(tmp_path):
    reqs = _failover_points(tmp_path)
    fo = failover_analysis(reqs, trigger_s=4.8, slo=SLO(), settle_s=2)
    assert fo.disrupted and fo.recovered
    assert fo.time_to_recovery_s == pytest.approx(7.0 - 4.8, abs=0.11)
    assert fo.failed_requests == 20


def test_failover_that_never_settles_is_not_recovered(tmp_path):
    reqs = _failover_points(tmp_path, outage=(5.0, 11.0), end=12.0)
    fo = failover_analysis(reqs, trigger_s=4.8, slo=SLO(), settle_s=2)
    assert fo.disrupted and not fo.recovered and fo.time_to_recovery_s is None


def test_failover_without_disruption_recovers_at_once(tmp_path):
    reqs = _failover_points(tmp_path, outage=(100, 101))
    fo = failover_analysis(reqs, trigger_s=4.8, slo=SLO(), settle_s=2)
    assert not fo.disrupted and fo.time_to_recovery_s == 0.0
