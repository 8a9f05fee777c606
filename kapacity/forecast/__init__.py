"""Forecasting models: one small protocol, validated parameters, a fallback when a fit is poor.

Every model follows statsforecast's shape (:mod:`~kapacity.forecast.protocol`):
``fit(history)`` then ``predict(h, levels)`` returning the point forecast and upper
quantiles, and an ``alias`` naming it. The models:

- :class:`SeasonalNaive` (``naive``): repeat the last week (earlier weeks fill gaps).
  The yardstick, and the fallback.
- :class:`SeasonalProfile` (``profile``): a level-adjusted robust weekly profile
  (``shape``: the weeks side by side by wall-clock time, each over its level,
  outliers clipped, combined with decaying weights, smoothed, blended with a
  pooled daily shape; ``level``: the smoothed weekly level with an optional damped
  growth trend and a decaying correction from the last hours; ``yearly``: last
  year's uplift on the same dates and named events; ``engine``: all of it from any
  origin, cached for the search).
- :class:`AutoProfile` (``choice``): chooses SeasonalProfile's parameters by
  rolling-origin validation on the history's own last weeks (coordinate search, a
  few dozen vectorised evaluations), and falls back to SeasonalNaive when the best
  profile does not beat it on that validation. When the history is shorter than two
  weekly cycles or bursts dominate it, the weekly model competes with daily candidates
  (``short``: median of days, daily profile on a robust level, damped trend, day-type
  profile, each on the history with bursts clipped by ``bursts``) in a rolling-origin
  backtest on the series itself; the choice and its scores go into the parameters.

Quantiles (p90, p99, ...) come from the model's own out-of-sample errors at
earlier origins (``intervals``), so the width follows the traffic level through
the day and coverage is calibrated on the series itself.

Everything is numpy: no iterative fits, so 8 weeks of minute history forecast a
week ahead in a fraction of a second, and results are deterministic.
"""

from kapacity.forecast.arrays import circular_mean, col_median
from kapacity.forecast.choice import SEARCH_SPACE, AutoProfile
from kapacity.forecast.grid import week_slots
from kapacity.forecast.intervals import peak_factor
from kapacity.forecast.naive import SeasonalNaive, seasonal_naive_values
from kapacity.forecast.params import ProfileParams
from kapacity.forecast.profile import SeasonalProfile
from kapacity.forecast.protocol import DEFAULT_LEVELS, Forecast, Forecaster

__all__ = [
    "DEFAULT_LEVELS", "SEARCH_SPACE", "AutoProfile", "Forecast", "Forecaster", "ProfileParams",
    "SeasonalNaive", "SeasonalProfile", "circular_mean", "col_median", "peak_factor",
    "seasonal_naive_values", "week_slots",
]
