"""Seasonal naive: repeat the last week (earlier weeks fill gaps). The yardstick, and the fallback."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kapacity.errors import ParameterError
from kapacity.forecast.grid import Grid
from kapacity.forecast.intervals import Errors, calibration_origins, forecast_with_intervals
from kapacity.forecast.protocol import DEFAULT_LEVELS, Forecast, HistoryModel


def seasonal_naive_values(y: np.ndarray, m: int, h: int, slots: np.ndarray, P: int,
                          max_weeks: int = 8) -> np.ndarray:
    """Same wall-clock slot of the latest season before ``m`` for each of ``h`` points after it.

    ``slots`` gives the slot of season (wall-clock, so DST does not shift the cycle) for at
    least ``m + h`` points. Gaps take the slot from an earlier season, up to ``max_weeks``
    back; what is still missing takes the recent mean.
    """
    lo = max(0, m - max_weeks * P)
    values = y[lo:m]
    ok = ~np.isnan(values)
    latest = np.full(P, np.nan)
    s, v = slots[lo:m][ok][::-1], values[ok][::-1]
    found, first = np.unique(s, return_index=True)  # first in reverse = most recent
    latest[found] = v[first]
    out = latest[slots[m:m + h]]
    if np.isnan(out).any():
        recent = y[max(0, m - P):m]
        pool = recent if np.isfinite(recent).any() else y[:m]
        fill = float(np.nanmean(pool)) if np.isfinite(pool).any() else 0.0
        out[np.isnan(out)] = fill
    return out


def naive_errors(y: np.ndarray, origins: list[tuple[int, int]], slots: np.ndarray,
                 P: int) -> Errors:
    """Seasonal naive's (actual, forecast) at each origin that has a season before it."""
    return [(y[m:m + k], seasonal_naive_values(y, m, k, slots, P)) for m, k in origins if m >= P]


class SeasonalNaive(HistoryModel):
    """Repeat the value one week back; quantiles from its own errors at earlier origins."""

    alias = "SeasonalNaive"

    def __init__(self, season: str = "week") -> None:
        if season not in {"week", "day"}:
            raise ParameterError(f"season {season!r} not understood; use 'week' or 'day'")
        self.season = season

    def predict(self, h: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        history, levels = self.checked(h, levels)
        grid = Grid.build(history, h, None)
        P = history.per_week if self.season == "week" else history.per_day
        slots = grid.slot % P
        mean = seasonal_naive_values(grid.y, history.n, h, slots, P)
        errors = naive_errors(grid.y, calibration_origins(history, h), slots, P)
        return forecast_with_intervals(history, mean, errors, levels, self.alias,
                                       {"season": self.season})
