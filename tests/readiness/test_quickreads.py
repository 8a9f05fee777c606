"""`readiness runs`, `score` and `explain` answer through SQLAlchemy Core (readiness.quickreads)
exactly as the full-stack read models (readiness.reports, on SQLModel) read the same database.

Each command runs as a person types it (the console script, in a fresh process); the expected
text is made from the read models' rows with the shared output kit, so any difference in rows,
values, order or types shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from clikit import Format, emit
from readiness import explain, list_runs, load_rules, scores
from readiness.quickreads import as_of
from readiness.scoring import BASES
from readiness.service import open_database, run_demo
from storage import get_engine

READINESS = Path(sys.executable).parent / "readiness"
RUN_COLUMNS = ["id", "started_at", "status", "systems", "errors", "company_score", "inputs_hash"]
SCORE_COLUMNS = ["level", "key", "name", "score", "points_outstanding", "systems", "failing_rules",
                 *(f"confidence_{basis}" for basis in BASES)]


def _readiness(*args: str, db: str) -> str:
    done = subprocess.run([str(READINESS), *args, "--db", db], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, COLUMNS="100"))
    assert done.returncode == 0, done.stderr
    return done.stdout


def _printed(capsys, rows: list[dict], fmt: Format, columns: list[str]) -> str:
    capsys.readouterr()
    emit(rows, fmt, columns)
    return capsys.readouterr().out


def _expected_runs(engine) -> list[dict]:
    return [{"id": r.id, "started_at": as_of(r.started_at), "status": r.status, "systems": r.systems,
             "results": r.results, "errors": r.errors, "company_score": r.company_score,
             "inputs_hash": r.inputs_hash[:12]} for r in list_runs(engine, 20)]


def _expected_scores(engine, level: str, **kwargs) -> list[dict]:
    rows = scores(engine, level, **kwargs)
    for row in rows:
        for basis in BASES:
            row[f"confidence_{basis}"] = row["confidence"].get(basis, 0.0)
    return rows


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def read_db(request, tmp_path_factory) -> str:
    """An evaluated demo with several runs (the later ones carry results forward)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("demo_db")
        return
    # a fresh database for the module (the postgres_url fixture makes one per test)
    server = request.getfixturevalue("postgres_admin")
    name = f"peak_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    db = f"{server.rsplit('/', 1)[0]}/{name}"
    run_demo(open_database(get_engine(db)), tmp_path_factory.mktemp("pgdemo") / "files", systems=24, seed=5)
    yield db
    get_engine(db).dispose()
    get_engine.cache_clear()
    with admin.connect() as connection:
        connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_runs_prints_the_runs_the_read_model_lists(read_db, capsys):
    expected = _expected_runs(get_engine(read_db))
    assert len(expected) > 1
    assert _readiness("runs", db=read_db) == _printed(capsys, expected, Format.table, RUN_COLUMNS)
    assert json.loads(_readiness("runs", "--format", "json", db=read_db)) == expected
    assert _readiness("runs", "--format", "csv", "--limit", "2", db=read_db) == _printed(
        capsys, expected[:2], Format.csv, RUN_COLUMNS)


@pytest.mark.parametrize("level", ["company", "domain", "system"])
def test_score_prints_the_scores_the_read_model_reads(read_db, level, capsys):
    expected = _expected_scores(get_engine(read_db), level)
    assert expected
    assert _readiness("score", "--level", level, db=read_db) == _printed(capsys, expected, Format.table,
                                                                        SCORE_COLUMNS)
    assert json.loads(_readiness("score", "--level", level, "--format", "json", db=read_db)) == expected


def test_score_of_an_earlier_run_under_a_parent_reads_that_run(read_db, capsys):
    engine = get_engine(read_db)
    first = min(run.id for run in list_runs(engine, 50) if run.status == "complete")
    domain = _expected_scores(engine, "domain", run_id=first)[0]["key"]
    expected = _expected_scores(engine, "group", run_id=first, parent=domain)
    assert expected and {row["run_id"] for row in expected} == {first}
    assert _readiness("score", "--level", "group", "--run", str(first), "--parent", domain,
                      "--format", "csv", db=read_db) == _printed(capsys, expected, Format.csv, SCORE_COLUMNS)


def test_explain_gives_the_read_models_explanation(read_db):
    engine = get_engine(read_db)
    worst = scores(engine, "system")[0]["key"]
    expected = json.loads(json.dumps(explain(engine, worst, load_rules()), default=str))
    assert expected["findings"] and any(f["evidence"] for f in expected["findings"])
    assert json.loads(_readiness("explain", worst, "--format", "json", db=read_db)) == expected
    text = _readiness("explain", worst, db=read_db)
    assert text.splitlines()[0] == (
        f"{worst} {expected['name']} ({expected['tier']}, {expected['traffic_class']}): score {expected['score']} "
        f"with {expected['points_outstanding']} points outstanding (run {expected['run_id']})")
    assert [line for line in text.splitlines() if line.startswith("[")] == [
        f"[{f['status'].upper()}{' BLOCKER' if f['blocker'] else ''}] {f['rule_id']}: {f['title']} "
        f"(-{f['points_lost']} points)" for f in expected["findings"]]


def test_explain_of_every_run_reads_the_results_that_run_gives_the_system(read_db):
    """Later runs carry most systems' results forward by reference (readiness_run_system)."""
    engine = get_engine(read_db)
    system = scores(engine, "system")[-1]["key"]
    rules = load_rules()
    for run in list_runs(engine, 50):
        if run.status != "complete":
            continue
        expected = json.loads(json.dumps(explain(engine, system, rules, run_id=run.id), default=str))
        assert json.loads(_readiness("explain", system, "--run", str(run.id), "--format", "json",
                                     db=read_db)) == expected


def test_explain_of_an_unknown_system_is_the_same_clear_error(demo_db):
    done = subprocess.run([str(READINESS), "explain", "NOPE", "--db", demo_db], capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "error: unknown system 'NOPE'\n")


def test_loading_only_some_rules_gives_them_as_the_full_load_does():
    full = load_rules().by_id()
    wanted = sorted(full)[::7]
    some = load_rules(only=set(wanted))
    assert [rule.meta.id for rule in some.rules] == wanted
    assert all(rule.meta == full[rule.meta.id].meta and rule.origin == full[rule.meta.id].origin
               for rule in some.rules)
    assert load_rules(only=set()).rules == []


def test_a_read_brings_a_database_behind_the_migrations_to_every_head(sqlite_url):
    from storage import migrate
    from storage.migrate import is_current

    engine = get_engine(sqlite_url)
    migrate(engine, "readiness_0004")
    assert _readiness("runs", "--format", "json", db=sqlite_url) == "[]\n"
    assert is_current(engine)


def test_a_read_of_a_database_from_a_newer_version_is_a_clear_error(sqlite_url):
    from storage import migrate

    engine = get_engine(sqlite_url)
    migrate(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'readiness_0099_future' "
                                "WHERE version_num LIKE 'readiness%'"))
    for args in (["runs"], ["score"], ["explain", "SYS-0001"]):
        done = subprocess.run([str(READINESS), *args, "--db", sqlite_url], capture_output=True, text=True)
        assert (done.returncode, done.stdout, done.stderr) == (
            1, "", f"error: cannot open the database {sqlite_url!r}: CommandError: Can't locate revision "
                   "identified by 'readiness_0099_future'\n")
