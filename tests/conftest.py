"""Shared fixtures: databases (SQLite file, real PostgreSQL), the repo's paths, the demo,
the real traffic series in tests/data (trimmed copies; see tests/data/SOURCES.md).

PostgreSQL tests use a fresh database per test on the server at
PEAK_TEST_POSTGRES_URL (default 127.0.0.1:5432, trust auth). Where it is
unreachable they skip locally, and fail when PEAK_REQUIRE_POSTGRES=1 (CI).
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage import get_engine, migrate

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"  # real public series, trimmed and gzipped
POSTGRES_ADMIN_URL = os.environ.get("PEAK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        with create_engine(POSTGRES_ADMIN_URL).connect() as connection:
            connection.execute(text("select 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    problem = _postgres_available()
    if problem:
        if os.environ.get("PEAK_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL expected at {POSTGRES_ADMIN_URL} but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_admin):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"peak_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = postgres_admin.rsplit("/", 1)[0] + f"/{name}"
    yield url
    get_engine.cache_clear()
    with admin.connect() as connection:
        connection.execute(text(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'peak.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """Runs a test once on SQLite and once on a real PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(sqlite_url):
    """A migrated SQLite engine (for tests that need one database, not both)."""
    eng = get_engine(sqlite_url)
    migrate(eng)
    return eng


@pytest.fixture
def any_engine(db_url):
    """A migrated engine on SQLite and on PostgreSQL."""
    eng = get_engine(db_url)
    migrate(eng)
    return eng


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    """A database holding the small demo organisation with its history (read-only for tests)."""
    from readiness.service import open_database, run_demo

    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.db'}"
    run_demo(open_database(get_engine(url)), folder / "files", systems=60, seed=3)
    return url


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of real series (``<name>.csv.gz``), part of the repository."""
    return DATA


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Put ``__main__`` back after each test.

    Streamlit's AppTest runs a script as ``__main__`` and can leave it there;
    multiprocessing's spawn (dask workers, forkserver) then re-imports that
    script in every child, so a later test's workers fail to start.
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture
def smtp_sink():
    """A local SMTP server collecting every mail sent to it (tests.mail.SmtpSink)."""
    from tests.mail import start_sink

    sink, controller = start_sink()
    yield sink
    controller.stop()
