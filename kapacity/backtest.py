"""Rolling-origin backtests: cut the history at origins, forecast, compare with what came.

Metrics, pooled over origins (each origin forecasts ``h`` intervals from the
history before it):

- ``rel_mae``: sum of absolute errors over the sum of weekly seasonal naive's
  absolute errors on the same intervals (below 1 beats "same wall-clock time
  last week");
- ``mase``: MAE over the in-sample MAE of the weekly seasonal difference, mean
  over origins;
- ``coverage`` per quantile level: share of actuals at or below that quantile;
- ``daily_peak_error``: mean absolute percentage error of each day's peak: the
  forecast's daily maximum times its calibrated ``peak_factor`` (1 for models
  without one) vs the actual daily maximum;
- ``under_provisioned_share``: share of intervals where actual demand exceeded
  the Baseline capacity computed at the origin;
- ``over_provisioning_ratio``: Baseline capacity over the actual peak rate, mean
  over origins (1.0 is exact, 1.3 holds 30% more than was needed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kapacity.capacity import CapacitySettings, baseline_rps
from kapacity.errors import ParameterError
from kapacity.forecast import DEFAULT_LEVELS, Forecast, seasonal_naive_values, week_slots
from kapacity.history import DAY, Series, sorted_unique

Model = Callable[[Series, int], Forecast]


@dataclass
class OriginResult:
    origin: int
    mae: float
    naive_mae: float
    mase: float
    coverage: dict[float, float]
    daily_peak_errors: list[float]
    under_share: float
    over_ratio: float
    model: str


@dataclass
class BacktestResult:
    name: str | None
    horizon: int
    step: int
    origins: list[OriginResult] = field(default_factory=list)
    abs_error: float = 0.0
    naive_abs_error: float = 0.0
    points: int = 0
    covered: dict[float, int] = field(default_factory=dict)
    under: int = 0

    @property
    def rel_mae(self) -> float:
        return self.abs_error / self.naive_abs_error if self.naive_abs_error > 0 else math.nan

    def summary(self) -> dict:
        o = self.origins
        peaks = [e for r in o for e in r.daily_peak_errors]
        models: dict[str, int] = {}
        for r in o:
            models[r.model] = models.get(r.model, 0) + 1
        return {
            "series": self.name,
            "origins": len(o),
            "horizon_intervals": self.horizon,
            "resolution_seconds": self.step,
            "points": self.points,
            "mae": _r(self.abs_error / self.points if self.points else math.nan),
            "naive_mae": _r(self.naive_abs_error / self.points if self.points else math.nan),
            "rel_mae": _r(self.rel_mae),
            "mase": _r(float(np.mean([r.mase for r in o])) if o else math.nan),
            "coverage": {f"p{round(q * 100):d}": _r(c / self.points if self.points else math.nan)
                         for q, c in sorted(self.covered.items())},
            "daily_peak_error": _r(float(np.mean(peaks)) if peaks else math.nan),
            "under_provisioned_share": _r(self.under / self.points if self.points else math.nan),
            "over_provisioning_ratio": _r(float(np.nanmean([r.over_ratio for r in o])) if o else math.nan),
            "models": models,
        }


def origins_for(n: int, h: int, count: int, spacing: int, min_train: int) -> list[int]:
    """``count`` origins, the last leaving exactly ``h`` intervals, earlier ones ``spacing`` apart."""
    if count < 1:
        raise ParameterError(f"origins={count} must be at least 1")
    out = [n - h - i * spacing for i in range(count)]
    out = [m for m in out if m >= min_train]
    return sorted(out)


def backtest(series: Series, model: Model, *, h: int, origins: int, spacing: int | None = None,
             levels: Sequence[float] = DEFAULT_LEVELS, settings: CapacitySettings | None = None,
             progress: Callable[[str], None] | None = None) -> BacktestResult:
    """Rolling-origin backtest of ``model(history, h) -> Forecast`` on one series."""
    settings = settings or CapacitySettings()
    spacing = spacing or h
    P = series.per_week
    cut = origins_for(series.n, h, origins, spacing, min_train=P + series.per_day)
    if not cut:
        raise ParameterError(
            f"{series.label}: history of {series.n} intervals leaves no origin with a week and a day "
            f"of training before a {h}-interval horizon; shorten the horizon or the origins")
    result = BacktestResult(series.name, h, series.step, covered={q: 0 for q in levels})
    y = series.values
    slots = week_slots(series.wall_seconds(series.times()), series.step)
    for i, m in enumerate(cut):
        if progress:
            progress(f"{series.label}: origin {i + 1}/{len(cut)}")
        history = series.head(m)
        forecast = model(history, h)
        actual = y[m:m + h]
        ok = ~np.isnan(actual)
        if not ok.any():
            continue
        f = forecast.mean
        naive = seasonal_naive_values(y, m, h, slots, P)
        err = np.abs(actual[ok] - f[ok])
        naive_err = np.abs(actual[ok] - naive[ok])
        train = y[:m]
        diffs = np.abs(train[P:] - train[:-P])
        scale = float(np.nanmean(diffs)) if np.isfinite(diffs).any() else math.nan
        coverage = {}
        for q in levels:
            hit = int((actual[ok] <= forecast.quantiles[q][ok]).sum())
            result.covered[q] += hit
            coverage[q] = hit / ok.sum()
        cap = baseline_rps(forecast, settings)
        actual_rps = actual[ok] / series.step
        under = int((actual_rps > cap + 1e-12).sum())
        peak = float(actual_rps.max())
        result.origins.append(OriginResult(
            m, float(err.mean()), float(naive_err.mean()),
            float(err.mean() / scale) if scale and scale > 0 else math.nan, coverage,
            _daily_peak_errors(series, m, actual, f * forecast.peak_factor), under / ok.sum(),
            cap / peak if peak > 0 else math.nan, forecast.model))
        result.abs_error += float(err.sum())
        result.naive_abs_error += float(naive_err.sum())
        result.points += int(ok.sum())
        result.under += under
    return result


def _daily_peak_errors(series: Series, m: int, actual: np.ndarray, f: np.ndarray) -> list[float]:
    times = series.times(series.start + m * series.step, actual.size)
    days = np.floor_divide(series.wall_seconds(times), DAY)
    out = []
    for day in sorted_unique(days):
        sel = days == day
        ok = sel & ~np.isnan(actual)
        if ok.sum() < 0.8 * series.per_day:
            continue
        peak = float(actual[ok].max())
        if peak > 0:
            out.append(abs(float(f[ok].max()) - peak) / peak)
    return out


def _r(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)
