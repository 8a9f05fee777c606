"""SeasonalProfile's engine: profile forecasts from any origin of one grid.

Each step (week matrix, cleaned weeks, normalised weeks, shape, level) is a pure
function of the grid, the origin and the parameters it depends on, and is cached
under exactly those: the parameter search of :class:`~kapacity.forecast.choice.AutoProfile`
tries dozens of parameter sets that share most steps, so each step runs once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import numpy as np

from kapacity.forecast.grid import Grid
from kapacity.forecast.intervals import Errors
from kapacity.forecast.level import level_path, recent_correction
from kapacity.forecast.params import ProfileParams
from kapacity.forecast.shape import (
    finished_shape,
    normalised_weeks,
    week_matrix,
    weighted_shape,
    without_outlier_days,
)
from kapacity.forecast.yearly import has_year, last_year_window, yearly_factor, yearly_ratios

T = TypeVar("T")


def _memo(cache: dict, key: object, compute: Callable[[], T], limit: int | None = None) -> T:
    """``cache[key]``, computed on first use. A cache with a ``limit`` is dropped wholesale past
    it: the search moves on from parameter sets it has tried, and memory stays flat."""
    if key not in cache:
        value = compute()
        if limit is not None and len(cache) > limit:
            cache.clear()
        cache[key] = value
    return cache[key]


class ProfileEngine:
    """Vectorised profile forecasts from any origin of one grid, with caches for search."""

    def __init__(self, grid: Grid, max_weeks: int) -> None:
        self.grid = grid
        # the matrix holds the most weeks any parameter set uses; fewer weeks are its first
        # rows, and medians (reference profile, outlier clipping) use all rows
        self.max_weeks = max(1, max_weeks)
        self._matrix: dict = {}
        self._clean: dict = {}
        self._norm: dict = {}
        self._shape: dict = {}
        self._final: dict = {}
        self._level: dict = {}
        self._base: dict = {}
        self._yearly: dict = {}

    def forecast(self, m: int, h: int, p: ProfileParams) -> np.ndarray:
        """Point forecast for the ``h`` intervals after origin ``m``, from data before ``m``."""
        f = self._with_recent(m, h, p)
        if (p.yearly > 0 or p.events > 0) and self.has_year(m):
            f = f * yearly_factor(*self.yearly_ratios(m, h, p), p)
        return f * p.scale if p.scale != 1 else f

    def errors(self, p: ProfileParams, origins: list[tuple[int, int]]) -> Errors:
        """(actual, forecast) at each (origin, horizon)."""
        return [(self.grid.y[m:m + h], self.forecast(m, h, p)) for m, h in origins]

    def has_year(self, m: int) -> bool:
        return has_year(self.grid, m)

    def matrix(self, m: int) -> np.ndarray:
        return _memo(self._matrix, m, lambda: week_matrix(self.grid, m, self.max_weeks))

    def cleaned(self, m: int, outlier_days: float) -> tuple[np.ndarray, np.ndarray]:
        """The week matrix without outlier days, and each week's level."""
        return _memo(self._clean, (m, outlier_days),
                     lambda: without_outlier_days(self.matrix(m), self.grid.D, outlier_days))

    def normalised(self, m: int, outlier_days: float, robust: bool) -> tuple[np.ndarray, np.ndarray]:
        return _memo(self._norm, (m, outlier_days, robust),
                     lambda: normalised_weeks(*self.cleaned(m, outlier_days), robust))

    def shape_and_levels(self, m: int, p: ProfileParams) -> tuple[np.ndarray, np.ndarray]:
        """The combined weekly shape and the levels of the weeks in it, newest first."""
        def compute() -> tuple[np.ndarray, np.ndarray]:
            weeks = min(p.weeks, self.max_weeks)
            _, levels = self.cleaned(m, p.outlier_days)
            filled, ok = self.normalised(m, p.outlier_days, p.robust)
            return weighted_shape(filled, ok, weeks, p.decay), levels[:weeks]

        return _memo(self._shape, (m, p.weeks, p.decay, p.robust, p.outlier_days), compute,
                     limit=48)

    def final_shape(self, m: int, p: ProfileParams) -> np.ndarray:
        key = (m, p.weeks, p.decay, p.robust, p.outlier_days, p.smooth_minutes, p.daily_blend,
               p.pooling)
        return _memo(self._final, key, lambda: finished_shape(
            self.shape_and_levels(m, p)[0], self.grid.D, self.grid.step, p), limit=48)

    def level_path(self, m: int, h: int, p: ProfileParams) -> np.ndarray:
        """Forecast level for each of ``h`` points after origin ``m``."""
        key = (m, h, p.weeks, p.decay, p.robust, p.outlier_days, p.level_decay, p.trend,
               p.damping)
        recent = self.grid.y[max(0, m - self.grid.P):m]
        return _memo(self._level, key, lambda: level_path(
            self.shape_and_levels(m, p)[1], recent, h, p, self.grid.P), limit=48)

    def yearly_ratios(self, m: int, h: int, p: ProfileParams) -> tuple[np.ndarray, np.ndarray]:
        """Last year's plain and event uplifts for the ``h`` points after ``m`` (see yearly)."""
        plain = replace(p, yearly=0.0, events=0.0)

        def compute() -> tuple[np.ndarray, np.ndarray]:
            m_ly, h_ly = last_year_window(self.grid, m, h)
            return yearly_ratios(self.grid, m, h, m_ly, self.forecast(m_ly, h_ly, plain))

        return _memo(self._yearly, (m, h, plain), compute)

    def _with_recent(self, m: int, h: int, p: ProfileParams) -> np.ndarray:
        f, shape, level = self._level_times_shape(m, h, p)
        if p.recent_decay <= 0:
            return f
        return recent_correction(f, shape, level, self.grid, m, h, p)

    def _level_times_shape(self, m: int, h: int,
                           p: ProfileParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(level x shape over the horizon, shape, level path), cached across the search."""
        key = (m, h, p.weeks, p.decay, p.robust, p.outlier_days, p.smooth_minutes, p.daily_blend,
               p.pooling, p.level_decay, p.trend, p.damping)

        def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            shape = self.final_shape(m, p)
            level = self.level_path(m, h, p)
            return level * shape[self.grid.slot[m:m + h]], shape, level

        return _memo(self._base, key, compute, limit=64)
