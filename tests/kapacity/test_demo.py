"""The demo tells the truth: Kapacity's demo traffic agrees with the demo inventory, ends at the
present, is minute-level for the purchase flow and holds last season's peak event, and last
season's report compares the forecast made before its peak with the traffic it saw."""

from __future__ import annotations

import json
import statistics
from datetime import datetime, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

import kapacity
import readiness
from kapacity.cli import app
from kapacity.demo import inventory_levels
from readiness.cli import app as readiness_app
from storage import get_engine
from tests.ops.support import copy_sqlite

NOW = datetime(2026, 12, 6, 9, 30)  # after Black Friday 2026 (27 November)
PEAK_STARTS = datetime(2026, 11, 27)


@pytest.fixture(scope="module")
def kapacity_demo(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("kapacity-demo")
    copy_sqlite(demo_db, folder / "demo.db")  # with what the write-ahead log still holds
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



def report_rows(markdown: str, heading: str) -> list[dict]:
    """The rows of the Markdown table under ``## heading``, as dicts by column heading."""
    block = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    if not lines:
        return []
    cells = lambda line: [c.strip() for c in line.strip("|").split("|")]  # noqa: E731
    return [dict(zip(cells(lines[0]), cells(line), strict=True)) for line in lines[2:]]


def test_last_season_report_compares_the_forecast_made_before_its_peak_with_the_actual(kapacity_demo):
    url, folder = kapacity_demo
    engine = get_engine(url)
    past = [r for r in kapacity.list_runs(engine) if r["status"] == "complete" and r["started_at"] < PEAK_STARTS]
    assert len(past) == 1  # the forecast "as of" a moment before the window
    done = CliRunner().invoke(readiness_app, ["season", "report", "peak-2026", "--histories", str(folder),
                                              "--db", url])
    assert done.exit_code == 0, done.output
    rows = report_rows(done.stdout, "Forecast peak against the actual peak")
    systems = [s.system_id for s in readiness.active_systems(engine)]
    assert {r["System / service"] for r in rows} >= set(systems)  # every system's total, and its services
    assert all(r["Forecast run"] == str(past[0]["run_id"]) for r in rows)
    assert all(r["Actual peak at"][:10] >= "2026-11-27" for r in rows)
    assert all(r["Actual peak"] not in ("", "not loaded") and r["Forecast error"] for r in rows)
    # the forecast covers the window's first days, from the history up to before it
    assert all(r["Forecast covers"].startswith("2026-11-27") for r in rows)


def test_last_season_does_not_take_the_place_of_the_demo_season(kapacity_demo):
    url, _ = kapacity_demo
    engine = get_engine(url)
    seasons = {s.key: s for s in readiness.list_seasons(engine)}
    assert seasons["peak-2026"].closed_at is not None
    assert seasons["peak-2026"].starts_on.isoformat() == "2026-11-27"
    assert readiness.current_season(engine, NOW.date()).key == "peak-2027"
    # the run of the present projects onto the demo's season, and is the newest
    newest = kapacity.list_runs(engine)[0]
    assert newest["started_at"] == NOW
    for found in projections(url):
        assert found["projection"]["window"]["key"] == "peak-2027", found["system_id"]
