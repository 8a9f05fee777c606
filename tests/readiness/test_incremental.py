"""Incremental runs: only changed systems are evaluated, and everything read equals a full run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from readiness import (
    CollectedFacts,
    changes,
    get_run,
    import_catalog_file,
    import_inventory_file,
    latest_facts,
    latest_facts_of,
    latest_run_id,
    load_rules,
    rule_summary,
    run_evaluation,
    scores,
    store_facts,
)
from readiness.demo import generate
from readiness.engine import evaluate
from readiness.export import export_run
from readiness.facts import content_hash
from readiness.models import EvaluationRun, RuleResult, RunSystem, ScoreSnapshot, holds_for
from readiness.reports import results
from storage import get_engine

NOW = datetime(2026, 9, 1, 12, 0)


@pytest.fixture
def demo(any_engine, tmp_path):
    """A 40-system demo organisation, imported and evaluated once (a full run)."""
    files = generate(tmp_path / "files", systems=40, seed=5, now=NOW)
    import_catalog_file(any_engine, files.catalog, allow_retire=True)
    import_inventory_file(any_engine, files.inventories[-1][1], now=NOW)
    ruleset = load_rules()
    first = run_evaluation(any_engine, ruleset=ruleset, now=NOW)
    return any_engine, files, ruleset, first


def change_one_systems_facts(engine, inventory_path, tmp_path) -> str:
    doc = json.loads(inventory_path.read_text())
    asset = next(a for a in doc["assets"] if a.get("type") == "compute")
    asset["replicas"] = 1
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(doc))
    import_inventory_file(engine, changed, now=NOW + timedelta(hours=1))
    return asset["tags"]["SystemID"]


def stored_rows(engine, run_id: int) -> list[tuple]:
    return sorted((r.system_id, r.rule_id, r.rule_version, r.status, r.credit, r.weight, r.earned, r.counted,
                   r.message, json.dumps(r.evidence, sort_keys=True), r.basis) for r in results(engine, run_id=run_id))


def snapshots(engine, run_id: int) -> list[tuple]:
    with engine.connect() as connection:
        rows = connection.execute(select(ScoreSnapshot).where(holds_for(ScoreSnapshot, run_id))).mappings().all()
    return sorted(tuple((k, v if not isinstance(v, dict) else json.dumps(v, sort_keys=True))
                        for k, v in row.items() if k not in ("id", "run_id", "last_run_id")) for row in rows)


def everything_read(engine, ruleset, run_id: int, since: int) -> dict:
    run = get_run(engine, run_id)
    exported = json.loads(export_run(engine, ruleset, "json", run_id=run_id))
    export = (sorted(json.dumps({k: v for k, v in row.items() if k != "run_id"}, sort_keys=True)
                     for row in exported["results"]),
              {k: v for k, v in exported["run"].items() if k not in ("id", "started_at")})
    moved = changes(engine, since, run_id=run_id)
    return {"results": stored_rows(engine, run_id), "scores": snapshots(engine, run_id),
            "summary": rule_summary(engine, run_id), "inputs_hash": run.inputs_hash,
            "fact_hashes": run.fact_hashes, "counts": (run.systems, run.results, run.errors, run.company_score),
            "export": export, "changes": (moved["results_changed"], moved["movers"]),
            "company": [(u["key"], u["score"]) for u in scores(engine, "domain", run_id=run_id)]}


def test_an_incremental_run_evaluates_only_the_changed_systems_and_reads_like_a_full_run(demo, tmp_path):
    engine, files, ruleset, first = demo
    assert first.evaluated == first.systems
    changed = change_one_systems_facts(engine, files.inventories[-1][1], tmp_path)
    later = NOW + timedelta(hours=2)

    incremental = run_evaluation(engine, ruleset=ruleset, now=later)
    full = run_evaluation(engine, ruleset=ruleset, now=later, full=True)

    assert incremental.evaluated == 1 and full.evaluated == full.systems == first.systems
    with engine.connect() as connection:
        own = set(connection.execute(select(RuleResult.system_id).where(RuleResult.run_id == incremental.run_id))
                  .scalars())
    assert own == {changed}  # the other systems' results were not copied
    inc, ful = (everything_read(engine, ruleset, r.run_id, first.run_id) for r in (incremental, full))
    for key in inc:
        assert inc[key] == ful[key], key
    assert inc["changes"][0]  # the changed system's results did change
    assert (incremental.company, incremental.gate_score, incremental.status_counts) == \
        (full.company, full.gate_score, full.status_counts)


def test_a_catalog_change_and_a_retired_system_are_evaluated_again(demo, tmp_path):
    engine, files, ruleset, first = demo
    import yaml

    doc = yaml.safe_load(files.catalog.read_text())
    doc["systems"][0]["tier"] = "low" if doc["systems"][0]["tier"] != "low" else "critical"
    del doc["systems"][-1]
    changed = tmp_path / "catalog.yaml"
    changed.write_text(yaml.safe_dump(doc, sort_keys=False))
    import_catalog_file(engine, changed, allow_retire=True)

    incremental = run_evaluation(engine, ruleset=ruleset, now=NOW)
    full = run_evaluation(engine, ruleset=ruleset, now=NOW, full=True)

    assert incremental.evaluated < incremental.systems == first.systems - 1
    inc, ful = (everything_read(engine, ruleset, r.run_id, first.run_id) for r in (incremental, full))
    for key in inc:
        assert inc[key] == ful[key], key


def rows_written_by(engine, run_id: int) -> dict[str, int]:
    with engine.connect() as connection:
        return {table.__tablename__: connection.execute(select(func.count()).select_from(table).where(
            table.run_id == run_id)).scalar() for table in (ScoreSnapshot, RunSystem)}


def test_an_incremental_run_writes_rows_only_for_what_changed(demo, tmp_path):
    engine, files, ruleset, first = demo
    change_one_systems_facts(engine, files.inventories[-1][1], tmp_path)
    incremental = run_evaluation(engine, ruleset=ruleset, now=NOW + timedelta(hours=2))
    full = run_evaluation(engine, ruleset=ruleset, now=NOW + timedelta(hours=2), full=True)
    written = rows_written_by(engine, incremental.run_id)
    assert written["readiness_run_system"] == 1
    # the system, and at most its team, groups, domain and company: not the 40 systems and their units
    assert 1 <= written["readiness_score"] <= 6
    # a full run gives every system new rows; a unit gets one only where its score moved (none here)
    assert rows_written_by(engine, full.run_id) == {"readiness_run_system": first.systems,
                                                    "readiness_score": first.systems}
    assert snapshots(engine, incremental.run_id) == snapshots(engine, full.run_id)
    assert snapshots(engine, first.run_id) != snapshots(engine, incremental.run_id)  # the first run reads as it was


def test_a_renamed_team_is_scored_under_its_new_name_though_no_system_changed(demo, tmp_path):
    engine, files, ruleset, first = demo
    import yaml

    doc = yaml.safe_load(files.catalog.read_text())
    team = doc["teams"][0]
    team["name"] = "Checkout heroes"
    changed = tmp_path / "catalog.yaml"
    changed.write_text(yaml.safe_dump(doc, sort_keys=False))
    import_catalog_file(engine, changed, allow_retire=True)

    renamed = run_evaluation(engine, ruleset=ruleset, now=NOW)
    full = run_evaluation(engine, ruleset=ruleset, now=NOW, full=True)
    assert renamed.evaluated == 0
    assert rows_written_by(engine, renamed.run_id) == {"readiness_run_system": 0, "readiness_score": 1}
    names = {u["key"]: u["name"] for u in scores(engine, "team", run_id=renamed.run_id)}
    assert names[team["key"]] == "Checkout heroes"
    assert {u["key"]: u["name"] for u in scores(engine, "team", run_id=first.run_id)}[team["key"]] != "Checkout heroes"
    assert snapshots(engine, renamed.run_id) == snapshots(engine, full.run_id)


def test_nothing_changed_evaluates_nothing_and_time_passing_makes_facts_stale(demo):
    engine, _, ruleset, first = demo
    same = run_evaluation(engine, ruleset=ruleset, now=NOW)
    assert same.evaluated == 0 and same.company == first.company
    assert get_run(engine, same.run_id).inputs_hash == get_run(engine, first.run_id).inputs_hash

    months = NOW + timedelta(days=120)  # every fact is past its maximum age now
    aged = run_evaluation(engine, ruleset=ruleset, now=months)
    full = run_evaluation(engine, ruleset=ruleset, now=months, full=True)
    assert aged.evaluated == aged.systems
    assert stored_rows(engine, aged.run_id) == stored_rows(engine, full.run_id)


class Marks:
    """An overlay that says which systems it touches, as governance overlays may."""

    def __init__(self, marked: set[str]) -> None:
        self.marked = marked

    def apply(self, system, meta, outcome):
        if system.system_id not in self.marked or outcome.status.value != "fail":
            return None
        from readiness.rulekit import Outcome, Status
        return Outcome(Status.WAIVED, 1.0, f"marked: {outcome.message}"), "waiver"

    def fingerprint(self, system_id: str) -> str:
        return "marked" if system_id in self.marked else ""


def test_an_overlay_change_re_evaluates_only_the_systems_it_names(demo):
    engine, _, ruleset, _ = demo
    evaluate(engine, ruleset, now=NOW, overlays=[Marks(set())])
    target = sorted(s["key"] for s in scores(engine, "system"))[3]
    incremental = evaluate(engine, ruleset, now=NOW, overlays=[Marks({target})])
    full = evaluate(engine, ruleset, now=NOW, overlays=[Marks({target})], full=True)
    assert incremental.evaluated == 1
    assert stored_rows(engine, incremental.run_id) == stored_rows(engine, full.run_id)
    assert snapshots(engine, incremental.run_id) == snapshots(engine, full.run_id)


def test_a_changed_rule_version_makes_the_run_full(demo, tmp_path):
    engine, _, ruleset, _ = demo
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "extra_rule.py").write_text(textwrap.dedent('''
        from readiness.rulekit import RuleMeta, passed
        META = RuleMeta(id="extra_rule", title="Extra", category="resilience", severity="low",
                        rationale="r", remediation="r", version="2")
        def evaluate(system, facts):
            return passed("ok")
    '''))
    with_extra = load_rules([folder])
    report = run_evaluation(engine, ruleset=with_extra, now=NOW)
    assert report.evaluated == report.systems


KILLED = textwrap.dedent('''
    import os, signal, sys, time
    from readiness import engine as core, load_rules, run_evaluation
    from storage import get_engine
    from datetime import datetime
    db = get_engine(sys.argv[1])
    written = core._insert_results
    def then_die(connection, run_id, rows):
        written(connection, run_id, rows)
        connection.commit()
        print("chunk written", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    core._insert_results = then_die
    core.CHUNK_SYSTEMS = 10
    run_evaluation(db, ruleset=load_rules(), now=datetime(2026, 9, 1, 12, 0), full=True)
''')


def test_a_run_killed_midway_leaves_the_previous_run_latest_and_the_next_run_works(demo, db_url, tmp_path):
    engine, _, ruleset, first = demo
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    child = subprocess.run([sys.executable, str(script), db_url], capture_output=True, text=True,
                           env={**os.environ}, timeout=120)
    assert child.returncode == -signal.SIGKILL and "chunk written" in child.stdout, child.stderr
    with engine.connect() as connection:
        assert connection.execute(select(RuleResult.run_id).where(RuleResult.run_id > first.run_id)).first()
    assert latest_run_id(engine) == first.run_id  # the half-written run is never the latest
    fresh = get_engine(db_url)
    assert scores(fresh, "company")[0]["run_id"] == first.run_id

    after = run_evaluation(engine, ruleset=ruleset, now=NOW)
    assert latest_run_id(engine) == after.run_id and after.company == first.company
    with engine.connect() as connection:  # what the killed run wrote is gone
        runs = set(connection.execute(select(RuleResult.run_id)).scalars())
    assert runs <= {first.run_id, after.run_id}


def test_an_error_midway_through_a_chunked_run_is_raised_and_leaves_nothing_behind(demo, monkeypatch):
    """A database error after some chunks are written (not a kill): the error itself reaches the
    caller, the run and what it wrote are removed, the previous run stays the latest."""
    from readiness import engine as core

    engine, _, ruleset, first = demo
    written = core._insert_results
    chunks = []

    def fails_on_the_second_chunk(connection, run_id, rows):
        chunks.append(run_id)
        if len(chunks) == 2:
            raise RuntimeError("disk full")
        written(connection, run_id, rows)

    monkeypatch.setattr(core, "_insert_results", fails_on_the_second_chunk)
    monkeypatch.setattr(core, "CHUNK_SYSTEMS", 10)
    with pytest.raises(RuntimeError, match="disk full"):
        run_evaluation(engine, ruleset=ruleset, now=NOW, full=True)
    assert len(chunks) == 2
    assert latest_run_id(engine) == first.run_id
    with engine.connect() as connection:
        assert set(connection.execute(select(RuleResult.run_id)).scalars()) == {first.run_id}
        assert connection.execute(select(EvaluationRun.id).where(EvaluationRun.id > first.run_id)).first() is None


def attestation_sightings(engine) -> dict[str, datetime]:
    return {system_id: facts.last_seen_at for system_id, facts in latest_facts_of(engine, "attestations").items()}


def test_unchanged_attestations_keep_their_sighting_for_an_hour_and_no_result_differs_from_a_full_run(demo):
    engine, _, ruleset, first = demo
    soon = NOW + timedelta(minutes=50)
    incremental = run_evaluation(engine, ruleset=ruleset, now=soon)
    assert set(attestation_sightings(engine).values()) == {NOW}  # not rewritten: 10,000 rows a run at scale
    full = run_evaluation(engine, ruleset=ruleset, now=soon, full=True)
    assert incremental.evaluated == 0
    inc, ful = (everything_read(engine, ruleset, r.run_id, first.run_id) for r in (incremental, full))
    assert inc == ful

    later = NOW + timedelta(minutes=61)
    run_evaluation(engine, ruleset=ruleset, now=later)
    assert set(attestation_sightings(engine).values()) == {later}


def test_a_source_stored_without_a_window_marks_every_version_seen_again(demo):
    engine, *_ = demo
    soon = NOW + timedelta(minutes=10)
    store_facts(engine, CollectedFacts("attestations", {sid: {} for sid in attestation_sightings(engine)}), now=soon)
    assert set(attestation_sightings(engine).values()) == {soon}


def test_going_back_to_an_earlier_version_within_the_window_makes_it_the_latest_again(demo):
    engine, *_ = demo
    back_at = NOW + timedelta(minutes=20)
    system_id = sorted(attestation_sightings(engine))[0]
    earlier = latest_facts_of(engine, "attestations")[system_id].data
    window = timedelta(hours=1)
    changed = {"check": {"state": "approved"}}
    store_facts(engine, CollectedFacts("attestations", {system_id: changed}), now=NOW + timedelta(minutes=10),
                seen_within=window)
    assert latest_facts_of(engine, "attestations")[system_id].data == changed
    report = store_facts(engine, CollectedFacts("attestations", {system_id: earlier}), now=back_at,
                         seen_within=window)
    back = latest_facts_of(engine, "attestations")[system_id]
    assert (back.data, back.last_seen_at, report.changed) == (earlier, back_at, 1)


def test_of_two_versions_seen_at_one_time_the_one_stored_later_is_the_latest_for_reads_and_the_run(demo):
    engine, _, ruleset, _ = demo
    system_id = sorted(attestation_sightings(engine))[0]
    at = NOW + timedelta(hours=2)
    for version in ({"v": 1}, {"v": 2}):  # two collections dated alike (a replay, a clock that did not move)
        store_facts(engine, CollectedFacts("probe", {system_id: version}), now=at)
    assert latest_facts(engine)[system_id]["probe"].data == {"v": 2}
    run = run_evaluation(engine, ruleset=ruleset, now=at)
    assert get_run(engine, run.run_id).fact_hashes[system_id]["probe"] == content_hash({"v": 2})


@pytest.mark.parametrize("change", ["service endpoint", "dependency kind"])
def test_a_change_deep_in_a_catalog_entry_evaluates_that_system_again(demo, tmp_path, change):
    engine, files, ruleset, first = demo
    import yaml

    doc = yaml.safe_load(files.catalog.read_text())
    entry = next(s for s in doc["systems"] if s.get("services") and s.get("dependencies"))
    if change == "service endpoint":
        entry["services"][0]["endpoint"] += "/v2"
    else:
        entry["dependencies"][0]["kind"] = "async" if entry["dependencies"][0]["kind"] == "sync" else "sync"
    changed = tmp_path / "catalog.yaml"
    changed.write_text(yaml.safe_dump(doc, sort_keys=False))
    import_catalog_file(engine, changed)

    incremental = run_evaluation(engine, ruleset=ruleset, now=NOW)
    full = run_evaluation(engine, ruleset=ruleset, now=NOW, full=True)
    assert incremental.evaluated == 1
    inc, ful = (everything_read(engine, ruleset, r.run_id, first.run_id) for r in (incremental, full))
    assert inc == ful
