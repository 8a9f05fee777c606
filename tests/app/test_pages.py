"""Every page renders on the demo organisation and on an empty database, without exceptions."""

from __future__ import annotations

import pytest

from tests.app.conftest import PAGES, no_exceptions, open_app, texts


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_the_demo_organisation(app_env, demo_db, page):
    app_env(demo_db)
    at = open_app(page)
    no_exceptions(at)
    assert at.title, f"{page} shows no title"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_an_empty_database(app_env, engine, sqlite_url, page):
    app_env(sqlite_url)
    at = open_app(page)
    no_exceptions(at)
    assert at.title


def test_overview_shows_the_company_score_and_progress(app_env, demo_db):
    app_env(demo_db)
    at = open_app("views/overview.py")
    labels = {m.label: m.value for m in at.metric}
    assert labels["Company score"].endswith("%")
    assert "Points outstanding" in labels and "Projected 100%" in labels
    assert "Worst domains" in texts(at)


def test_empty_database_says_what_to_run(app_env, engine, sqlite_url):
    app_env(sqlite_url)
    at = open_app("views/overview.py")
    assert "readiness demo" in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_every_contexts_data(app_env, full_demo, monkeypatch, page):
    url, histories = full_demo
    app_env(url)
    monkeypatch.setenv("KAPACITY_HISTORY_DIR", str(histories))
    at = open_app(page, query={"id": "SYS-0001"} if page.endswith("system.py") else None)
    no_exceptions(at)
    assert not [i.value for i in at.info if "run `" in i.value], f"{page} shows an empty state"
