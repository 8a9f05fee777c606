"""The demo tells the truth: Kapacity's demo traffic agrees with the demo inventory, ends at the
present, is minute-level for the purchase flow and holds last season's peak event."""

from __future__ import annotations

import json
import shutil
import statistics
from datetime import datetime, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

import readiness
from kapacity.cli import app
from kapacity.demo import inventory_levels
from storage import get_engine

NOW = datetime(2026, 12, 6, 9, 30)  # after Black Friday 2026 (27 November)


@pytest.fixture(scope="module")
def kapacity_demo(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kapacity-demo")
    shutil.copyfile(demo_db.removeprefix("sqlite:///"), folder / "demo.db")
    url = f"sqlite:///{folder / 'demo.db'}"
    from kapacity import demo

    demo.run(get_engine(url), folder, now=NOW)
    return url, folder / "histories"


def projections(url: str) -> list[dict]:
    result = CliRunner().invoke(app, ["projection", "--db", url, "--totals", "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["projections"]


def test_the_histories_end_now_and_the_purchase_flow_is_minute_level(kapacity_demo):
    url, folder = kapacity_demo
    systems = readiness.active_systems(get_engine(url))
    for system in systems:
        [path, *_] = sorted((folder / system.system_id).glob("*.parquet"))
        times = pd.read_parquet(path)["timestamp"]
        step = (times.iloc[1] - times.iloc[0]).total_seconds()
        assert step == (60 if system.purchase_flow else 300), system.system_id
        assert NOW - timedelta(minutes=10) < times.iloc[-1] <= NOW
    assert any(s.purchase_flow for s in systems)


def test_forecasts_start_at_the_present(kapacity_demo):
    url, _ = kapacity_demo
    for found in projections(url):
        start = datetime.fromisoformat(found["projection"]["forecast_window"]["from"])
        assert NOW - timedelta(minutes=10) < start <= NOW + timedelta(minutes=5)


def test_the_projection_sees_last_black_friday_and_agrees_with_the_inventory(kapacity_demo):
    url, _ = kapacity_demo
    found = projections(url)
    levels = inventory_levels(get_engine(url), [p["system_id"] for p in found])
    ratios = []
    for p in found:
        projection = p["projection"]
        assert projection["basis"][0]["event"] == "Black Friday", p["system_id"]
        assert projection["basis"][0]["observed_on"] == "2026-11-27"
        assert projection["uplift"] > 1.5  # the peak day shows, not an ordinary one
        ratios.append(projection["baseline_rps"] / levels[p["system_id"]].baseline_rps)
    # the inventory's Baseline is the peak's: the projection from the traffic lands close to it
    assert 0.85 < statistics.median(ratios) < 1.15
    assert sum(0.7 < r < 1.3 for r in ratios) >= 0.9 * len(ratios)

