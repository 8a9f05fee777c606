"""The lean read models dashboards use: exact rows on a small evaluated organisation, on both databases.

Three systems (SYS-1 critical and SYS-3 low in team checkout, domain pay; SYS-2 high in team
fraud, domain risk) judged by three rules with known points: ``steady`` (medium, 5 points)
passes everywhere, ``half_low`` (high, 7.5) gives the low-tier system half credit, and
``needs_data`` (critical, 10) has no data for SYS-2.
"""

from __future__ import annotations

import pytest

import readiness
from readiness import import_catalog_file, load_rules, run_evaluation
from storage import get_engine
from tests.readiness.helpers import catalog_doc, write_yaml

RULE = '''
from readiness.rulekit import RuleMeta, failed, no_data, passed
META = RuleMeta(id="{id}", title="A rule with known points", category="{category}", severity="{severity}",
                rationale="Because the read models need results whose points are known.",
                remediation="Nothing to do: this rule only exists in a test.")
def evaluate(system, facts):
    return {body}
'''
RULES = {
    "steady": ("medium", "resilience", "passed('ok')"),
    "half_low": ("high", "capacity", "failed('half', credit=0.5) if system.tier == 'low' else passed()"),
    "needs_data": ("critical", "observability", "no_data('no facts') if system.system_id == 'SYS-2' else passed()"),
}


@pytest.fixture
def evaluated(any_engine, tmp_path) -> tuple:
    """The small organisation evaluated once with the three rules: (engine, run id)."""
    import_catalog_file(any_engine, write_yaml(tmp_path / "c.yaml", catalog_doc()))
    folder = tmp_path / "rules"
    folder.mkdir()
    for rule_id, (severity, category, body) in RULES.items():
        (folder / f"{rule_id}.py").write_text(RULE.format(id=rule_id, severity=severity, category=category,
                                                          body=body))
    report = run_evaluation(any_engine, ruleset=load_rules([folder], builtin=False, entry_point_packs=False))
    return any_engine, report.run_id


def test_rule_status_counts_give_systems_per_rule_and_status(evaluated):
    engine, run_id = evaluated
    assert readiness.rule_status_counts(engine, run_id) == [
        {"rule_id": "half_low", "status": "fail", "systems": 1},
        {"rule_id": "half_low", "status": "pass", "systems": 2},
        {"rule_id": "needs_data", "status": "no_data", "systems": 1},
        {"rule_id": "needs_data", "status": "pass", "systems": 2},
        {"rule_id": "steady", "status": "pass", "systems": 3},
    ]


def _cells(rows: list[dict]) -> dict[tuple[str, str], tuple]:
    return {(r["unit"], r["rule_id"]): (pytest.approx(r["possible"]), pytest.approx(r["earned"]), r["results"],
                                        r["short"]) for r in rows}


def test_rule_points_sum_each_domains_points_per_rule(evaluated):
    engine, run_id = evaluated
    assert _cells(readiness.rule_points(engine, run_id)) == {
        ("pay", "half_low"): (15.0, 11.25, 2, 1),
        ("pay", "needs_data"): (20.0, 20.0, 2, 0),
        ("pay", "steady"): (10.0, 10.0, 2, 0),
        ("risk", "half_low"): (7.5, 7.5, 1, 0),
        ("risk", "needs_data"): (10.0, 0.0, 1, 1),
        ("risk", "steady"): (5.0, 5.0, 1, 0),
    }


def test_rule_points_inside_a_domain_are_summed_per_team(evaluated):
    engine, run_id = evaluated
    assert _cells(readiness.rule_points(engine, run_id, domain="pay")) == {
        ("checkout", "half_low"): (15.0, 11.25, 2, 1),
        ("checkout", "needs_data"): (20.0, 20.0, 2, 0),
        ("checkout", "steady"): (10.0, 10.0, 2, 0),
    }
    assert readiness.rule_points(engine, run_id, domain="nowhere") == []


