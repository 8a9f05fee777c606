"""The rules engine: discovery, isolation of broken rules, statuses, scores, reproducibility."""

from __future__ import annotations

import textwrap
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from readiness import (
    active_systems,
    create_season,
    import_catalog_file,
    import_inventory_file,
    load_rules,
    rule_summary,
    run_evaluation,
    scores,
)
from readiness import engine as engine_module
from readiness.models import EvaluationRun, RuleResult, RuleSummary
from readiness.rulebook import RuleSet
from readiness.scoring import BLOCKER_CAP, TIER_WEIGHTS
from storage import session_scope
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml

GOOD_RULE = '''
from readiness.rulekit import RuleMeta, passed, failed
META = RuleMeta(id="{id}", title="A test rule here", category="{category}", severity="{severity}",
                rationale="Because tests need a rule that does something.",
                remediation="Do what the test tells you to do, then re-run.", blocker={blocker})
def evaluate(system, facts):
    return {body}
'''


def write_rule(folder, rule_id, body="passed('ok')", category="resilience", severity="medium", blocker=False):
    folder.mkdir(exist_ok=True)
    path = folder / f"{rule_id}.py"
    path.write_text(GOOD_RULE.format(id=rule_id, body=body, category=category, severity=severity, blocker=blocker))
    return path


@pytest.fixture
def org(any_engine, tmp_path):
    import_catalog_file(any_engine, write_yaml(tmp_path / "c.yaml", catalog_doc()))
    return any_engine


def only(folder) -> RuleSet:
    return load_rules([folder], builtin=False, entry_point_packs=False)


def stored_results(engine, run_id) -> dict[tuple[str, str], RuleResult]:
    with session_scope(engine) as session:
        rows = session.exec(select(RuleResult).where(RuleResult.run_id == run_id)).scalars()
        return {(r.system_id, r.rule_id): r for r in rows}


def test_broken_rule_module_gives_error_results_and_every_other_rule_is_stored(org, tmp_path):
    folder = tmp_path / "extra"
    write_rule(folder, "always_passes")
    (folder / "broken_module.py").write_text("import this_module_does_not_exist\n")
    report = run_evaluation(org, ruleset=load_rules([folder]))
    results = stored_results(org, report.run_id)
    builtin_ids = {r.meta.id for r in load_rules().rules}
    for system in ("SYS-1", "SYS-2", "SYS-3"):
        assert results[(system, "broken_module")].status == "error"
        assert "this_module_does_not_exist" in results[(system, "broken_module")].message
        assert results[(system, "always_passes")].status == "pass"
        assert builtin_ids <= {rule for (sid, rule) in results if sid == system}
    assert report.errors == 3
    assert any("broken_module" in e for e in report.load_errors)


def test_a_rule_that_raises_errors_only_for_that_rule(org, tmp_path):
    folder = tmp_path / "extra"
    write_rule(folder, "explodes", body="1 / 0")
    write_rule(folder, "fine")
    report = run_evaluation(org, ruleset=only(folder))
    results = stored_results(org, report.run_id)
    assert results[("SYS-1", "explodes")].status == "error"
    assert "ZeroDivisionError" in results[("SYS-1", "explodes")].message
    assert results[("SYS-1", "fine")].status == "pass"
    # Errors do not count against the team: only the passing rule is scored.
    assert {row["key"]: row["score"] for row in scores(org, "system")}["SYS-1"] == 100.0


def test_load_errors_name_the_module(tmp_path):
    folder = tmp_path / "extra"
    write_rule(folder, "dup_a")
    write_rule(tmp_path / "second_pack", "dup_a")  # the same id in another pack
    (folder / "bad_meta.py").write_text(textwrap.dedent('''
        from readiness.rulekit import RuleMeta
        META = {"id": "bad_meta", "title": "x", "category": "nonsense", "severity": "high",
                "rationale": "r", "remediation": "r"}
        def evaluate(system, facts): ...
    '''))
    write_rule(folder, "misnamed")
    (folder / "misnamed.py").write_text((folder / "misnamed.py").read_text().replace('id="misnamed"', 'id="other_name"'))
    ruleset = load_rules([folder, tmp_path / "second_pack"], builtin=False, entry_point_packs=False)
    errors = {e.module.rsplit("/", 1)[-1]: e.reason for e in ruleset.load_errors}
    assert "must equal the module name" in errors["misnamed.py"]
    assert "invalid META" in errors["bad_meta.py"] and "category" in errors["bad_meta.py"]
    assert "duplicate rule id 'dup_a'" in errors["dup_a.py"]
    assert "second_pack" in next(e.module for e in ruleset.load_errors if "duplicate" in e.reason)
    assert [r.meta.id for r in ruleset.rules] == ["dup_a"]


