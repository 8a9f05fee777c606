"""Helpers for the dashboard's tests: run the app in AppTest as a given user on a given database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

MAIN = Path(__file__).resolve().parents[2] / "app" / "main.py"
PAGES = ["views/overview.py", "views/units.py", "views/system.py", "views/rules.py", "views/reviews.py",
         "views/capacity.py", "views/perftests.py", "views/flashsales.py"]


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Streamlit caches live in the process: start every test from cold ones."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture
def app_env(monkeypatch, tmp_path):
    """Point the app at a database; the users file goes to this test's folder."""
    def use(url: str) -> str:
        monkeypatch.setenv("PEAK_DATABASE_URL", url)
        monkeypatch.setenv("PEAK_APP_USERS_FILE", str(tmp_path / "app-users.yaml"))
        return url
    return use


@pytest.fixture
def writable_demo(demo_db, tmp_path) -> str:
    """A private copy of the demo database, for tests that write."""
    source = Path(demo_db.removeprefix("sqlite:///"))
    target = tmp_path / "demo-copy.db"
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


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
