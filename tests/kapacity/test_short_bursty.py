"""A short history dominated by bursts (issue 12), through ``kapacity forecast`` and ``capacity``.

Ten days of 5-minute traffic with a daily cycle and, on a few days of the last week,
single-interval bursts of 300 times the median: weekly seasonal naive would copy
them into the forecast a week later.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kapacity.cli import app
from kapacity.history import Series
from tests.kapacity.helpers import DAY, series_csv, synthetic

runner = CliRunner()
BURST = 300.0
# (day, hour): bursts one week before each day of the 3-day horizon (days 10-12)
BURSTS = [(3, 14), (4, 9), (5, 20), (1, 11)]


def bursty_history() -> Series:
    base = synthetic(days=10, step=300, level=100.0, noise=0.1, seed=7, name="new-endpoint")
    values = base.values.copy()
    median = float(np.median(values))
    for day, hour in BURSTS:
        values[(day * DAY + hour * 3600) // 300] = BURST * median
    return Series(base.name, base.start, base.step, values, base.tz, base.source)


@pytest.fixture
def history_file(tmp_path):
    return series_csv(tmp_path / "bursty.csv", bursty_history())


def forecast_text(path) -> str:
    result = runner.invoke(app, ["forecast", "--history", str(path), "--horizon", "3d", "-q"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_daily_maxima_do_not_reproduce_last_weeks_bursts(history_file):
    frame = pd.read_csv(io.StringIO(forecast_text(history_file)))
    median = float(np.median(bursty_history().values))
    daily_max = frame["forecast"].to_numpy().reshape(3, -1).max(axis=1)
    # the regular daily peak is about 1.6x the median; a copied burst is 300x
    assert (daily_max < 5 * median).all(), daily_max / median
    assert (daily_max > 0.8 * median).all(), daily_max / median


def test_the_chosen_model_and_its_backtest_are_in_the_assumptions(history_file):
    result = runner.invoke(app, ["capacity", "--history", str(history_file), "--horizon", "3d",
                                 "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)["series"]
    assumptions = entry["assumptions"]
    choice = assumptions["model_params"]["choice"]
    scores = choice["backtest_mae"]
    assert len(scores) >= 4 and choice["backtest_origins"] >= 1
    assert "shorter than two weekly cycles" in choice["why"]
    assert scores[choice["chosen"]] == min(v for v in scores.values() if v is not None)
    assert any(choice["chosen"] in note for note in assumptions["notes"])
    # the burst risk is carried into FLAS (the historical surge), not the point forecast
    assert entry["spike_ratio"] > 10
    assert entry["flas_rps"] > 10 * entry["peak_forecast_rps"]


def test_same_bursty_input_gives_byte_identical_output(history_file):
    assert forecast_text(history_file) == forecast_text(history_file)


def test_a_long_history_dominated_by_bursts_also_gets_the_backtested_choice(tmp_path):
    base = synthetic(days=21, step=300, level=100.0, noise=0.1, seed=3, name="elb-bytes")
    values = base.values.copy()
    median = float(np.median(values))
    values[[(d * DAY + 10 * 3600) // 300 for d in (9, 15, 18)]] = BURST * median
    path = series_csv(tmp_path / "long.csv", Series(base.name, base.start, base.step, values))
    result = runner.invoke(app, ["capacity", "--history", str(path), "--horizon", "1d",
                                 "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)["series"]
    params = entry["assumptions"]["model_params"]
    assert params["choice"]["why"].startswith("bursts dominate")
    assert params["bursts"]["max_over_median"] > 100
    assert entry["peak_forecast_rps"] * 300 < 5 * median
