"""The Capacity page and the System page's forecast on a real Kapacity run over synthetic histories
(the full demo)."""

from __future__ import annotations

import pytest

from tests.app.conftest import no_exceptions, open_app, texts


@pytest.fixture
def forecasts(app_env, full_demo, monkeypatch):
    url, histories = full_demo
    app_env(url)
    monkeypatch.setenv("KAPACITY_HISTORY_DIR", str(histories))
    return url


def test_the_capacity_page_shows_forecasts_capacity_and_shortfalls(forecasts):
    at = open_app("views/capacity.py")
    no_exceptions(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Systems forecast"] == "60"
    assert metrics["FLAS capacity"].endswith("req/s") and metrics["Baseline capacity"].endswith("req/s")
    assert "Provisioned capacity below the forecast" in texts(at)
    assert "Set KAPACITY_HISTORY_DIR" not in texts(at)  # the history line is there


def test_the_system_page_shows_its_forecast(forecasts):
    at = open_app("views/system.py", query={"id": "SYS-0001"})
    no_exceptions(at)
    assert "Peak forecast" in {m.label for m in at.metric}
    assert "No forecast yet" not in texts(at)
