"""Fixtures for the operations tests: a small organisation with runs, a local SMTP sink."""

from __future__ import annotations

from datetime import timedelta

import pytest

from readiness import import_catalog_file, import_inventory_file, run_evaluation
from readiness.service import open_database
from storage import get_engine, utcnow
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml


@pytest.fixture
def org(db_url, tmp_path):
    """Three systems in two teams and domains, inventory facts and one run, a day old, on SQLite
    and on PostgreSQL. Yields (url, engine, inventory path). ``rita`` is on the readiness team."""
    return make_org(db_url, tmp_path)


@pytest.fixture
def sqlite_org(sqlite_url, tmp_path):
    """The same organisation on SQLite only (for CLI tests whose database does not matter)."""
    return make_org(sqlite_url, tmp_path)


def make_org(db_url: str, tmp_path):
    engine = open_database(get_engine(db_url))
    day_ago = utcnow() - timedelta(days=1)
    import_catalog_file(engine, write_yaml(tmp_path / "catalog.yaml", catalog_doc(readiness_team=["rita"])))
    inventory = write_inventory(tmp_path / "inventory.json",
                                [compute("SYS-1", "api"), compute("SYS-2", "scorer"), compute("SYS-3", "mailer")])
    import_inventory_file(engine, inventory, now=day_ago)
    run_evaluation(engine, now=day_ago)
    return db_url, engine, inventory


