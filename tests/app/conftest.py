"""Helpers for the dashboard's tests: run the app in AppTest as a given user on a given database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.ops.support import copy_sqlite

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
PAGES = ["views/overview.py", "views/units.py", "views/system.py", "views/rules.py", "views/reviews.py",
         "views/capacity.py", "views/perftests.py", "views/flashsales.py", "views/season.py"]


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Streamlit caches live in the process: start every test from cold ones."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


_USERS_FILES: dict[tuple, Path] = {}


def demo_users_file(url: str, folder: Path) -> Path:
    """The demo's logins as `make app` writes them (`python -m app.users`), once per organisation:
    bcrypt is slow on purpose."""
    from app.users import demo_users, write_users_file
    from storage import get_engine

    users = demo_users(get_engine(url))
    key = tuple((u.role, u.username) for u in users)
    if key not in _USERS_FILES or not _USERS_FILES[key].exists():
        path = folder / f"app-users-{len(_USERS_FILES)}.yaml"
        write_users_file(path, users)
        _USERS_FILES[key] = path
    return _USERS_FILES[key]


@pytest.fixture
def app_env(monkeypatch, tmp_path, tmp_path_factory):
    """Point the app at a database with the demo's users file (written as `make app` does)."""
    def use(url: str) -> str:
        monkeypatch.setenv("PEAK_DATABASE_URL", url)
        cached = demo_users_file(url, tmp_path_factory.getbasetemp())
        shutil.copyfile(cached, tmp_path / "app-users.yaml")
        monkeypatch.setenv("PEAK_APP_USERS_FILE", str(tmp_path / "app-users.yaml"))
        return url
    return use


@pytest.fixture
def writable_demo(demo_db, tmp_path) -> str:
    """A private copy of the demo database, for tests that write."""
    return copy_sqlite(demo_db, tmp_path / "demo-copy.db")  # with what the write-ahead log still holds


@pytest.fixture(scope="session")
def full_demo(demo_db, tmp_path_factory):
    """The demo organisation with every context's data (read-only for tests): a Kapacity run over
    synthetic histories, flashsales' demo with one request, one stored k6 load test.

    Built once per test run even with xdist: the workers share a folder and a lock."""
    import fcntl
    import os

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "app-full-demo"
    with open(shared / "app-full-demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "done").exists():
            folder.mkdir(exist_ok=True)
            _build_full_demo(demo_db, folder)
            (folder / "done").touch()
    return f"sqlite:///{folder / 'demo.db'}", folder / "histories"


def _build_full_demo(demo_db: str, folder: Path) -> None:
    import datetime as dt
    import subprocess
    import sys

    copy_sqlite(demo_db, folder / "demo.db")  # with what the write-ahead log still holds
    url = f"sqlite:///{folder / 'demo.db'}"

    def cli(*argv: str) -> None:
        done = subprocess.run([sys.executable, "-m", *argv, "--db", url], capture_output=True, text=True,
                              timeout=600, cwd=folder)
        assert done.returncode in (0, 3), f"{argv}: {done.stderr[-2000:]}"

    cli("kapacity.cli", "synthesize", "--out", str(folder / "histories"), "--weeks", "2", "--step", "3600")
    cli("kapacity.cli", "run", "--histories", str(folder / "histories"), "--horizon", "2d", "--format", "json")
    cli("flashsales.demo", "--out", str(folder / "files"))
    import flashsales
    from perftest import RunningTarget
    from storage import get_engine

    engine = get_engine(url)
    merchant = next(m for m in flashsales.list_merchants(engine) if m["history_path"])
    day = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    flashsales.submit(engine, {
        "merchant_id": merchant["merchant_id"], "merchant_name": merchant["name"],
        "merchant_category": merchant["category"], "reporter": "bd.jonas", "key_account_manager": "kam.ella",
        "solution_engineer": "se.omar", "countries": ["SE", "NO"], "starts_at": f"{day}T10:00:00+01:00",
        "ends_at": f"{day}T13:00:00+01:00", "expected_multiplier": 4, "notes": "demo sale"}, actor="bd.jonas")
    with RunningTarget(200.0) as target:
        cli("perftest.cli", "run", "--type", "load", "--url", target.url, "--rps", "20", "--duration", "3s",
            "--system", "SYS-0001", "--format", "json")
    engine.dispose()


def open_app(page: str | None = None, *, user: str | None = "viewer", query: dict | None = None,
             timeout: float = 60) -> AppTest:
    """Run the app logged in as ``user`` (None: not logged in), on ``page`` with ``query`` params."""
    at = AppTest.from_file(str(MAIN), default_timeout=timeout)
    if user is not None:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = user
        at.session_state["name"] = user
    at.run()
    if page is not None:
        at.switch_page(page)
        if query:
            at.query_params.update(query)
        at.run()
    return at


def texts(at: AppTest) -> str:
    """Everything the page wrote as text, for assertions on what a person reads."""
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "success", "error",
                                  "warning") for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, "\n\n".join(f"{e.message}\n{''.join(e.stack_trace or [])}" for e in at.exception)