def test_failed_blocker_caps_the_system_score(org, tmp_path):
    folder = tmp_path / "extra"
    for n in range(9):
        write_rule(folder, f"passes_{n}", severity="critical")
    write_rule(folder, "blocker_fails", body="failed('no')", severity="low", blocker=True)
    run_evaluation(org, ruleset=only(folder))
    system = {row["key"]: row for row in scores(org, "system")}["SYS-1"]
    assert system["score"] == BLOCKER_CAP  # 90/92.5 points would be 97.3 without the cap
    assert system["points_outstanding"] == 2.5


def test_partial_credit_and_criticality_weighted_rollup(org, tmp_path):
    folder = tmp_path / "extra"
    write_rule(folder, "half", body="failed('half', credit=0.5) if system.tier == 'low' else passed()")
    run_evaluation(org, ruleset=only(folder))
    by_key = {row["key"]: row for row in scores(org, "system")}
    assert by_key["SYS-3"]["score"] == 50.0 and by_key["SYS-1"]["score"] == 100.0
    team = {row["key"]: row for row in scores(org, "team")}["checkout"]
    expected = (TIER_WEIGHTS["critical"] * 100 + TIER_WEIGHTS["low"] * 50) / (TIER_WEIGHTS["critical"] + TIER_WEIGHTS["low"])
    assert team["score"] == pytest.approx(expected, abs=0.01)
    assert team["points_outstanding"] == 2.5
    company = scores(org, "company")[0]
    assert company["systems"] == 3


def test_same_facts_and_rules_give_the_same_scores_and_inputs_hash(org, tmp_path):
    write_inventory(tmp_path / "inv.json", [compute("SYS-1", "svc-a"), compute("SYS-2", "svc-b", replicas=1)])
    import_inventory_file(org, tmp_path / "inv.json")
    first = run_evaluation(org)
    second = run_evaluation(org)
    assert first.run_id != second.run_id
    a = {(r["level"], r["key"]): r["score"] for level in ("system", "team", "domain") for r in scores(org, level, run_id=first.run_id)}
    b = {(r["level"], r["key"]): r["score"] for level in ("system", "team", "domain") for r in scores(org, level, run_id=second.run_id)}
    assert a == b
    with session_scope(org) as session:
        runs = {run.id: run for run in session.exec(select(EvaluationRun)).scalars()}
    assert runs[first.run_id].inputs_hash == runs[second.run_id].inputs_hash
    assert runs[first.run_id].fact_hashes["SYS-2"]["inventory"]
    assert runs[first.run_id].rule_versions == load_rules().versions()


def test_changed_facts_change_the_inputs_hash_and_the_result(org, tmp_path):
    write_inventory(tmp_path / "inv.json", [compute("SYS-1", "svc-a", replicas=1)])
    import_inventory_file(org, tmp_path / "inv.json")
    before = run_evaluation(org)
    write_inventory(tmp_path / "inv.json", [compute("SYS-1", "svc-a", replicas=3)])
    import_inventory_file(org, tmp_path / "inv.json")
    after = run_evaluation(org)
    old = stored_results(org, before.run_id)[("SYS-1", "replicas_across_zones")]
    new = stored_results(org, after.run_id)[("SYS-1", "replicas_across_zones")]
    assert (old.status, new.status) == ("fail", "pass")
    assert "svc-a: 1 replica" in old.message and "(s)" not in old.message


def test_not_applicable_results_do_not_count(org):
    report = run_evaluation(org)
    results = stored_results(org, report.run_id)
    edge = results[("SYS-2", "edge_protection")]  # SYS-2 is not public
    assert edge.status == "not_applicable" and edge.counted is False and edge.weight == 0


def test_stale_facts_are_marked_in_the_message_and_the_confidence(org, tmp_path):
    write_inventory(tmp_path / "inv.json", [compute("SYS-1", "svc-a")])
    collected_at = datetime(2026, 1, 1)
    import_inventory_file(org, tmp_path / "inv.json", now=collected_at)
    run_evaluation(org, now=collected_at + timedelta(days=10))
    results = {r.rule_id: r for r in stored_results(org, max(
        r.run_id for r in stored_results(org, 1).values())).values() if r.system_id == "SYS-1"}
    assert "stale facts: inventory last seen 2026-01-01" in results["health_checks"].message
    system = {row["key"]: row for row in scores(org, "system")}["SYS-1"]
    assert system["confidence"]["stale"] > 0


