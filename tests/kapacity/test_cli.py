"""The CLI contract other tools rely on, on every real file and on bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kapacity.cli import app
from kapacity.history import read_history
from tests.conftest import DATA
from tests.kapacity.helpers import series_csv, synthetic

runner = CliRunner()
REAL_FILES = sorted(p.name for p in DATA.glob("*.csv.gz"))


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("name", REAL_FILES)
def test_forecast_contract_on_every_real_file(data_dir, tmp_path, name):
    out = tmp_path / "f.csv"
    result = run("forecast", "--history", str(data_dir / name), "--horizon", "12h", "--out", str(out))
    assert result.exit_code == 0, result.output
    [history] = read_history(data_dir / name)
    text = out.read_text()
    assert text.splitlines()[0] == "timestamp,forecast,p90,p99"
    frame = pd.read_csv(out, dtype={"timestamp": str})
    assert len(frame) == 12 * 3600 // history.step
    # continues the grid and the time convention of the history
    expected = history.format_times(history.times(history.end + history.step, len(frame)))
    assert frame["timestamp"].tolist() == expected.tolist()
    assert (frame["p99"] >= frame["p90"]).all() and (frame["p90"] >= frame["forecast"]).all()
    assert (frame["forecast"] >= 0).all()


@pytest.mark.parametrize("name", REAL_FILES)
def test_capacity_json_on_every_real_file(data_dir, name):
    result = run("capacity", "--history", str(data_dir / name), "--horizon", "12h", "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [entry] = document["series"]
    for key in ("baseline_rps", "flas_rps", "peak_forecast_rps", "spike_ratio", "assumptions"):
        assert key in entry
    assert entry["flas_rps"] >= entry["baseline_rps"] > 0
    assert entry["assumptions"]["quantile"] == 0.99
    assert set(entry["growth"]) == {"wow", "mom", "yoy"}


def test_forecast_with_series_column_adds_series(tmp_path):
    a = synthetic(days=21, step=3600, name="checkout", seed=1)
    b = synthetic(days=21, step=3600, name="search", seed=2, level=30)
    frame = pd.concat([pd.read_csv(series_csv(tmp_path / "a.csv", a, with_series=True)),
                       pd.read_csv(series_csv(tmp_path / "b.csv", b, with_series=True))])
    frame.to_csv(tmp_path / "both.csv", index=False)
    out = tmp_path / "f.csv"
    result = run("forecast", "--history", str(tmp_path / "both.csv"), "--horizon", "1d", "--out", str(out))
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out)
    assert list(got.columns) == ["timestamp", "forecast", "p90", "p99", "series"]
    assert got.groupby("series").size().to_dict() == {"checkout": 24, "search": 24}


def test_forecast_to_stdout_is_byte_for_byte_reproducible(slice_of):
    path = slice_of("nab_twitter_volume_goog_5min.csv.gz", 0, 3000)
    first = run("forecast", "--history", str(path), "--horizon", "3d", "-q")
    second = run("forecast", "--history", str(path), "--horizon", "3d", "-q")
    assert first.exit_code == 0 and first.stdout == second.stdout
    frame = pd.read_csv(io.StringIO(first.stdout))
    assert len(frame) == 3 * 288 and frame["timestamp"].iloc[0].endswith(":53")


def test_forecast_with_known_events_raises_the_window(tmp_path):
    history = synthetic(days=21, step=3600)
    path = series_csv(tmp_path / "h.csv", history)
    events = tmp_path / "events.csv"
    events.write_text("name,start,end,multiplier\nsale,2024-01-22T10:00:00,2024-01-22T12:00:00,8\n")
    plain = pd.read_csv(io.StringIO(run("forecast", "-H", str(path), "--horizon", "1d", "-q").stdout))
    boosted = pd.read_csv(io.StringIO(run("forecast", "-H", str(path), "--horizon", "1d", "-q",
                                          "--events", str(events)).stdout))
    ratio = (boosted["forecast"] / plain["forecast"]).round(3).tolist()
    assert ratio == [1.0] * 10 + [8.0, 8.0] + [1.0] * 12


def test_backtest_reports_the_metrics(slice_of):
    path = slice_of("nab_nyc_taxi_passengers_30min.csv.gz", 0, 48 * 30)
    result = run("backtest", "--history", str(path), "--horizon", "3d", "--origins", "2", "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [summary] = document["series"]
    assert summary["origins"] == 2
    for key in ("rel_mae", "mase", "daily_peak_error", "under_provisioned_share", "over_provisioning_ratio"):
        assert summary[key] is not None
    assert 0 <= summary["coverage"]["p99"] <= 1
    assert document["overall"]["geomean_rel_mae"] == summary["rel_mae"]


def test_backtest_table_and_progress_on_stderr(slice_of):
    path = slice_of("nab_nyc_taxi_passengers_30min.csv.gz", 0, 48 * 30)
    result = runner.invoke(app, ["backtest", "--history", str(path), "--horizon", "1d", "--origins", "2"])
    assert result.exit_code == 0
    assert "rel_mae" in result.stdout.splitlines()[0]
    assert "origin 1/2" in result.stderr


def test_growth_command(data_dir):
    result = run("growth", "--history", str(data_dir / "capital_bikeshare_rentals_hourly.csv.gz"),
                 "--format", "json")
    assert result.exit_code == 0
    [entry] = json.loads(result.stdout)["series"]
    assert entry["yoy"]["volume"] is not None


def test_unusable_file_exits_1_with_the_place(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\n2024-01-01T00:00:00,1\n2024-01-01T01:00:00,many\n")
    result = run("forecast", "--history", str(bad), "--horizon", "1d")
    assert result.exit_code == 1
    assert f"{bad}: line 3: value 'many' is not a number" in result.stderr


def test_bad_horizon_is_a_usage_error(data_dir):
    result = run("forecast", "--history", str(data_dir / REAL_FILES[0]), "--horizon", "7 days")
    assert result.exit_code == 2


def test_horizon_shorter_than_resolution_is_refused(data_dir):
    result = run("forecast", "--history", str(data_dir / "capital_bikeshare_rentals_hourly.csv.gz"),
                 "--horizon", "30min")
    assert result.exit_code == 1 and "shorter than the history's resolution" in result.stderr


def test_every_command_has_help():
    for command in ("forecast", "capacity", "backtest", "growth"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "--history" in result.stdout


def test_capacity_csv_format(tmp_path):
    path = series_csv(tmp_path / "h.csv", synthetic(days=21, step=600))
    result = run("capacity", "--history", str(path), "--horizon", "1d", "--format", "csv", "-q")
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns[:5]) == ["series", "baseline_rps", "flas_rps", "peak_forecast_rps", "spike_ratio"]
    assert np.isfinite(frame["flas_rps"]).all()


def test_the_real_series_ship_with_the_tests():
    assert Path(DATA).resolve() == Path(__file__).resolve().parents[1] / "data" and len(REAL_FILES) >= 8


@pytest.mark.parametrize("args", [["--country", "XX"], ["--model", "magic"]])
def test_bad_settings_are_usage_errors(data_dir, args):
    result = run("forecast", "--history", str(data_dir / "nab_elb_request_count_5min.csv.gz"),
                 "--horizon", "1d", *args)
    assert result.exit_code == 2


def test_quantile_outside_its_range_is_a_usage_error(data_dir):
    result = run("capacity", "--history", str(data_dir / "nab_elb_request_count_5min.csv.gz"),
                 "--horizon", "1d", "--quantile", "1.5")
    assert result.exit_code == 2
