"""Daily candidates for short or bursty histories, and the choice among them by backtest.

Under two weekly cycles a weekly profile has one or two examples of each slot, and
seasonal naive copies last week's bursts into next week. These candidates need only
days: each forecasts from the regular part of the history before its origin (bursts
clipped, :mod:`~kapacity.forecast.bursts`):

- ``median_of_days_3`` / ``median_of_days_7``: the time-of-day median of the last 3 or 7 days;
- ``daily_profile``: a time-of-day shape (each day over its mean, median over up to two
  weeks) on a robust level (the median of the last three days' means);
- ``damped_trend``: that profile with the days' Theil-Sen growth, damped per day;
- ``day_type_profile``: time-of-day medians kept apart for weekdays and weekends.

:func:`choose` scores them (with the weekly model already chosen) by MAE against the
raw actuals at rolling origins on the series itself; the lowest wins, and the scores
are recorded in the forecast's parameters.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from kapacity.forecast.arrays import circular_mean, col_median
from kapacity.forecast.bursts import Bursts, day_matrix, regular_part
from kapacity.forecast.grid import Grid

Origins = list[tuple[int, int]]
Candidate = Callable[[int, int], np.ndarray]  # (origin, horizon) -> forecast

TREND_DAMPING = 0.8   # share of the daily growth kept for each further day ahead
MAX_DAILY_GROWTH = 0.1


class DailyCandidates:
    """The daily candidates on one grid, the regular part cached per origin."""

    ALIASES = {"median_of_days_3": "MedianOfDays", "median_of_days_7": "MedianOfDays",
               "daily_profile": "DailyProfile", "damped_trend": "DampedTrendProfile",
               "day_type_profile": "DayTypeProfile"}

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.tod = grid.slot % grid.D
        self.weekend = (grid.slot // grid.D) >= 5
        self._regular: dict[int, tuple[np.ndarray, Bursts]] = {}

    def regular(self, m: int) -> tuple[np.ndarray, Bursts]:
        if m not in self._regular:
            g = self.grid
            # event days (holidays, shopping peaks) stay out, as in the weekly profile
            y = np.where(g.excluded, np.nan, g.y) if g.excluded[:m].any() else g.y
            self._regular[m] = regular_part(y, self.tod, g.day, m, g.D, g.step)
        return self._regular[m]

    def candidates(self) -> dict[str, Candidate]:
        return {"median_of_days_3": lambda m, h: self._median_of_days(m, h, 3),
                "median_of_days_7": lambda m, h: self._median_of_days(m, h, 7),
                "daily_profile": lambda m, h: self._profile(m, h, trend=False),
                "damped_trend": lambda m, h: self._profile(m, h, trend=True),
                "day_type_profile": self._day_type}

    def _matrix(self, m: int, days: int) -> np.ndarray:
        regular, _ = self.regular(m)
        g = self.grid
        return day_matrix(regular, self.tod, g.day, m, days, g.D)

    def _smoothed(self, profile: np.ndarray) -> np.ndarray:
        profile = np.where(np.isnan(profile), _finite_median(profile), profile)
        width = max(1, round(3600 / self.grid.step))
        return circular_mean(profile, width) if width > 1 else profile

    def _median_of_days(self, m: int, h: int, days: int) -> np.ndarray:
        profile = self._smoothed(col_median(self._matrix(m, days)))
        return profile[self.tod[m:m + h]]

    def _profile(self, m: int, h: int, trend: bool) -> np.ndarray:
        M = self._matrix(m, 14)
        means = _row_means(M)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = M / np.where(means > 0, means, np.nan)[:, None]
        shape = self._smoothed(col_median(unit))
        recent = means[:3][np.isfinite(means[:3])]
        level = float(np.median(recent)) if recent.size else _finite_median(means)
        path = np.full(h, level)
        if trend:
            path = level * np.exp(_daily_growth(means) * _damped_days(h, self.grid.D))
        return path * shape[self.tod[m:m + h]]

    def _day_type(self, m: int, h: int) -> np.ndarray:
        M = self._matrix(m, 14)
        last_day = self.grid.day[m - 1]
        weekend_rows = ((last_day - np.arange(M.shape[0]) + 3) % 7) >= 5
        both = self._smoothed(col_median(M))
        out = np.empty(h)
        ahead = self.weekend[m:m + h]
        for is_weekend in (False, True):
            rows = M[weekend_rows == is_weekend]
            has = np.isfinite(rows).any()
            profile = self._smoothed(col_median(rows)) if has else both
            sel = ahead == is_weekend
            out[sel] = profile[self.tod[m:m + h][sel]]
        return out


def choose(candidates: dict[str, Candidate], y: np.ndarray, origins: Origins,
           margin: float = 0.0) -> tuple[str, dict[str, float | None]]:
    """The candidate with the lowest backtest MAE at ``origins``, and every candidate's MAE.

    The first candidate is the incumbent: another replaces it only when its MAE is lower by
    more than ``margin`` (a share); among the others, the first listed wins a tie.
    """
    scores = {name: backtest_mae(run, y, origins) for name, run in candidates.items()}
    incumbent = next(iter(scores))
    best = min(scores, key=lambda name: (scores[name], list(scores).index(name)))
    if scores[best] >= (1 - margin) * scores[incumbent]:
        best = incumbent
    return best, {k: (None if not math.isfinite(v) else round(v, 6)) for k, v in scores.items()}


def backtest_mae(run: Candidate, y: np.ndarray, origins: Origins) -> float:
    total, count = 0.0, 0
    for m, h in origins:
        actual = y[m:m + h]
        f = np.maximum(run(m, h), 0)
        ok = ~np.isnan(actual) & np.isfinite(f)
        total += float(np.abs(actual[ok] - f[ok]).sum())
        count += int(ok.sum())
    return total / count if count else math.inf


def _row_means(M: np.ndarray) -> np.ndarray:
    counts = (~np.isnan(M)).sum(axis=1)
    enough = counts >= 0.5 * M.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(enough, np.nansum(M, axis=1) / np.maximum(counts, 1), np.nan)


def _finite_median(x: np.ndarray) -> float:
    ok = np.isfinite(x)
    return float(np.median(x[ok])) if ok.any() else 0.0


def _daily_growth(means: np.ndarray) -> float:
    """Theil-Sen growth of log daily means per day (row 0 is the newest), clipped."""
    ages = np.arange(means.size, dtype=float)
    ok = np.isfinite(means) & (means > 0)
    if ok.sum() < 3:
        return 0.0
    logs, ages = np.log(means[ok]), ages[ok]
    i, j = np.triu_indices(ages.size, 1)
    slopes = (logs[i] - logs[j]) / (ages[j] - ages[i])
    return float(np.clip(np.median(slopes), -MAX_DAILY_GROWTH, MAX_DAILY_GROWTH))


def _damped_days(h: int, D: int) -> np.ndarray:
    """Days of growth each of ``h`` points gets, damped by :data:`TREND_DAMPING` per day."""
    ahead = (np.arange(h) + 1) / D + 1.0  # the level is the last three days' centre
    return TREND_DAMPING * (1 - TREND_DAMPING ** ahead) / (1 - TREND_DAMPING)