SCHEDULED_RULE = '''
from readiness.rulekit import Outcome, RuleMeta, Status, weeks_before
META = RuleMeta(id="scheduled_check", title="A scheduled check", category="performance", severity="high",
                rationale="Because tests need a scheduled rule.", remediation="Answer it before it is due.",
                due=weeks_before(2))
def evaluate(system, facts):
    return Outcome(Status.PENDING_REVIEW, 0.0, "answered, awaiting approval")
'''


def test_answering_a_scheduled_check_early_does_not_lower_the_score(org, tmp_path):
    import_catalog_file(org, write_yaml(tmp_path / "c.yaml", catalog_doc(readiness_team=["rita"])))
    create_season(org, actor="rita", key="peak-2026", name="Peak 2026", starts_on=date(2026, 11, 27),
                  ends_on=date(2026, 12, 31), target_date=date(2026, 9, 29))  # due 2026-09-15
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "scheduled_check.py").write_text(SCHEDULED_RULE)
    write_rule(folder, "passes")
    before = run_evaluation(org, ruleset=only(folder), now=datetime(2026, 9, 1))
    assert stored_results(org, before.run_id)[("SYS-1", "scheduled_check")].status == "warning"
    assert {r["key"]: r["score"] for r in scores(org, "system", run_id=before.run_id)}["SYS-1"] == 100.0
    after = run_evaluation(org, ruleset=only(folder), now=datetime(2026, 9, 16))
    assert stored_results(org, after.run_id)[("SYS-1", "scheduled_check")].status == "pending_review"
    assert {r["key"]: r["score"] for r in scores(org, "system", run_id=after.run_id)}["SYS-1"] < 100.0


def _summed_from_results(engine, run_id) -> dict[tuple[str, str, str], tuple]:
    domains = {s.system_id: s.domain for s in active_systems(engine)}
    sums: dict[tuple[str, str, str], list] = {}
    for (system_id, rule_id), r in stored_results(engine, run_id).items():
        cell = sums.setdefault((domains[system_id], rule_id, r.status), [0, 0.0, 0.0, 0])
        cell[0] += 1
        cell[1] += r.weight
        cell[2] += r.earned
        cell[3] += r.counted and r.earned < r.weight
    return {key: (n, round(possible, 4), round(earned, 4), short) for key, (n, possible, earned, short) in sums.items()}


def test_rule_summary_adds_up_the_runs_results_per_domain_rule_and_status(org, tmp_path):
    folder = tmp_path / "extra"
    write_rule(folder, "half_credit", body="failed('half', credit=0.5)")
    (folder / "broken_module.py").write_text("raise RuntimeError('boom')\n")
    report = run_evaluation(org, ruleset=load_rules([folder]))
    summary = {(r["domain"], r["rule_id"], r["status"]): (r["results"], r["possible"], r["earned"], r["short"])
               for r in rule_summary(org, report.run_id)}
    assert summary == _summed_from_results(org, report.run_id)
    assert sum(cell[0] for cell in summary.values()) == report.results
    assert {status for (_, rule, status) in summary if rule == "broken_module"} == {"error"}
    assert all(cell[3] == cell[0] for (_, rule, _), cell in summary.items() if rule == "half_credit")


def test_runs_stored_before_the_summary_existed_are_summed_from_their_results(org):
    report = run_evaluation(org)
    written = rule_summary(org, report.run_id)
    with session_scope(org) as session:
        session.execute(delete(RuleSummary).where(RuleSummary.run_id == report.run_id))
    recomputed = rule_summary(org, report.run_id)
    assert [(r["domain"], r["rule_id"], r["status"], r["results"], r["short"]) for r in recomputed] == \
        [(r["domain"], r["rule_id"], r["status"], r["results"], r["short"]) for r in written]
    assert [r["earned"] for r in recomputed] == pytest.approx([r["earned"] for r in written])


