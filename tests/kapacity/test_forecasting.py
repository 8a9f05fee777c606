"""Models: protocol, validated parameters, accuracy on synthetic traffic, fallback, events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kapacity.backtest import backtest
from kapacity.calendar import EventCalendar, thanksgiving
from kapacity.errors import ParameterError
from kapacity.forecast import AutoProfile, ProfileParams, SeasonalNaive, SeasonalProfile
from kapacity.history import Series
from kapacity.service import ForecastSettings, forecast_series
from tests.kapacity.helpers import DAY, synthetic, weekly_pattern


@pytest.mark.parametrize("bad", [dict(weeks=0), dict(decay=1.5), dict(daily_blend=-0.1),
                                 dict(recent_decay=1.0), dict(pooling="some"),
                                 dict(outlier_days=0.5), dict(smooth_minutes=5000)])
def test_profile_parameters_are_validated_at_construction(bad):
    with pytest.raises(ParameterError):
        ProfileParams(**bad)


def test_unknown_parameters_and_search_values_are_refused():
    with pytest.raises(ParameterError):
        SeasonalProfile(speed=3)
    with pytest.raises(ParameterError):
        AutoProfile(search={"weeks": (0, 4)})
    with pytest.raises(ParameterError):
        AutoProfile(passes=9)


def test_predict_before_fit_is_an_error():
    with pytest.raises(ParameterError, match="fit"):
        SeasonalNaive().predict(10)


@pytest.mark.parametrize("model", [SeasonalNaive(), SeasonalProfile(), AutoProfile()])
def test_every_model_follows_the_protocol(model):
    history = synthetic(days=28, step=1800)
    forecast = model.fit(history).predict(48, levels=(0.9, 0.99))
    assert forecast.h == 48 and forecast.start == history.end + history.step
    assert set(forecast.quantiles) == {0.9, 0.99}
    assert (forecast.mean >= 0).all()
    assert (forecast.quantiles[0.9] >= forecast.mean).all()
    assert (forecast.quantiles[0.99] >= forecast.quantiles[0.9]).all()
    assert forecast.model in {"SeasonalNaive", "SeasonalProfile"}


def test_seasonal_naive_repeats_last_week():
    history = synthetic(days=21, step=3600, noise=0.3)
    forecast = SeasonalNaive().fit(history).predict(168)
    assert np.allclose(forecast.mean, history.values[-168:])


def test_profile_beats_seasonal_naive_on_noisy_seasonal_traffic():
    series = synthetic(days=70, step=900, noise=0.25, seed=4)
    result = backtest(series, lambda h, k: AutoProfile().fit(h).predict(k), h=7 * 96, origins=3)
    assert result.rel_mae < 0.8
    coverage = result.summary()["coverage"]["p99"]
    assert 0.95 <= coverage <= 1.0


def test_seasonal_naive_is_exactly_itself_in_a_backtest():
    series = synthetic(days=35, step=3600, noise=0.2)
    result = backtest(series, lambda h, k: SeasonalNaive().fit(h).predict(k), h=168, origins=2)
    assert result.rel_mae == pytest.approx(1.0)


def test_poor_profile_fit_falls_back_to_seasonal_naive():
    # each week is last week plus a random-walk step per slot: last week is the best guess
    rng = np.random.default_rng(1)
    step, weeks = 3600, 10
    P = 168
    values = np.empty(weeks * P)
    values[:P] = 100 + 50 * rng.random(P)
    for w in range(1, weeks):
        values[w * P:(w + 1) * P] = np.maximum(values[(w - 1) * P:w * P] + 25 * rng.standard_normal(P), 1)
    history = Series(None, 1_704_067_200, step, values)
    forecast = AutoProfile().fit(history).predict(48)
    assert forecast.model == "SeasonalNaive"
    assert "fell back" in forecast.notes[0]
    assert np.allclose(forecast.mean, values[-P:][:48])


def test_forecasts_are_reproducible_byte_for_byte():
    history = synthetic(days=35, step=600, noise=0.2, seed=7)
    a = AutoProfile().fit(history).predict(500)
    b = AutoProfile().fit(history).predict(500)
    assert a.mean.tobytes() == b.mean.tobytes()
    assert all(a.quantiles[q].tobytes() == b.quantiles[q].tobytes() for q in a.quantiles)
    assert a.params == b.params


def test_growth_is_followed_by_the_level():
    history = synthetic(days=56, step=3600, noise=0.02, weekly_growth=0.05)
    forecast = AutoProfile().fit(history).predict(168)
    assert forecast.mean.sum() > 1.02 * history.values[-168:].sum()


def test_daily_cycle_follows_local_time_across_dst():
    # a zone with DST: the peak is at 13:00 local before and after the change
    times = pd.date_range("2024-02-01", "2024-03-28", freq="h", tz="Europe/Berlin", inclusive="left")
    wall = times.tz_localize(None).as_unit("s").asi8
    values = 100 * weekly_pattern(wall)
    utc = times.tz_convert("UTC").tz_localize(None).as_unit("s").asi8
    history = Series(None, int(utc[0]), 3600, values, "Europe/Berlin")
    forecast = AutoProfile().fit(history).predict(7 * 24)  # crosses 31 March
    local_hours = (history.wall_seconds(forecast.times()) % DAY) // 3600
    daily_peaks = [int(local_hours[d * 24:(d + 1) * 24][np.argmax(forecast.mean[d * 24:(d + 1) * 24])])
                   for d in range(7)]
    assert daily_peaks == [13] * 7


def _yearly_with_black_friday(years: int = 2) -> Series:
    start = pd.Timestamp("2022-09-01")
    end = pd.Timestamp(f"{2022 + years - 1}-11-20")
    times = pd.date_range(start, end, freq="h", inclusive="left")
    wall = times.as_unit("s").asi8
    values = 100 * weekly_pattern(wall)
    for year in range(2022, 2022 + years):
        bf = pd.Timestamp(thanksgiving(year)) + pd.Timedelta(days=1)
        on = (times >= bf) & (times < bf + pd.Timedelta(days=1))
        values[on] *= 3.0
    return Series(None, int(wall[0]), 3600, values)


def test_black_friday_uplift_is_learned_from_last_year():
    history = _yearly_with_black_friday()
    settings = ForecastSettings(country="US")
    forecast = forecast_series(history, 14 * 24, settings)
    days = history.wall_seconds(forecast.times()) // DAY
    bf = (pd.Timestamp(thanksgiving(2023)) + pd.Timedelta(days=1)).value // 10**9 // DAY
    on_bf = forecast.mean[days == bf].sum()
    week_after = forecast.mean[days == bf + 7].sum()
    assert on_bf == pytest.approx(3 * week_after, rel=0.15)
    assert forecast.params["events"] == 1.0


def test_without_the_calendar_black_friday_is_just_a_friday():
    history = _yearly_with_black_friday()
    forecast = forecast_series(history, 14 * 24, ForecastSettings(country=None, peaks=False))
    days = history.wall_seconds(forecast.times()) // DAY
    bf = (pd.Timestamp(thanksgiving(2023)) + pd.Timedelta(days=1)).value // 10**9 // DAY
    assert forecast.mean[days == bf].sum() < 1.5 * forecast.mean[days == bf + 7].sum()


def test_unknown_country_is_a_parameter_error():
    with pytest.raises(ParameterError, match="holiday calendar"):
        EventCalendar("XX")
