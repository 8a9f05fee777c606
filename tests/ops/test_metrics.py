"""/metrics: readiness gauges from the database (bounded labels), the serve process's own counters."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from governance import list_reviews, list_waivers
from operations import Service, build_registry, load_config
from readiness import (
    LOSING_STATUSES,
    CollectedFacts,
    active_systems,
    evaluation_lock,
    org_units,
    scores,
)
from readiness.facts import store_facts
from readiness.models import RuleResult, of_run
from readiness.reports import latest_run_id
from readiness.rulekit import CATEGORIES
from storage import get_engine, session_scope, utcnow
from tests.ops.support import copy_sqlite, http_get, serve_process
from tests.readiness.helpers import write_yaml


def samples(text: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def scrape(engine, **options) -> dict[str, list]:
    registry, metrics = build_registry(engine, cache_seconds=0, **options)
    return samples(generate_latest(registry).decode())


def test_serve_exposes_scores_for_company_domains_groups_and_teams_only(demo_db, tmp_path):
    db = copy_sqlite(demo_db, tmp_path / "demo.db")
    engine = get_engine(db)
    with serve_process(db, "--schedule", "0 0 1 1 *", "--no-catch-up") as (_, port):
        text = http_get(f"http://127.0.0.1:{port}/metrics").decode()
    got = samples(text)
    ratio = got["readiness_score_ratio"]
    levels = {s.labels["level"] for s in ratio}
    assert levels == {"company", "domain", "group", "team"}  # never one series per system
    units = {(u.level, u.key) for u in org_units(engine)} | {("company", "company")}
    assert {(s.labels["level"], s.labels["key"]) for s in ratio} == units
    assert all(0 <= s.value <= 1 for s in ratio)
    company = next(s for s in ratio if s.labels["level"] == "company")
    assert abs(company.value * 100 - scores(engine, "company")[0]["score"]) < 0.01  # scores() rounds
    outstanding = {s.labels["key"]: s.value for s in got["readiness_points_outstanding"]}
    assert abs(outstanding["company"] - scores(engine, "company")[0]["points_outstanding"]) < 0.01
    assert got["readiness_last_run_id"][0].value == latest_run_id(engine)
    assert got["readiness_database_up"][0].value == 1
    assert {s.labels["outcome"] for s in got["readiness_serve_cycles_total"]} == {"complete", "failed", "skipped"}
    assert not [name for name in got if name.endswith("_created")]


def test_rule_failures_waivers_and_reviews_match_the_database(demo_db, tmp_path):
    engine = get_engine(copy_sqlite(demo_db, tmp_path / "demo.db"))
    got = scrape(engine)
    run_id = latest_run_id(engine)
    with session_scope(engine) as session:
        # the losing statuses of readiness.scoring: results that lose points, and error results
        # the run's results include those it carries forward from earlier runs (incremental runs)
        losing = dict(session.execute(of_run(select(RuleResult.rule_id, func.count()), run_id).where(
            RuleResult.status.in_(sorted(LOSING_STATUSES))).group_by(RuleResult.rule_id)).all())
    failures = {s.labels["rule_id"]: s.value for s in got["readiness_rule_failures"]}
    assert failures == losing and losing
    assert {s.labels["category"] for s in got["readiness_rule_failures"]} <= set(CATEGORIES)
    waivers = {s.labels["state"]: s.value for s in got["readiness_waivers"]}
    now = utcnow()
    for state in waivers:
        assert waivers[state] == len(list_waivers(engine, state=state, now=now))
    assert got["readiness_reviews_pending"][0].value == len(list_reviews(engine, state="pending", now=now)) > 0
    bases = {s.labels["basis"] for s in got["readiness_confidence_ratio"]}
    assert {"automated", "attested", "stale", "waiver"} <= bases


def test_forecast_capacity_appears_per_system_once_kapacity_facts_exist(demo_db, tmp_path):
    engine = get_engine(copy_sqlite(demo_db, tmp_path / "demo.db"))
    assert "readiness_forecast_capacity_rps" not in scrape(engine)
    system = active_systems(engine)[0]
    store_facts(engine, CollectedFacts("kapacity", {system.system_id: {"baseline_rps": 120.5, "flas_rps": 964.0}}))
    got = {(s.labels["system_id"], s.labels["traffic_class"], s.labels["forecast"]): s.value
           for s in scrape(engine)["readiness_forecast_capacity_rps"]}
    assert got == {(system.system_id, system.traffic_class, "baseline"): 120.5,
                   (system.system_id, system.traffic_class, "flas"): 964.0}


def test_a_scrape_answers_when_the_database_is_away(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'missing' / 'peak.db'}")
    got = scrape(engine)
    assert got["readiness_database_up"][0].value == 0 and "readiness_score_ratio" not in got


def test_cycles_count_outcomes_duration_and_source_errors(org, tmp_path):
    url, engine, _ = org
    config = load_config(write_yaml(tmp_path / "serve.yaml", {"sources": [{"type": "inventory", "path": "gone.json"}]}))
    registry, metrics = build_registry(engine, sources=["inventory"], cache_seconds=0)
    service = Service(engine, config, metrics=metrics, clock=lambda: utcnow() + timedelta(days=3))
    assert service.run_cycle().outcome == "complete"
    with evaluation_lock(engine):
        assert service.run_cycle().outcome == "skipped"
    got = samples(generate_latest(registry).decode())
    cycles = {s.labels["outcome"]: s.value for s in got["readiness_serve_cycles_total"]}
    assert cycles == {"complete": 1, "failed": 0, "skipped": 1}
    assert {s.labels["source"]: s.value for s in got["readiness_serve_source_errors_total"]} == {"inventory": 1}
    assert got["readiness_serve_run_duration_seconds_count"][0].value == 1
    assert got["readiness_serve_last_success_timestamp_seconds"][0].value > 0
    assert {s.labels["source"]: s.value for s in got["readiness_source_up"]}["inventory"] == 0


def test_the_outbox_is_counted_by_status(engine):
    import notifications

    routing = notifications.Routing()
    for key in ("a", "b"):
        notifications.enqueue(engine, notifications.Draft("readiness", "digest", key, "s", "b", {"team:x": []}),
                              routing)
    got = scrape(engine)
    by_status = {s.labels["status"]: s.value for s in got["readiness_notifications"]}
    assert by_status["skipped"] == 2 and by_status["sent"] == 0 and by_status["failed"] == 0
