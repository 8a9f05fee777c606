"""The peak projection through the CLI: last season's peak event x growth on the coming peak days,
stored with the forecast window and history span, and used as the capacity facts."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import readiness
from kapacity.cli import app
from kapacity.runner import SystemSpec
from kapacity.synthetic import Level, synthesize
from readiness.cli import app as readiness_app
from tests.identity.helpers import token_env

CATALOG = """
company: Test
readiness_team: [rita.ready]
domains: [{key: pay, name: Payments}]
groups: [{key: core, name: Core, domain: pay}]
teams: [{key: t1, name: Team one, group: core, members: [rita.ready]}]
systems:
  - {id: SYS-1, name: checkout, team: t1, tier: critical, purchase_flow: true,
     services: [{name: authorize}, {name: capture}], dependencies: [{system: SYS-2, kind: sync}]}
  - {id: SYS-2, name: ledger, team: t1, tier: high, services: [{name: post}]}
"""
SPECS = [SystemSpec("SYS-1", ("authorize", "capture"), True, (("SYS-2", "sync"),)),
         SystemSpec("SYS-2", ("post",), False, ())]
LEVELS = {"SYS-1": Level(240.0, 600.0, {"authorize": 160.0, "capture": 80.0}),
          "SYS-2": Level(150.0, 300.0, {"post": 150.0})}
HISTORY_END = "2025-12-08T00:00:00"  # holds Black Friday 2025-11-28 and Cyber Monday 2025-12-01
GROWTH = 0.2


def invoke(cli, *args: str, env: dict[str, str] | None = None):
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def season(sqlite_url, tmp_path) -> tuple[date, date]:
    """The test catalog and a season over next year's November and December."""
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    invoke(readiness_app, "import", "--db", sqlite_url, "--catalog", str(tmp_path / "catalog.yaml"))
    year = date.today().year + 1
    starts, ends = date(year, 11, 1), date(year, 12, 31)
    invoke(readiness_app, "season", "create", f"peak-{year}", "--name", "Next peak",
           "--starts-on", starts.isoformat(), "--ends-on", ends.isoformat(),
           "--target-date", date(year, 10, 31).isoformat(), "--as", "rita.ready", "--db", sqlite_url,
           env=token_env(sqlite_url, "rita.ready"))
    return starts, ends


def run_over(sqlite_url: str, folder: Path, *, end: str, weeks: int) -> None:
    synthesize(SPECS, folder, weeks=weeks, step=300, flow_step=60, end=end, peaks=True, levels=LEVELS,
               seed=4, file_format="csv")
    invoke(app, "run", "--db", sqlite_url, "--histories", str(folder), "--horizon", "2d",
           "--peak-growth", str(GROWTH), "--quiet")


def projection(sqlite_url: str, system: str, service: str | None) -> dict:
    out = json.loads(invoke(app, "projection", "--db", sqlite_url, "--system", system,
                            "--format", "json").stdout)
    [found] = [p for p in out["projections"] if p["service"] == service]
    return found["projection"]


def daily_peaks(path: Path) -> pd.Series:
    frame = pd.read_csv(path, parse_dates=["timestamp"])
    step = (frame["timestamp"].iloc[1] - frame["timestamp"].iloc[0]).total_seconds()
    return frame.groupby(frame["timestamp"].dt.date)["value"].max() / step


def test_the_projection_is_last_black_friday_times_growth_on_the_coming_one(sqlite_url, season, tmp_path):
    run_over(sqlite_url, tmp_path / "h", end=HISTORY_END, weeks=4)
    found = projection(sqlite_url, "SYS-1", "authorize")
    peaks = daily_peaks(tmp_path / "h" / "SYS-1" / "authorize.csv")
    friday = date(2025, 11, 28)
    ordinary = peaks[(peaks.index < friday) & (peaks.index >= friday - timedelta(days=28))]
    best = found["basis"][0]
    coming = [d for d in pd.date_range(*season).date if d.month == 11 and d.weekday() == 4][3]  # 4th Friday
    years = (coming - friday).days / 365.25
    assert (best["event"], best["observed_on"], best["projected_on"]) == (
        "Black Friday", friday.isoformat(), coming.isoformat())
    assert best["observed_peak_rps"] == pytest.approx(peaks[friday], rel=1e-4)
    assert best["uplift"] == pytest.approx(peaks[friday] / np.median(ordinary), rel=1e-4)
    assert found["peak_rps"] == pytest.approx(peaks[friday] * (1 + GROWTH) ** years, rel=1e-4)
    assert found["growth"]["yearly"] == GROWTH and "declared" in found["growth"]["source"]
    assert found["flas_rps"] >= found["baseline_rps"] >= found["peak_rps"]


def test_the_projection_keeps_its_window_history_span_and_forecast_window(sqlite_url, season, tmp_path):
    run_over(sqlite_url, tmp_path / "h", end=HISTORY_END, weeks=4)
    found = projection(sqlite_url, "SYS-2", None)
    assert (found["window"]["starts_on"], found["window"]["ends_on"]) == tuple(d.isoformat() for d in season)
    assert found["history"]["to"] == "2025-12-07" and found["history"]["days"] == 28
    assert found["forecast_window"]["from"].startswith("2025-12-08")
    assert found["forecast_window"]["to"].startswith("2025-12-09")


def test_the_capacity_policy_takes_the_projection_for_the_season(sqlite_url, season, tmp_path):
    run_over(sqlite_url, tmp_path / "h", end=HISTORY_END, weeks=4)
    invoke(readiness_app, "collect", "sources", "kapacity", "--db", sqlite_url)
    from storage import get_engine

    figures = readiness.stored_capacity_figures(get_engine(sqlite_url), ["SYS-1"])["SYS-1"]
    found = projection(sqlite_url, "SYS-1", None)
    assert figures.forecast_source == "kapacity"
    assert (figures.baseline_rps, figures.flas_rps) == (found["baseline_rps"], found["flas_rps"])


def test_without_last_seasons_peak_days_there_is_no_projection_and_no_peak_evidence(sqlite_url, season,
                                                                                    tmp_path):
    run_over(sqlite_url, tmp_path / "h", end="2025-10-20T00:00:00", weeks=3)
    found = projection(sqlite_url, "SYS-1", None)
    assert "peak_rps" not in found and "holds none of last season's peak days" in found["missing"]
    table = invoke(app, "projection", "--db", sqlite_url, "--system", "SYS-1", "--totals").stdout
    assert "holds none of last season's peak days" in table
    invoke(readiness_app, "collect", "sources", "kapacity", "--db", sqlite_url)
    from storage import get_engine

    figures = readiness.stored_capacity_figures(get_engine(sqlite_url), ["SYS-1"])["SYS-1"]
    assert figures.forecast_source != "kapacity" and "not evidence for the peak" in figures.forecast_note


def test_asking_for_a_system_kapacity_has_not_forecast_says_so(sqlite_url, season, tmp_path):
    run_over(sqlite_url, tmp_path / "h", end=HISTORY_END, weeks=4)
    result = CliRunner().invoke(app, ["projection", "--db", sqlite_url, "--system", "SYS-9"])
    assert result.exit_code == 1 and "no stored Kapacity forecast for SYS-9" in result.output
