"""`readiness collect sources`: fact sources other packages register through entry points."""

from __future__ import annotations

from typer.testing import CliRunner

from readiness.cli import app
from readiness.facts import registered_sources

runner = CliRunner()


def test_kapacity_and_perftest_register_their_fact_sources():
    assert {"kapacity", "perftest"} <= set(registered_sources())


def test_an_unknown_source_is_a_usage_error_listing_the_registered_ones(engine, sqlite_url):
    result = runner.invoke(app, ["collect", "sources", "nope", "--db", sqlite_url])
    assert result.exit_code == 2
    assert "unknown fact source 'nope'" in result.output and "kapacity" in result.output


def test_a_source_with_nothing_to_offer_fails_with_its_reason(engine, sqlite_url):
    result = runner.invoke(app, ["collect", "sources", "kapacity", "--db", sqlite_url])
    assert result.exit_code == 1
    assert "no complete kapacity run yet" in result.output


def test_a_bulk_import_refreshes_the_planner_statistics_on_postgresql(postgres_url, tmp_path, monkeypatch):
    """Without statistics (autovacuum off, or not yet run) PostgreSQL planned the evaluation's
    newest-facts query four times slower after a 10,000-system import."""
    from datetime import datetime

    from sqlalchemy import text

    from readiness import import_catalog_file, import_inventory_file
    from readiness.demo import generate
    from readiness.service import open_database
    from storage import get_engine

    def analyzed() -> bool:
        with engine.connect() as connection:
            return connection.execute(text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                                           "WHERE relname = 'readiness_fact'")).scalar()

    engine = open_database(get_engine(postgres_url))
    files = generate(tmp_path / "files", systems=30, seed=5, now=datetime(2026, 9, 1))
    import_catalog_file(engine, files.catalog)
    import_inventory_file(engine, files.inventories[0][1])
    assert not analyzed()  # 30 systems: no bulk write, the table is left to autovacuum
    monkeypatch.setattr("storage.engine.BULK_CHANGE_ROWS", 10)  # 30 systems stand in for thousands
    import_inventory_file(engine, files.inventories[-1][1])
    assert analyzed()
