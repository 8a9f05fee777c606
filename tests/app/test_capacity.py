"""The Capacity page and the System page's forecast on a real Kapacity run over synthetic histories."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.app.conftest import no_exceptions, open_app, texts


@pytest.fixture(scope="module")
def kapacity_db(demo_db, tmp_path_factory):
    """A copy of the demo with one Kapacity run over synthetic histories (built once per module)."""
    folder = tmp_path_factory.mktemp("kapacity")
    shutil.copyfile(demo_db.removeprefix("sqlite:///"), folder / "demo.db")
    url = f"sqlite:///{folder / 'demo.db'}"
    histories = folder / "histories"
    for argv in (["synthesize", "--out", str(histories), "--weeks", "3", "--step", "3600"],
                 ["run", "--histories", str(histories), "--horizon", "2d", "--format", "json"]):
        done = subprocess.run([sys.executable, "-m", "kapacity.cli", *argv, "--db", url],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    return url, histories


@pytest.fixture
def forecasts(app_env, kapacity_db, monkeypatch):
    url, histories = kapacity_db
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
