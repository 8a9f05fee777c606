"""The schema that migrations build is exactly the schema the models declare, on both databases."""

from __future__ import annotations

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