def test_evaluating_in_chunks_gives_the_same_run_as_all_at_once(org, tmp_path, monkeypatch):
    import_inventory_file(org, write_inventory(tmp_path / "inv.json", [compute("SYS-1", "c-1"),
                                                                        compute("SYS-2", "c-2", replicas=1)]))
    whole = run_evaluation(org)
    monkeypatch.setattr(engine_module, "CHUNK_SYSTEMS", 1)
    chunked = run_evaluation(org, full=True)
    runs = {r.id: r for r in _runs(org)}
    assert runs[chunked.run_id].inputs_hash == runs[whole.run_id].inputs_hash
    assert runs[chunked.run_id].fact_hashes == runs[whole.run_id].fact_hashes
    assert {k: (r.status, r.earned) for k, r in stored_results(org, chunked.run_id).items()} == \
        {k: (r.status, r.earned) for k, r in stored_results(org, whole.run_id).items()}
    assert rule_summary(org, chunked.run_id) == rule_summary(org, whole.run_id)
    assert chunked.company.score == whole.company.score


def _runs(engine) -> list[EvaluationRun]:
    with session_scope(engine) as session:
        return list(session.exec(select(EvaluationRun)).scalars())


COPYING_RULE = '''
import copy
from readiness.rulekit import RuleMeta, passed, failed
META = RuleMeta(id="copies_assets", title="Copies and unpacks assets", category="resilience", severity="low",
                rationale="Read-only facts must still allow every way of copying them.",
                remediation="Nothing to do: this rule is a test of the engine.")
def evaluate(system, facts):
    assets = list(facts.compute())
    named = [{**a, "id": "copy-" + a["id"]} for a in assets]
    deep = copy.deepcopy(assets)
    for asset in deep:
        asset["replicas"] = 0
        asset["zones"].append("z")
    merged = dict(assets[0]) | {"extra": True}
    if not (isinstance(assets[0], dict) and isinstance(assets[0]["zones"], list) and assets[0]["zones"][:1] == ["a"]):
        return failed("frozen facts are not dicts and lists")
    return passed("copied", [assets[0], named[0], deep[0], merged])
'''


def test_rules_that_copy_or_unpack_frozen_facts_work_and_their_evidence_is_stored(org, tmp_path):
    write_inventory(tmp_path / "inv.json", [compute("SYS-1", "api", zones=["a", "b"])])
    import_inventory_file(org, tmp_path / "inv.json")
    folder = tmp_path / "extra"
    folder.mkdir()
    (folder / "copies_assets.py").write_text(COPYING_RULE)
    report = run_evaluation(org, ruleset=only(folder))
    result = stored_results(org, report.run_id)[("SYS-1", "copies_assets")]
    assert (result.status, result.message) == ("pass", "copied")
    original, named, changed, merged = result.evidence
    assert original["replicas"] == 3 and original["zones"] == ["a", "b"] and original["id"] == "api"
    assert named["id"] == "copy-api" and merged["extra"] is True
    assert changed["replicas"] == 0 and changed["zones"] == ["a", "b", "z"]


def test_off_the_main_thread_rules_load_without_a_time_limit_and_exits_are_still_contained(tmp_path):
    import signal
    import threading

    folder = tmp_path / "extra"
    write_rule(folder, "fine")
    (folder / "exits.py").write_text("import sys\nsys.exit(0)\n")
    loaded = []
    handler = signal.getsignal(signal.SIGALRM)
    worker = threading.Thread(target=lambda: loaded.append(load_rules([folder], builtin=False,
                                                                      entry_point_packs=False, time_limit=0.01)))
    worker.start()
    worker.join(30)
    (ruleset,) = loaded
    assert [r.meta.id for r in ruleset.rules] == ["fine"]
    assert [e.reason for e in ruleset.load_errors] == ["called sys.exit(0) while imported"]
    assert signal.getsignal(signal.SIGALRM) is handler


def test_a_hung_rule_is_stopped_at_its_time_limit_and_the_callers_alarm_handler_comes_back(org, tmp_path):
    import signal

    folder = tmp_path / "extra"
    write_rule(folder, "hangs", body="__import__('time').sleep(3600)")
    write_rule(folder, "fine")

    def mine(*_):
        return None

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        report = run_evaluation(org, ruleset=only(folder), rule_timeout=0.05)
        assert signal.getsignal(signal.SIGALRM) is mine
    finally:
        signal.signal(signal.SIGALRM, previous)
    results = stored_results(org, report.run_id)
    assert results[("SYS-1", "hangs")].message == "rule ran longer than the 0.05 s rule time limit"
    assert results[("SYS-1", "fine")].status == "pass" and report.errors == 3
    assert report.gate_score < report.company.score == 100.0
