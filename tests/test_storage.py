"""The schema that migrations build is exactly the schema the models declare, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from storage.migrate import alembic_config


def test_migrations_match_the_models(any_engine):
    # Migrating (the fixture) imported every context's models into SQLModel.metadata.
    with any_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations differ; write a migration for: {diff}"


def test_every_context_branch_is_at_its_head(any_engine):
    script = ScriptDirectory.from_config(alembic_config(any_engine))
    with any_engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    # a head another branch depends on (notifications_0001 <- flashsales_0002) is applied, not recorded
    reached = {r.revision for head in current for r in script.iterate_revisions(head, "base")}
    assert current <= set(script.get_heads()) and set(script.get_heads()) <= reached


def test_migrating_twice_changes_nothing(any_engine):
    from storage import migrate

    migrate(any_engine)  # the fixture already migrated once
    with any_engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_json_columns_round_trip_and_keep_str_forms(any_engine):
    """JSON columns go through orjson: JSON types round-trip; anything else is stored as its str()."""
    from datetime import datetime

    from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

    table = Table("json_probe", MetaData(), Column("id", Integer, primary_key=True), Column("doc", JSON))
    table.create(any_engine)
    try:
        doc = {"list": [1, 2.5, None, True], "nested": {"a": "ü"}, "at": datetime(2026, 11, 27, 8, 30),
               "nan": float("nan")}
        with any_engine.begin() as connection:
            connection.execute(insert(table), [{"id": 1, "doc": doc}])
        with any_engine.connect() as connection:
            stored = connection.execute(select(table.c.doc)).scalar_one()
        assert stored == {"list": [1, 2.5, None, True], "nested": {"a": "ü"}, "at": "2026-11-27 08:30:00",
                          "nan": None}
    finally:
        table.drop(any_engine)


def test_a_database_is_current_only_at_every_branch_head(sqlite_url):
    from sqlalchemy import text

    from storage import get_engine, migrate
    from storage.migrate import is_current

    engine = get_engine(sqlite_url)
    assert not is_current(engine)  # no alembic_version table yet
    migrate(engine, "readiness_0004")
    assert not is_current(engine)
    migrate(engine)
    assert is_current(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'readiness_0099_future' "
                                "WHERE version_num LIKE 'readiness%'"))
    assert not is_current(engine)


def test_revision_ids_are_read_before_the_functions_and_anywhere_else(tmp_path):
    """The fast check parses a revision file only up to its first function, unless the ids are
    assigned below it or the cut falls inside a string."""
    from storage.migrate import _revision_ids

    header = 'import sqlalchemy as sa\nrevision = "b2"\ndown_revision = "a1"\ndepends_on = ("x9",)\n'
    plain = tmp_path / "plain.py"
    plain.write_text(header + "\n\ndef upgrade():\n    pass\n")
    late = tmp_path / "late.py"
    late.write_text('revision = "b2"\n\ndef upgrade():\n    pass\n\ndown_revision = "a0"\n')
    quoted = tmp_path / "quoted.py"
    quoted.write_text('"""Notes:\ndef looks like code\n"""\n' + header)
    computed = tmp_path / "computed.py"
    computed.write_text('revision = "b" + "2"\n')
    assert _revision_ids(plain) == ("b2", {"a1", "x9"})
    assert _revision_ids(late) == ("b2", {"a0"})
    assert _revision_ids(quoted) == ("b2", {"a1", "x9"})
    assert _revision_ids(computed) is None


@pytest.mark.parametrize("url", ["sqlite:///peak.db", "sqlite:////tmp/x/peak.db", "sqlite+pysqlite:///data/p.db",
                                 "sqlite:///./a b.db"])
def test_a_plain_sqlite_url_names_the_file_sqlalchemy_opens(url):
    from sqlalchemy.engine import make_url

    from storage.urls import sqlite_file

    assert sqlite_file(url) == Path(make_url(url).database)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///x.db?timeout=3", "sqlite:///a%20b.db",
                                 "postgresql://u@h/db", "sqlite:///file:x.db?mode=ro&uri=true", "peak.db"])
def test_any_other_url_is_left_to_sqlalchemy(url):
    from storage.urls import sqlite_file

    assert sqlite_file(url) is None


def test_sqlite_connections_write_ahead_and_checkpoint_rarely(sqlite_url):
    from sqlalchemy import text

    from storage import get_engine
    from storage.engine import WAL_CHECKPOINT_PAGES

    with get_engine(sqlite_url).connect() as connection:
        settings = [connection.execute(text(f"PRAGMA {name}")).scalar()
                    for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "foreign_keys")]
    assert settings == ["wal", 1, WAL_CHECKPOINT_PAGES, 1] and WAL_CHECKPOINT_PAGES > 1000  # SQLite's own: 1000
