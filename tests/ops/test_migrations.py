"""Production upgrades: from each context's first revision to head, with data in every table,
on SQLite and PostgreSQL (`alembic upgrade heads` is what `open_database` runs on start)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, func, inspect, select, text

from governance import list_waivers
from readiness import latest_run_id, list_runs, run_evaluation, scores
from readiness.runspan import holds_for
from storage import get_engine, migrate
from storage.migrate import alembic_config
from tests.ops.support import copy_sqlite, env_for_tests

BATCH = 2000
# Rows that hold for a span of runs since readiness_0007 (readiness.runspan); before it, one row per run.
SPANNED = {"readiness_score": ("level", "key"), "readiness_run_system": ("system_id",)}


def revisions_in_order() -> list[str]:
    """Every revision, each after the ones it depends on (down revisions and depends_on)."""
    script = ScriptDirectory.from_config(alembic_config())
    revisions = {r.revision: r for r in script.walk_revisions()}
    done: list[str] = []

    def visit(rev: str) -> None:
        if rev in done:
            return
        item = revisions[rev]
        for parent in [*_as_list(item.down_revision), *_as_list(item.dependencies)]:
            visit(parent)
        done.append(rev)

    for rev in sorted(revisions):
        visit(rev)
    return done


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def copy_new_tables(source, target, already: set[str]) -> dict[str, int]:
    """Copy the rows of tables the target has now and did not have before (columns in common)."""
    src, dst = MetaData(), MetaData()
    src.reflect(source)
    dst.reflect(target)
    copied = {}
    for table in dst.sorted_tables:  # parents before children
        if table.name in already or table.name == "alembic_version" or table.name not in src.tables:
            continue
        columns = [c.name for c in table.columns if c.name in src.tables[table.name].columns]
        if table.name in SPANNED and "last_run_id" not in table.columns:
            columns = [c for c in columns if c != "id"]  # one row per run, as the schema of then stored them
        with source.connect() as connection:
            if table.name in SPANNED and "last_run_id" not in table.columns:
                rows = _one_row_per_run(connection, src.tables[table.name], src.tables["readiness_run"], columns)
            else:
                rows = [dict(r._mapping) for r in connection.execute(
                    select(*[src.tables[table.name].c[c] for c in columns]))]
        keys = [c.name for c in table.primary_key.columns]
        with target.connect() as connection:  # rows a migration seeded (e.g. a ledger row) stay as they are
            seeded = {tuple(r) for r in connection.execute(select(*[table.c[k] for k in keys]))} if keys else set()
        rows = [r for r in rows if tuple(r[k] for k in keys) not in seeded] if seeded else rows
        with target.begin() as connection:
            for start in range(0, len(rows), BATCH):
                connection.execute(table.insert(), rows[start:start + BATCH])
            if target.dialect.name == "postgresql" and "id" in table.columns and rows:
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                        f"(SELECT max(id) FROM {table.name}))"))
        copied[table.name] = len(rows) + len(seeded)
    return copied


def _one_row_per_run(connection, table, run, columns: list[str]) -> list[dict]:
    """A spanned table's rows as the schema before readiness_0007 held them: a copy per complete run."""
    query = (select(run.c.id.label("run_id"), *[table.c[c] for c in columns if c != "run_id"])
             .select_from(run.join(table, holds_for(table.c, run.c.id))).where(run.c.status == "complete")
             .order_by(run.c.id, *[table.c[c] for c in columns]))
    return [dict(r._mapping) for r in connection.execute(query)]


def held_rows(engine, name: str) -> list[tuple]:
    """Every complete run's rows of a spanned table, as its readers see them."""
    meta = MetaData()
    meta.reflect(engine, only=[name, "readiness_run"])
    table, run = meta.tables[name], meta.tables["readiness_run"]
    columns = [c for c in table.columns if c.name not in ("id", "run_id", "last_run_id")]
    query = (select(run.c.id, *columns).select_from(run.join(table, holds_for(table.c, run.c.id)))
             .where(run.c.status == "complete"))
    with engine.connect() as connection:
        return sorted(tuple(str(v) for v in row) for row in connection.execute(query))


def table_contents(engine, tables: list[str]) -> dict[str, list[tuple]]:
    meta = MetaData()
    meta.reflect(engine, only=tables)
    out = {}
    with engine.connect() as connection:
        for name in tables:
            table = meta.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            out[name] = [tuple(row) for row in connection.execute(select(table).order_by(*order))]
    return out


@pytest.fixture(scope="module")
def source_db(demo_db, tmp_path_factory) -> str:
    """The demo organisation (catalog, facts, runs, governance) plus the flash-sale demo data."""
    folder = tmp_path_factory.mktemp("migration-source")
    url = copy_sqlite(demo_db, folder / "source.db")
    done = subprocess.run([sys.executable, "-m", "flashsales.demo", "--db", url], capture_output=True, text=True,
                          cwd=folder, timeout=180, env=env_for_tests())
    assert done.returncode == 0, done.stderr
    return url


def test_upgrading_revision_by_revision_keeps_every_row(db_url, source_db):
    source = get_engine(source_db)
    target = get_engine(db_url)
    order = revisions_in_order()
    assert order.index("readiness_0001") < order.index("readiness_0002")
    present: set[str] = set()
    copied: dict[str, int] = {}
    for revision in order:
        migrate(target, revision)
        new = copy_new_tables(source, target, present)
        copied.update(new)
        present |= set(inspect(target).get_table_names())
    migrate(target)  # heads: what `open_database` does on every start; nothing left to apply
    assert copied["readiness_system"] == 60 and copied["readiness_result"] > 10_000 and copied["readiness_run"] >= 9
    assert copied["readiness_waiver"] and copied["readiness_audit"] and copied["flashsales_merchant"]

    tables = sorted(copied.keys() - SPANNED.keys())
    before, after = table_contents(source, tables), table_contents(target, tables)
    for name in tables:  # every row, every column, as it was (both schemas were built by the migrations)
        assert len(after[name]) == copied[name], name
        assert after[name] == before[name], name
    for name in SPANNED:  # stored a row per run, then spanned: what every run reads is as it was
        assert held_rows(target, name) == held_rows(source, name), name
    stored = table_contents(source, ["readiness_score"])["readiness_score"]
    assert len(stored) < len(held_rows(source, "readiness_score"))  # the demo's rows do span runs

    assert scores(target, "company") == scores(source, "company")
    assert [r.id for r in list_runs(target)] == [r.id for r in list_runs(source)]
    report = run_evaluation(target)  # the upgraded database takes new runs (sequences moved on)
    assert report.run_id == latest_run_id(target) > max(r.id for r in list_runs(source))
    assert list_waivers(target) == list_waivers(source)


def test_open_database_on_an_empty_database_reaches_every_head(db_url):
    engine = get_engine(db_url)
    migrate(engine)
    script = ScriptDirectory.from_config(alembic_config())
    with engine.connect() as connection:
        applied = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
        # a head another branch depends on (notifications_0001 <- flashsales_0002) is applied, not recorded
        reached = {r.revision for a in applied for r in script.iterate_revisions(a, "base")}
        assert set(script.get_heads()) <= reached and applied <= set(script.get_heads())
        assert connection.execute(select(func.count()).select_from(text("readiness_run"))).scalar() == 0
