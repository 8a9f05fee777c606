"""Storing runs, reading them back, trends, and the facts offered to the readiness rules."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import pytest

from perftest.analysis import BreakingPoint, Summary, Window
from perftest.facts import PerftestFactSource
from perftest.runner import RunResult
from perftest.spec import Endpoint, TestSpec
from perftest.store import list_runs, save_run, trends, windows_for
from storage import get_engine, migrate

NOW = datetime(2026, 11, 20, 12, 0, 0)


def _result(system="pay-api", test_type="load", verdict="pass", p95=30.0, started=NOW, sustained=None, rps=50.0):
    spec = TestSpec(test_type=test_type, endpoints=[Endpoint(url="http://127.0.0.1:9/")], rps=rps, system_id=system)
    summary = Summary(requests=500, achieved_rps=rps, error_rate=0.0, p50_ms=10, p90_ms=20, p95_ms=p95, p99_ms=p95 * 2,
                      max_ms=p95 * 3, avg_ms=12, iterations=500, dropped_iterations=0, test_run_duration_s=10,
                      thresholds={"http_req_duration:p(95)<500": verdict == "pass"})
    window = Window(label="steady", start_s=0, end_s=10, target_rps=rps, requests=500, achieved_rps=rps, error_rate=0,
                    p95_ms=p95, p99_ms=p95 * 2, dropped=0, within_slo=True)
    return RunResult(
        spec=spec, verdict=verdict, reasons=[] if verdict == "pass" else ["threshold crossed"], k6_version="1.1.0",
        k6_exit_code=0 if verdict == "pass" else 99, k6_outcome="passed", killed=False, started_at=started,
        finished_at=started + timedelta(seconds=10), script_sha256="abc", summary=summary, phases=[window],
        breaking=None if sustained is None else BreakingPoint(sustained, sustained + 5, "at x"),
    )


def test_a_stored_run_reads_back_with_summary_windows_and_settings(engine):
    run_id = save_run(engine, _result())
    [row] = list_runs(engine)
    assert row.run_id == run_id and row.verdict == "pass" and row.p95_ms == 30.0
    assert row.slo == {"p95_ms": 500.0, "p99_ms": 1000.0, "error_rate": 0.01}
    [w] = windows_for(engine, run_id)
    assert w.label == "steady" and w.requests == 500


def test_trends_follow_the_headline_figure_per_system_and_test(engine):
    for day, p95 in enumerate([40.0, 35.0, 30.0]):
        save_run(engine, _result(p95=p95, started=NOW + timedelta(days=day)))
    save_run(engine, _result(test_type="overload", sustained=90.0))
    save_run(engine, _result(test_type="overload", sustained=110.0, started=NOW + timedelta(days=1)))
    by_type = {t["test_type"]: t for t in trends(engine, system_id="pay-api")}
    assert (by_type["load"]["first"], by_type["load"]["last"], by_type["load"]["change"]) == (40.0, 30.0, -10.0)
    assert by_type["overload"]["metric"] == "breaking_point_rps" and by_type["overload"]["change"] == 20.0


def test_facts_offer_the_latest_judged_run_per_test_with_freshness_and_target(engine):
    save_run(engine, _result(started=NOW - timedelta(days=10)))
    save_run(engine, _result(verdict="invalid", started=NOW - timedelta(days=1)))  # no evidence
    save_run(engine, _result(test_type="overload", sustained=40.0, verdict="fail", started=NOW - timedelta(days=2)))
    save_run(engine, _result(system=None))  # ad-hoc run: about no catalogued system
    source = PerftestFactSource(now=lambda: NOW)
    facts = source.facts(engine)
    assert set(facts) == {"pay-api"}
    tests = facts["pay-api"]["tests"]
    assert tests["load"]["verdict"] == "pass" and tests["load"]["age_days"] == 10.0
    assert tests["load"]["slos_met"] and tests["load"]["at_or_above_target"]
    assert tests["overload"]["sustained_rps"] == 40.0 and not tests["overload"]["at_or_above_target"]
    assert facts["pay-api"]["latest_attempts"]["load"]["verdict"] == "invalid"
    assert facts["pay-api"]["runs_total"] == 3


def test_spike_facts_carry_the_measured_ramp_time(engine):
    result = _result(test_type="spike", rps=80)
    result.peak_reached_after_s = 61.0
    save_run(engine, result)
    spike = PerftestFactSource(now=lambda: NOW).facts(engine)["pay-api"]["tests"]["spike"]
    assert spike["ramp_seconds"] == 61.0 and spike["sustained_rps"] == 80


def test_fact_source_fits_the_readiness_protocol(engine):
    from readiness import CollectedFacts, FactSource

    source = PerftestFactSource(now=lambda: NOW)
    assert isinstance(source, FactSource)
    save_run(engine, _result())
    collected = source.collect(engine)
    assert isinstance(collected, CollectedFacts) and collected.source == "perftest"
    assert "pay-api" in collected.by_system


@pytest.mark.postgres
def test_runs_round_trip_through_postgresql():
    psycopg = pytest.importorskip("psycopg")
    base = os.environ.get("PEAK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"perftest_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(base, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {base}: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = base.rsplit("/", 1)[0] + "/" + name
        engine = get_engine(url)
        migrate(engine)
        run_id = save_run(engine, _result(test_type="overload", sustained=75.0))
        [row] = list_runs(engine)
        assert row.run_id == run_id and row.breaking_point_rps == 75.0 and row.started_at == NOW
        engine.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_perftest_facts_feed_the_performance_rules(engine):
    """The rules read perftest's facts as documented: a found breaking point and met SLOs pass."""
    from readiness import Facts, Status, SystemView
    from rules import perf_overload_test, perf_slos_under_test

    save_run(engine, _result(started=NOW - timedelta(days=3)))
    save_run(engine, _result(test_type="overload", sustained=120.0, started=NOW - timedelta(days=2)))
    facts = Facts(by_source={"perftest": PerftestFactSource(now=lambda: NOW).facts(engine)["pay-api"]})
    system = SystemView(system_id="pay-api", name="Pay API", tier="1", traffic_class="FLAS", public=True,
                        purchase_flow=True, team="payments", domain="pay")
    overload = perf_overload_test.evaluate(system, facts)
    assert overload.status is Status.PASS and "120 rps" in overload.message
    assert perf_slos_under_test.evaluate(system, facts).status is Status.PASS