def test_system_results_list_every_result_of_one_system_by_rule(evaluated):
    engine, run_id = evaluated
    rows = readiness.system_results(engine, run_id, "SYS-3")
    assert [(r["rule_id"], r["status"], r["credit"], r["weight"], r["earned"], r["counted"], r["message"])
            for r in rows] == [
        ("half_low", "fail", 0.5, 7.5, 3.75, True, "half"),
        ("needs_data", "pass", 1.0, 10.0, 10.0, True, ""),
        ("steady", "pass", 1.0, 5.0, 5.0, True, "ok"),
    ]
    assert readiness.system_results(engine, run_id, "SYS-404") == []


def test_rule_results_list_the_losing_systems_most_points_lost_first(evaluated):
    engine, run_id = evaluated
    assert [(r["system_id"], r["status"], r["message"], r["points_lost"])
            for r in readiness.rule_results(engine, run_id, "needs_data")] == [("SYS-2", "no_data", "no facts", 10.0)]
    assert [(r["system_id"], r["points_lost"]) for r in readiness.rule_results(engine, run_id, "half_low")] == \
        [("SYS-3", 3.75)]
    assert readiness.rule_results(engine, run_id, "steady") == []


def test_rule_results_take_any_status_set_and_a_limit(evaluated):
    engine, run_id = evaluated
    passing = readiness.rule_results(engine, run_id, "steady", statuses=readiness.MET_STATUSES)
    assert [(r["system_id"], r["status"], r["points_lost"]) for r in passing] == \
        [("SYS-1", "pass", 0.0), ("SYS-2", "pass", 0.0), ("SYS-3", "pass", 0.0)]
    assert len(readiness.rule_results(engine, run_id, "steady", statuses={"pass"}, limit=2)) == 2


def test_score_rows_give_whole_levels_without_the_confidence(evaluated):
    engine, run_id = evaluated
    rows = {r["key"]: r for r in readiness.score_rows(engine, run_id, ("system", "domain"))}
    assert set(rows) == {"SYS-1", "SYS-2", "SYS-3", "pay", "risk"}
    assert set(rows["SYS-3"]) == {"level", "key", "name", "parent_key", "score", "points_possible",
                                  "points_outstanding", "failing_rules"}
    sys3, sys2 = rows["SYS-3"], rows["SYS-2"]
    assert (sys3["level"], sys3["parent_key"], sys3["points_possible"], sys3["points_outstanding"],
            sys3["failing_rules"]) == ("system", "checkout", 22.5, 3.75, 1)
    assert sys3["score"] == pytest.approx(100 * 18.75 / 22.5, abs=1e-3)
    assert sys2["score"] == pytest.approx(100 * 12.5 / 22.5, abs=1e-3) and rows["SYS-1"]["score"] == 100.0
    assert rows["risk"]["score"] == pytest.approx(sys2["score"], abs=1e-3)
    scored = {r["key"]: r["score"] for r in readiness.scores(engine, "system", run_id=run_id)}
    assert scored == {key: round(rows[key]["score"], 2) for key in scored}


def test_system_catalog_gives_systems_in_service_with_team_and_domain(evaluated):
    engine, _ = evaluated
    assert readiness.system_catalog(engine) == [
        {"system_id": "SYS-1", "name": "checkout-api", "tier": "critical", "traffic_class": "FLAS",
         "public": True, "purchase_flow": True, "team": "checkout", "domain": "pay"},
        {"system_id": "SYS-2", "name": "fraud-scoring", "tier": "high", "traffic_class": "FLAS",
         "public": False, "purchase_flow": False, "team": "fraud", "domain": "risk"},
        {"system_id": "SYS-3", "name": "receipts", "tier": "low", "traffic_class": "Baseline",
         "public": False, "purchase_flow": False, "team": "checkout", "domain": "pay"},
    ]


def test_run_started_names_when_a_run_started(evaluated):
    engine, run_id = evaluated
    assert readiness.run_started(engine, run_id) == str(readiness.get_run(engine, run_id).started_at)
    assert readiness.run_started(engine, run_id + 1) is None


def test_schema_ready_only_once_the_database_is_migrated(evaluated, tmp_path):
    engine, _ = evaluated
    assert readiness.schema_ready(engine) is True
    assert readiness.schema_ready(get_engine(f"sqlite:///{tmp_path / 'empty.db'}")) is False
