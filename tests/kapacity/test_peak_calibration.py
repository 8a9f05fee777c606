"""A calendar peak in the history must not widen the p99 of the ordinary days after it.

Black Friday and Cyber Monday are event days Kapacity knows (``kapacity.calendar``): they
stay out of the profile, and their errors stay out of the interval calibration, so a
flash sale last week does not shrink the headroom a review sees on the days after it
(through ``kapacity forecast``, the public entry point).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kapacity.cli import app
from kapacity.history import Series
from tests.kapacity.helpers import DAY, series_csv, synthetic

runner = CliRunner()
STEP = 900
START = "2024-10-24T00:00:00"      # a Thursday; six weeks to Thursday 5 December 2024
PEAK_DAYS = ("2024-11-29", "2024-12-02")  # Black Friday and Cyber Monday 2024
# Event days stay out of profile, levels, validation and calibration; the one path left for
# the peak is a model choice it could tip (the fallback to seasonal naive is scored on raw
# actuals), which would move the p99 by a few per cent at most. Here the p99 comes out equal;
# with the peak's errors in the calibration it was 5.5 times wider (median over the horizon).
TOLERANCE = 0.02


def history(peak: float) -> Series:
    base = synthetic(days=42, step=STEP, level=100.0, noise=0.1, seed=11, start=START,
                     name="checkout")
    values = base.values.copy()
    times = base.start + STEP * np.arange(base.n)
    for day in PEAK_DAYS:
        first = int(pd.Timestamp(day).value // 1_000_000_000)
        values[(times >= first) & (times < first + DAY)] *= peak
    return Series(base.name, base.start, base.step, values, base.tz, base.source)


def forecast(path, *extra: str) -> pd.DataFrame:
    result = runner.invoke(app, ["forecast", "--history", str(path), "--horizon", "3d", "-q",
                                 *extra])
    assert result.exit_code == 0, result.output
    return pd.read_csv(io.StringIO(result.stdout))


@pytest.fixture
def files(tmp_path):
    return (series_csv(tmp_path / "plain.csv", history(1.0)),
            series_csv(tmp_path / "peak.csv", history(6.0)))


def test_p99_after_a_black_friday_peak_is_not_wider_than_without_it(files):
    plain, peak = (forecast(path) for path in files)
    assert (peak["p99"] <= plain["p99"] * (1 + TOLERANCE)).all(), (
        (peak["p99"] / plain["p99"]).max())
    assert (peak["p99"] > peak["forecast"]).any()


def test_the_same_peak_on_days_kapacity_does_not_know_as_events_widens_the_p99(files):
    # with --no-peaks Black Friday is an ordinary day: its errors calibrate the p99, which
    # is what the test above guards against (and shows the comparison can fail)
    plain, peak = (forecast(path, "--no-peaks") for path in files)
    assert (peak["p99"] / plain["p99"]).median() > 1 + TOLERANCE


def test_an_event_day_in_the_horizon_keeps_the_band_its_kind_of_day_needs(tmp_path):
    # history to Monday 23 December 2024; the horizon's second day is Christmas Eve, an event
    # day: there the p99 keeps the band calibrated on all errors (Cyber Monday's included),
    # while the ordinary day before it does not widen
    def history_to_christmas(peak: float) -> Series:
        base = synthetic(days=48, step=STEP, level=100.0, noise=0.1, seed=5,
                         start="2024-11-05T00:00:00", name="checkout")
        values = base.values.copy()
        times = base.start + STEP * np.arange(base.n)
        first = int(pd.Timestamp("2024-12-02").value // 1_000_000_000)
        values[(times >= first) & (times < first + DAY)] *= peak
        return Series(base.name, base.start, base.step, values, base.tz, base.source)

    def p99(peak: float) -> pd.DataFrame:
        path = series_csv(tmp_path / f"h{peak:g}.csv", history_to_christmas(peak))
        result = runner.invoke(app, ["forecast", "--history", str(path), "--horizon", "2d", "-q"])
        assert result.exit_code == 0, result.output
        frame = pd.read_csv(io.StringIO(result.stdout))
        return frame.set_index(frame["timestamp"].str[:10])["p99"]

    plain, peak = p99(1.0), p99(6.0)
    ordinary, christmas_eve = "2024-12-23", "2024-12-24"
    assert (peak[ordinary] <= plain[ordinary] * (1 + TOLERANCE)).all()
    assert (peak[christmas_eve] / plain[christmas_eve]).median() > 1.5
