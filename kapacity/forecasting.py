"""Forecasting models: one small protocol, validated parameters, a fallback when a fit is poor.

Every model follows statsforecast's shape: ``fit(history)`` then
``predict(h, levels)`` returning the point forecast and upper quantiles, and an
``alias`` naming it. The models:

- :class:`SeasonalNaive`: repeat the last week (earlier weeks fill gaps). The
  yardstick, and the fallback.
- :class:`SeasonalProfile`: a level-adjusted robust weekly profile. The last
  ``weeks`` weeks are laid side by side by wall-clock time of week (so DST moves
  the daily cycle with local time), each week is divided by its own level,
  the shapes are combined with exponentially decaying weights after clipping
  outliers (spikes and holidays do not leak into next week), smoothed along the
  week, blended with a daily shape pooled over days (less noise at minute
  resolution), and multiplied by the smoothed weekly level with an optional
  damped growth trend and a decaying correction from the last hours.
- :class:`AutoProfile`: chooses SeasonalProfile's parameters by rolling-origin
  validation on the history's own last weeks (coordinate search, a few dozen
  vectorised evaluations), and falls back to SeasonalNaive when the best profile
  does not beat it on that validation.

Quantiles (p90, p99, ...) come from the model's own out-of-sample errors at
earlier origins: errors are scaled by ``(forecast + c) ** beta`` (beta chosen by
pinball loss), and the scaled error's empirical quantile, with the finite-sample
conformal correction, is added back. So the width follows the traffic level
through the day, and coverage is calibrated on the series itself.

Everything is numpy: no iterative fits, so 8 weeks of minute history forecast a
week ahead in a fraction of a second, and results are deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Protocol, Self

import numpy as np

from kapacity.calendar import EventCalendar, same_event_last_year
from kapacity.errors import ParameterError
from kapacity.history import DAY, Series, sorted_unique

DEFAULT_LEVELS = (0.9, 0.99)


# -- forecasts and the protocol -----------------------------------------------------------

@dataclass(frozen=True)
class Forecast:
    """A forecast on the history's grid: ``mean[i]`` for the interval at ``start + i*step``."""

    name: str | None
    start: int
    step: int
    tz: str | None
    mean: np.ndarray
    quantiles: dict[float, np.ndarray]
    model: str
    params: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    peak_factor: float = 1.0  # actual daily peak over the forecast's daily maximum (calibrated)

    @property
    def h(self) -> int:
        return int(self.mean.shape[0])

    def times(self) -> np.ndarray:
        return self.start + self.step * np.arange(self.h, dtype=np.int64)


class Forecaster(Protocol):
    """The model protocol: construct with validated parameters, fit, predict."""

    alias: str

    def fit(self, history: Series) -> Self: ...

    def predict(self, h: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast: ...


def _check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    out = tuple(sorted({float(q) for q in levels}))
    for q in out:
        if not 0.5 <= q < 1:
            raise ParameterError(f"quantile level {q} outside [0.5, 1); use e.g. 0.9 or 0.99")
    return out


# -- the calendar of a series ---------------------------------------------------------------

@dataclass
class _Grid:
    """Arrays derived once per history and horizon: values, wall-clock slot and day, events."""

    y: np.ndarray            # history values, NaN over the horizon
    n: int                   # history length
    slot: np.ndarray         # slot of week, wall-clock (0 = Monday 00:00)
    day: np.ndarray          # wall-clock epoch day
    P: int
    D: int
    step: int
    events: dict[int, str]   # event days (epoch day -> name) over history and horizon
    excluded: np.ndarray     # True on event days: kept out of profiles and levels

    @classmethod
    def build(cls, history: Series, h: int, calendar: EventCalendar | None) -> _Grid:
        times = history.times(history.start, history.n + h)
        wall = history.wall_seconds(times)
        P, D = history.per_week, history.per_day
        day = np.floor_divide(wall, DAY)
        events = calendar.days(int(day[0]), int(day[-1])) if calendar is not None else {}
        if events:
            excluded = np.isin(day, np.fromiter(events, np.int64))
        else:
            excluded = np.zeros(day.size, bool)
        y = np.concatenate([history.values, np.full(h, np.nan)])
        return cls(y, history.n, week_slots(wall, history.step), day, P, D, history.step,
                   events, excluded)


def week_slots(wall: np.ndarray, step: int) -> np.ndarray:
    """Slot of week from wall-clock seconds: 0 is Monday 00:00 (1970-01-01 was a Thursday)."""
    per_day, per_week = DAY // step, 7 * DAY // step
    return (np.floor_divide(wall, step) + 3 * per_day) % per_week


# -- seasonal naive --------------------------------------------------------------------------

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


class SeasonalNaive:
    """Repeat the value one week back; quantiles from its own errors at earlier origins."""

    alias = "SeasonalNaive"

    def __init__(self, season: str = "week") -> None:
        if season not in {"week", "day"}:
            raise ParameterError(f"season {season!r} not understood; use 'week' or 'day'")
        self.season = season
        self._history: Series | None = None

    def fit(self, history: Series) -> Self:
        self._history = history
        return self

    def predict(self, h: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        history = _fitted(self._history, self.alias)
        levels = _check_levels(levels)
        _check_h(h)
        grid = _Grid.build(history, h, None)
        P = history.per_week if self.season == "week" else history.per_day
        slots = grid.slot % P
        y = grid.y
        mean = seasonal_naive_values(y, history.n, h, slots, P)
        errors = [(y[m:m + k], seasonal_naive_values(y, m, k, slots, P))
                  for m, k in _calibration_origins(history, h) if m >= P]
        quantiles = _Calibration.fit(errors, levels).apply(mean)
        return Forecast(history.name, history.end + history.step, history.step, history.tz,
                        _clip(mean), quantiles, self.alias, {"season": self.season},
                        peak_factor=peak_factor(errors, history.per_day))


# -- the seasonal profile model ---------------------------------------------------------------

@dataclass(frozen=True)
class ProfileParams:
    """SeasonalProfile's parameters; construction validates them."""

    weeks: int = 6                # weeks of history in the profile
    decay: float = 0.8            # weight of each older week relative to the next
    robust: bool = True           # clip each slot's outliers (3 MADs) before averaging weeks
    outlier_days: float = 1.5     # drop days whose total is off by this factor (0: keep all)
    smooth_minutes: int = 0       # moving-average width along the week (0: none)
    daily_blend: float = 0.0      # weight of the day-pooled shape (0: pure weekly shape)
    pooling: str = "weekdays"     # days pooled for the daily shape: "all" or "weekdays"
    level_decay: float = 0.5      # weight of each older week's level (0: last week only)
    trend: bool = False           # damped growth trend of weekly levels
    damping: float = 0.9          # per-week damping of that trend
    recent_hours: int = 24        # window of the short-term level correction
    recent_decay: float = 0.0     # per-day persistence of that correction (0: off)
    yearly: float = 0.0           # weight of last year's deviations around the same dates
    events: float = 1.0           # weight of last year's uplift on the same named event days
    scale: float = 1.0            # final factor: below 1 moves a mean towards the median of
                                  # bursty traffic (MAE is smallest at the median)

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.weeks <= 104:
            problems.append(f"weeks={self.weeks} (1 to 104)")
        for name in ("decay", "level_decay", "damping", "daily_blend", "yearly", "events"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                problems.append(f"{name}={value} (0 to 1)")
        if not 0.5 <= self.scale <= 1.5:
            problems.append(f"scale={self.scale} (0.5 to 1.5)")
        if not 0 <= self.recent_decay < 1:
            problems.append(f"recent_decay={self.recent_decay} (0 to below 1)")
        if not (self.outlier_days == 0 or 1 < self.outlier_days <= 10):
            problems.append(f"outlier_days={self.outlier_days} (0, or above 1 up to 10)")
        if not 0 <= self.smooth_minutes <= 24 * 60:
            problems.append(f"smooth_minutes={self.smooth_minutes} (0 to 1440)")
        if not 1 <= self.recent_hours <= 24 * 7:
            problems.append(f"recent_hours={self.recent_hours} (1 to 168)")
        if self.pooling not in {"all", "weekdays"}:
            problems.append(f"pooling={self.pooling!r} ('all' or 'weekdays')")
        if problems:
            raise ParameterError("invalid SeasonalProfile parameters: " + ", ".join(problems))

    def as_dict(self) -> dict:
        return asdict(self)


YEAR_SHIFT_DAYS = 364  # same weekday a year before


class _Engine:
    """Vectorised profile forecasts from any origin of one grid, with caches for search."""

    def __init__(self, grid: _Grid, max_weeks: int) -> None:
        self.g = grid
        self.max_weeks = max(1, max_weeks)
        self._matrix: dict[int, np.ndarray] = {}
        self._clean: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._norm: dict[tuple, np.ndarray] = {}
        self._shape: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._final: dict[tuple, np.ndarray] = {}
        self._yearly: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._base_cache: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._level: dict[tuple, np.ndarray] = {}

    # Week matrix: row 0 is the week that ends at the origin, row k the week k before it.
    # Built once per origin for the most weeks any parameter set uses; fewer weeks are the
    # first rows. Medians (the reference profile, outlier clipping) use all rows.
    def matrix(self, m: int) -> np.ndarray:
        if m not in self._matrix:
            g, weeks = self.g, self.max_weeks
            lo = max(0, m - weeks * g.P)
            idx = np.arange(lo, m)
            rows = (m - 1 - idx) // g.P
            M = np.full((weeks, g.P), np.nan)
            values = np.where(g.excluded[lo:m], np.nan, g.y[lo:m])
            M[rows, g.slot[lo:m]] = values
            self._matrix[m] = M
        return self._matrix[m]

    def cleaned(self, m: int, outlier_days: float) -> tuple[np.ndarray, np.ndarray]:
        """The week matrix without outlier days, and each week's level."""
        key = (m, outlier_days)
        if key not in self._clean:
            M = self.matrix(m)
            levels, base = _week_levels(M)
            if outlier_days and M.shape[0] >= 2:
                dropped = self._drop_outlier_days(M, levels, base, outlier_days)
                if dropped is not M:
                    M = dropped
                    levels, _ = _week_levels(M, base)
            self._clean[key] = (M, levels)
        return self._clean[key]

    def normalised(self, m: int, outlier_days: float, robust: bool) -> tuple[np.ndarray, np.ndarray]:
        """Each week divided by its level (with ``robust``, each slot clipped to 3 MADs), as
        (values with gaps as 0, 1 where there is a value)."""
        key = (m, outlier_days, robust)
        if key not in self._norm:
            M, levels = self.cleaned(m, outlier_days)
            with np.errstate(invalid="ignore", divide="ignore"):
                S = M / np.where(levels > 0, levels, np.nan)[:, None]
            if robust and M.shape[0] >= 3:
                med = _col_median(S)
                mad = _col_median(np.abs(S - med))
                spread = 3.0 * 1.4826 * np.maximum(mad, 0.05 * np.abs(med) + 1e-9)
                S = np.clip(S, med - spread, med + spread)
            ok = ~np.isnan(S)
            self._norm[key] = (np.where(ok, S, 0.0).astype(np.float32), ok)
        return self._norm[key]

    def shape_and_levels(self, m: int, p: ProfileParams) -> tuple[np.ndarray, np.ndarray]:
        key = (m, p.weeks, p.decay, p.robust, p.outlier_days)
        if key in self._shape:
            return self._shape[key]
        weeks = min(p.weeks, self.max_weeks)
        _, levels = self.cleaned(m, p.outlier_days)
        filled, ok = self.normalised(m, p.outlier_days, p.robust)
        weights = p.decay ** np.arange(weeks, dtype=float)
        # explicit sums, not BLAS: threaded BLAS stalls on a busy machine
        wsum = (ok[:weeks] * weights[:, None]).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            shape = (filled[:weeks] * weights[:, None]).sum(axis=0, dtype=float) / wsum
        shape[wsum == 0] = np.nan
        _bounded(self._shape)[key] = (shape, levels[:weeks])
        return shape, levels[:weeks]

    def _drop_outlier_days(self, M: np.ndarray, levels: np.ndarray, base: np.ndarray,
                           factor: float) -> np.ndarray:
        """Blank days whose total is off the level-scaled median profile by ``factor`` or more."""
        D = self.g.D
        K = M.shape[0]
        days = M.reshape(K, 7, D)
        expected = base.reshape(7, D)
        usable = ~np.isnan(days) & ~np.isnan(expected)[None]
        actual_sum = np.where(usable, days, 0.0).sum(axis=2)
        expected_sum = np.where(usable, expected[None], 0.0).sum(axis=2)
        scale = np.nanmean(base) if np.isfinite(base).any() else np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = actual_sum / (expected_sum * (levels / scale)[:, None])
        covered = usable.sum(axis=2) >= 0.5 * D
        bad = covered & np.isfinite(ratio) & ((ratio > factor) | (ratio < 1 / factor))
        if not bad.any():
            return M
        days = days.copy()
        days[bad] = np.nan
        return days.reshape(K, -1)

    def final_shape(self, m: int, p: ProfileParams) -> np.ndarray:
        key = (m, p.weeks, p.decay, p.robust, p.outlier_days, p.smooth_minutes, p.daily_blend,
               p.pooling)
        if key in self._final:
            return self._final[key]
        shape, _ = self.shape_and_levels(m, p)
        g = self.g
        width = max(1, int(round(p.smooth_minutes * 60 / g.step)))
        shape = _fill_from_days(shape, g.D)
        if width > 1:
            shape = _circular_mean(shape, width)
        if p.daily_blend > 0:
            shape = (1 - p.daily_blend) * shape + p.daily_blend * _pooled_days(shape, g.D, p.pooling)
        _bounded(self._final)[key] = shape
        return shape

    def level_path(self, m: int, h: int, p: ProfileParams) -> np.ndarray:
        """Forecast level for each of ``h`` points after origin ``m``."""
        key = (m, h, p.weeks, p.decay, p.robust, p.outlier_days, p.level_decay, p.trend,
               p.damping)
        if key not in self._level:
            _bounded(self._level)[key] = self._level_path(m, h, p)
        return self._level[key]

    def _level_path(self, m: int, h: int, p: ProfileParams) -> np.ndarray:
        _, levels = self.shape_and_levels(m, p)
        ok = np.isfinite(levels)
        if not ok.any():
            recent = self.g.y[max(0, m - self.g.P):m]
            return _constant(float(np.nanmean(recent)) if np.isfinite(recent).any() else 0.0, h)
        ages = np.arange(levels.size, dtype=float)
        w = np.where(ok, p.level_decay ** ages, 0.0)
        w[np.argmax(ok)] = max(w[np.argmax(ok)], 1e-12)
        level = float((w * np.where(ok, levels, 0.0)).sum() / w.sum())
        if not p.trend or ok.sum() < 3 or level <= 0:
            return _constant(level, h)
        slope = _theil_sen_log_slope(ages[ok], levels[ok])
        age = float((w * ages).sum() / w.sum()) + 0.5  # weeks between the level's centre and m
        weeks_ahead = age + (np.arange(h) + 1) / self.g.P
        if p.damping >= 1:
            damped = weeks_ahead
        else:
            damped = p.damping * (1 - p.damping ** weeks_ahead) / (1 - p.damping)
        return level * np.exp(slope * damped)

    def forecast(self, m: int, h: int, p: ProfileParams) -> np.ndarray:
        """Point forecast for the ``h`` intervals after origin ``m``, from data before ``m``."""
        f = self._with_recent(m, h, p)
        if (p.yearly > 0 or p.events > 0) and self.has_year(m):
            plain, event = self.yearly_ratios(m, h, p)
            on_event = ~np.isnan(event)
            f = f * np.where(on_event, 1 + p.events * (np.where(on_event, event, 1) - 1),
                             1 + p.yearly * (plain - 1))
        return f * p.scale if p.scale != 1 else f

    def _base(self, m: int, h: int, p: ProfileParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(level x shape over the horizon, shape, level path), cached across the search."""
        key = (m, h, p.weeks, p.decay, p.robust, p.outlier_days, p.smooth_minutes, p.daily_blend,
               p.pooling, p.level_decay, p.trend, p.damping)
        if key not in self._base_cache:
            if len(self._base_cache) > 64:
                self._base_cache.clear()
            shape = self.final_shape(m, p)
            level = self.level_path(m, h, p)
            self._base_cache[key] = (level * shape[self.g.slot[m:m + h]], shape, level)
        return self._base_cache[key]

    def _with_recent(self, m: int, h: int, p: ProfileParams) -> np.ndarray:
        f, shape, level = self._base(m, h, p)
        if p.recent_decay <= 0:
            return f
        g = self.g
        n_recent = max(1, int(p.recent_hours * 3600 // g.step))
        lo = max(0, m - n_recent)
        actual = g.y[lo:m]
        fitted = level[0] * shape[g.slot[lo:m]]
        ok = ~np.isnan(actual) & ~np.isnan(fitted) & ~g.excluded[lo:m]
        if ok.sum() >= max(2, n_recent // 2) and fitted[ok].sum() > 0:
            ratio = float(np.clip(actual[ok].sum() / fitted[ok].sum(), 0.33, 3.0))
            lead_days = (np.arange(h) + 1) / g.D
            return f * (1 + (ratio - 1) * p.recent_decay ** lead_days)
        return f

    def has_year(self, m: int) -> bool:
        return m - (YEAR_SHIFT_DAYS + 7) * self.g.D >= 2 * self.g.P

    def yearly_ratios(self, m: int, h: int, p: ProfileParams) -> tuple[np.ndarray, np.ndarray]:
        """Per future interval: how far last year's same dates and same events were off the profile.

        Last year's window (364 days back, so weekdays match, widened by a week on each
        side) is forecast from its own origin with the same parameters; each day's ratio
        of actual to that forecast is the uplift. Returns the ratio over last year's
        surrounding week without event days (so one rainy day does not carry over), and,
        NaN where there is none, the ratio of last year's same-named event day.
        """
        base = replace(p, yearly=0.0, events=0.0)
        key = (m, h, base)
        if key in self._yearly:
            return self._yearly[key]
        g = self.g
        plain_out, event_out = np.ones(h), np.full(h, np.nan)
        shift = YEAR_SHIFT_DAYS * g.D
        m_ly = m - shift - 7 * g.D
        h_ly = h + 14 * g.D
        f_ly = self.forecast(m_ly, h_ly, base)
        a_ly = g.y[m_ly:m_ly + h_ly]
        d_ly = g.day[m_ly:m_ly + h_ly]
        ok = ~np.isnan(a_ly) & ~np.isnan(f_ly)
        first = int(d_ly[0])
        n_days = int(d_ly[-1]) - first + 1
        idx = d_ly - first
        a_sum = np.bincount(idx[ok], a_ly[ok], n_days)
        f_sum = np.bincount(idx[ok], f_ly[ok], n_days)
        covered = (np.bincount(idx[ok], minlength=n_days) >= 0.8 * g.D) & (f_sum > 0)
        is_event = np.array([first + i in g.events for i in range(n_days)])
        plain = covered & ~is_event
        future_days = g.day[m:m + h]
        for day in sorted_unique(future_days):
            day = int(day)
            sel = future_days == day
            name = g.events.get(day)
            if name is not None:
                ly = same_event_last_year(day, name, g.events)
                if ly is not None and 0 <= ly - first < n_days and covered[ly - first]:
                    event_out[sel] = float(np.clip(a_sum[ly - first] / f_sum[ly - first], 0.2, 5.0))
            centre = day - YEAR_SHIFT_DAYS - first
            window = slice(max(0, centre - 3), min(n_days, centre + 4))
            use = plain[window]
            if use.sum() >= 3:
                ratio = a_sum[window][use].sum() / f_sum[window][use].sum()
                plain_out[sel] = float(np.clip(ratio, 0.2, 5.0))
        self._yearly[key] = (plain_out, event_out)
        return plain_out, event_out


def _constant(value: float, h: int) -> np.ndarray:
    """A flat level path as a read-only view: no memory for ``h`` copies of one number."""
    return np.broadcast_to(np.float64(value), (h,))


def _bounded(cache: dict, limit: int = 48) -> dict:
    """Search caches are dropped wholesale past ``limit`` entries (memory stays flat)."""
    if len(cache) > limit:
        cache.clear()
    return cache


def _week_levels(M: np.ndarray, base: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each week's level (in units of the mean value) against the median profile of all weeks."""
    base = _col_median(M) if base is None else base
    usable = ~np.isnan(M) & ~np.isnan(base)
    num = np.where(usable, M, 0.0).sum(axis=1)
    den = np.where(usable, base, 0.0).sum(axis=1)
    scale = np.nanmean(base) if np.isfinite(base).any() else np.nan
    # a week counts when a quarter of it (or a whole day, for short histories) has data
    enough = usable.sum(axis=1) >= min(0.25 * M.shape[1], M.shape[1] / 7)
    with np.errstate(invalid="ignore", divide="ignore"):
        levels = np.where((den > 0) & enough, num / den * scale, np.nan)
    return levels, base


def _col_median(A: np.ndarray) -> np.ndarray:
    """Median of each column ignoring NaN (sort-based: fast on short, wide matrices)."""
    s = np.sort(np.ascontiguousarray(A.T), axis=1)  # NaN sorts last
    count = (~np.isnan(A)).sum(axis=0)
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, None)
    cols = np.arange(A.shape[1])
    out = 0.5 * (s[cols, lo] + s[cols, hi])
    out[count == 0] = np.nan
    return out


def _day_groups(pooling: str) -> list[list[int]]:
    return [list(range(7))] if pooling == "all" else [[0, 1, 2, 3, 4], [5], [6]]


def _pooled_days(shape: np.ndarray, D: int, pooling: str) -> np.ndarray:
    """Each day's level times the mean time-of-day shape of its pooling group."""
    days = shape.reshape(7, D)
    with np.errstate(invalid="ignore", divide="ignore"):
        day_level = _nanmean(days, axis=1)
        unit = days / np.where(day_level > 0, day_level, np.nan)[:, None]
    out = np.empty_like(days)
    for group in _day_groups(pooling):
        with np.errstate(invalid="ignore"):
            mean_shape = _nanmean(unit[group], axis=0) if len(group) > 1 else unit[group[0]]
        mean_shape = np.where(np.isnan(mean_shape), 1.0, mean_shape)
        for d in group:
            out[d] = (day_level[d] if np.isfinite(day_level[d]) else 0.0) * mean_shape
    return out.reshape(-1)


def _nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean ignoring NaN; NaN (without a warning) where a row or column has no values."""
    counts = (~np.isnan(a)).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, np.nansum(a, axis=axis) / counts, np.nan)


def _fill_from_days(shape: np.ndarray, D: int) -> np.ndarray:
    """Fill slots no week covered from the mean over days, then from the overall mean."""
    if not np.isnan(shape).any():
        return shape
    days = shape.reshape(7, D)
    if not np.isfinite(shape).any():
        return np.ones_like(shape)
    counts = (~np.isnan(days)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tod = np.where(counts > 0, np.nansum(days, axis=0) / counts, np.nan)
    overall = float(np.nanmean(shape))
    tod = np.where(np.isnan(tod), overall, tod)
    return np.where(np.isnan(days), tod[None, :], days).reshape(-1)


def _circular_mean(x: np.ndarray, width: int) -> np.ndarray:
    half = width // 2
    padded = np.concatenate([x[-half:], x, x[:width - half - 1]]) if half else x
    c = np.concatenate([[0.0], np.cumsum(padded)])
    return (c[width:] - c[:-width]) / width


def _theil_sen_log_slope(ages: np.ndarray, levels: np.ndarray) -> float:
    """Weekly growth rate of log level; clipped to +-10% a week."""
    logs = np.log(np.maximum(levels, 1e-9))
    i, j = np.triu_indices(ages.size, 1)
    slopes = (logs[i] - logs[j]) / (ages[j] - ages[i])  # older week has larger age
    return float(np.clip(np.median(slopes), -0.1, 0.1))


class SeasonalProfile:
    """Level-adjusted robust weekly profile with fixed, validated parameters.

    ``calendar`` names event days (holidays, shopping peaks): they are kept out of
    the profile, and with ``yearly > 0`` take last year's same-event uplift.
    """

    alias = "SeasonalProfile"

    def __init__(self, params: ProfileParams | None = None, *,
                 calendar: EventCalendar | None = None, **overrides) -> None:
        base = params or ProfileParams()
        try:
            self.params = replace(base, **overrides) if overrides else base
        except TypeError as exc:
            raise ParameterError(f"unknown SeasonalProfile parameter: {exc}") from exc
        self.calendar = calendar
        self._history: Series | None = None

    def fit(self, history: Series) -> Self:
        self._history = history
        return self

    def predict(self, h: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        history = _fitted(self._history, self.alias)
        levels = _check_levels(levels)
        _check_h(h)
        engine = _Engine(_Grid.build(history, h, self.calendar), self.params.weeks)
        mean = engine.forecast(history.n, h, self.params)
        errors = _validation_errors(engine, self.params, _calibration_origins(history, h))
        quantiles = _Calibration.fit(errors, levels).apply(mean)
        return Forecast(history.name, history.end + history.step, history.step, history.tz,
                        _clip(mean), quantiles, self.alias, self.params.as_dict(),
                        peak_factor=peak_factor(errors, history.per_day))


# -- choosing parameters ----------------------------------------------------------------------

def _origins(n: int, h: int, *, needed: int, count: int) -> list[int]:
    """Up to ``count`` origins stepping back by ``h`` from ``n - h``, each with ``needed`` before."""
    out = []
    m = n - h
    while m >= needed and len(out) < count:
        out.append(m)
        m -= h
    return out


def _calibration_origins(history: Series, h: int) -> list[tuple[int, int]]:
    h_val = min(h, history.per_week)
    # enough out-of-sample errors for a p99 (about 2000), at most 12 origins
    count = int(np.clip(math.ceil(2000 / h_val), 3, 12))
    needed = min(history.per_week * 2, max(2 * history.per_day, history.n // 3))
    return [(m, h_val) for m in _origins(history.n, h_val, needed=needed, count=count)]


def _validation_errors(engine: _Engine, p: ProfileParams,
                       origins: list[tuple[int, int]]) -> list[tuple[np.ndarray, np.ndarray]]:
    g = engine.g
    return [(g.y[m:m + h], engine.forecast(m, h, p)) for m, h in origins]


def _regular_days_only(engine: _Engine, origins: list[tuple[int, int]],
                       errors: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Errors with event days blanked where no year of history can explain them: parameters
    are chosen for regular traffic, so a holiday in the validation weeks does not steer them.
    With a year of history the events get last year's uplift, and their errors count."""
    g = engine.g
    out = []
    for (m, h), (actual, f) in zip(origins, errors, strict=True):
        event = g.excluded[m:m + h]
        blank = event.any() and not engine.has_year(m)
        out.append((np.where(event, np.nan, actual) if blank else actual, f))
    return out


def _mae(errors: list[tuple[np.ndarray, np.ndarray]]) -> float:
    total, count = 0.0, 0
    for actual, f in errors:
        ok = ~np.isnan(actual) & ~np.isnan(f)
        total += float(np.abs(actual[ok] - np.maximum(f[ok], 0)).sum())
        count += int(ok.sum())
    return total / count if count else math.inf


SEARCH_SPACE: dict[str, tuple] = {
    "weeks": (2, 3, 4, 6, 8, 12),
    "decay": (0.6, 0.8, 1.0),
    "robust": (True, False),
    "outlier_days": (0.0, 1.25, 1.5),
    "smooth_minutes": (0, 5, 15, 30, 60),
    "daily_blend": (0.0, 0.25, 0.5, 0.75),
    "pooling": ("weekdays", "all"),
    "level_decay": (0.0, 0.3, 0.6, 0.9),
    "trend": (False, True),
    "recent_decay": (0.0, 0.3, 0.6, 0.85),
    "yearly": (0.0, 0.5, 1.0),
    "scale": (0.9, 0.95, 1.0),
}


class AutoProfile:
    """SeasonalProfile with parameters chosen on the history's last weeks; SeasonalNaive fallback.

    ``passes`` rounds of coordinate search over :data:`SEARCH_SPACE` pick the
    parameters with the lowest validation MAE at up to ``val_origins`` origins (by default
    3, or 2 when each holds a week of 5-minute or finer data: enough points, half the time).
    When that MAE is above ``fallback_ratio`` times seasonal naive's on the same
    points, the forecast is seasonal naive's (the fit is poor).
    """

    alias = "AutoProfile"

    def __init__(self, *, calendar: EventCalendar | None = None, passes: int = 2,
                 val_origins: int | None = None, fallback_ratio: float = 1.0,
                 start: ProfileParams | None = None,
                 search: dict[str, tuple] | None = None, min_gain: float = 0.0,
                 regular_days: bool = True) -> None:
        if not 1 <= passes <= 5:
            raise ParameterError(f"passes={passes} outside 1 to 5")
        if val_origins is not None and not 1 <= val_origins <= 12:
            raise ParameterError(f"val_origins={val_origins} outside 1 to 12")
        if not 0.5 <= fallback_ratio <= 2:
            raise ParameterError(f"fallback_ratio={fallback_ratio} outside 0.5 to 2")
        if not 0 <= min_gain < 0.5:
            raise ParameterError(f"min_gain={min_gain} outside 0 to 0.5")
        self.min_gain = min_gain
        self.regular_days = regular_days
        self.calendar = calendar
        self.passes, self.val_origins, self.fallback_ratio = passes, val_origins, fallback_ratio
        self.start = start or ProfileParams()
        self.search = dict(SEARCH_SPACE if search is None else search)
        for name, values in self.search.items():
            if name not in ProfileParams.__dataclass_fields__:
                raise ParameterError(f"unknown search parameter {name!r}")
            for value in values:
                replace(self.start, **{name: value})  # validates every candidate up front
        self._history: Series | None = None

    def fit(self, history: Series) -> Self:
        self._history = history
        return self

    def predict(self, h: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        history = _fitted(self._history, self.alias)
        levels = _check_levels(levels)
        _check_h(h)
        weeks_available = max(1, history.n // history.per_week)
        max_weeks = max([self.start.weeks, *self.search.get("weeks", ())])
        engine = _Engine(_Grid.build(history, h, self.calendar), min(max_weeks, weeks_available))
        calibration = _calibration_origins(history, h)
        count = self.val_origins
        if count is None:
            count = 2 if calibration and calibration[0][1] >= 2016 else 3
        validation = calibration[:count]
        params, score = self._search(engine, validation, history)
        notes: list[str] = []
        P, y, slots = history.per_week, engine.g.y, engine.g.slot
        naive_errors = [(y[m:m + k], seasonal_naive_values(y, m, k, slots, P))
                        for m, k in validation if m >= P]
        naive_score = _mae(naive_errors) if naive_errors else math.inf
        # a tolerance of a millionth of the traffic level: float32 sums are not exact
        tolerance = 1e-6 * float(np.nanmean(np.abs(y[:history.n]))) if history.observed else 0.0
        if naive_errors and score > self.fallback_ratio * naive_score + tolerance:
            notes.append(f"profile validation MAE {score:.4g} above seasonal naive's "
                         f"{naive_score:.4g}: fell back to SeasonalNaive")
            mean = seasonal_naive_values(y, history.n, h, slots, P)
            errors = [(y[m:m + k], seasonal_naive_values(y, m, k, slots, P))
                      for m, k in calibration if m >= P]
            model, used = SeasonalNaive.alias, {"season": "week"}
        else:
            mean = engine.forecast(history.n, h, params)
            errors = _validation_errors(engine, params, calibration)
            model, used = SeasonalProfile.alias, params.as_dict()
        quantiles = _Calibration.fit(errors, levels).apply(mean)
        used = {**used, "selected_by": self.alias, "validation_mae": _round(score),
                "naive_validation_mae": _round(naive_score)}
        return Forecast(history.name, history.end + history.step, history.step, history.tz,
                        _clip(mean), quantiles, model, used, tuple(notes),
                        peak_factor=peak_factor(errors, history.per_day))

    def _search(self, engine: _Engine, validation: list[tuple[int, int]],
                history: Series) -> tuple[ProfileParams, float]:
        weeks_available = max(1, history.n // history.per_week)
        best = replace(self.start, weeks=min(self.start.weeks, weeks_available))
        if not validation:
            return best, math.inf
        has_year = all(engine.has_year(m) for m, _ in validation)
        cache: dict[ProfileParams, float] = {}

        g = engine.g
        actuals = [(g.y[m:m + h], np.zeros(h)) for m, h in validation]
        if self.regular_days:
            actuals = _regular_days_only(engine, validation, actuals)
        targets = [(np.nan_to_num(a), (~np.isnan(a)).astype(float)) for a, _ in actuals]
        weight = sum(float(w.sum()) for _, w in targets)

        def score(p: ProfileParams) -> float:
            if p not in cache:
                if weight == 0:
                    cache[p] = math.inf
                    return cache[p]
                total = 0.0
                for (m, h), (a0, w) in zip(validation, targets, strict=True):
                    f = engine.forecast(m, h, p)
                    total += float((np.abs(a0 - np.maximum(f, 0)) * w).sum())
                cache[p] = total / weight
            return cache[p]

        best_score = score(best)
        for _ in range(self.passes):
            improved = False
            for name, values in self.search.items():
                if name == "yearly" and not has_year:
                    continue
                if name == "smooth_minutes" and history.step >= 3600:
                    continue
                for value in values:
                    if name == "weeks" and value > weeks_available and value != values[0]:
                        continue
                    candidate = replace(best, **{name: value})
                    s = score(candidate)
                    if s < best_score * (1 - self.min_gain) - 1e-12:
                        best, best_score, improved = candidate, s, True
            if not improved:
                break
        return best, best_score


# -- quantiles from out-of-sample errors -----------------------------------------------------

@dataclass(frozen=True)
class _Calibration:
    beta: float
    offset: float
    scaled: dict[float, float]

    @classmethod
    def fit(cls, errors: list[tuple[np.ndarray, np.ndarray]], levels: Sequence[float]) -> _Calibration:
        actual = np.concatenate([a for a, _ in errors]) if errors else np.array([])
        fc = np.concatenate([np.maximum(f, 0) for _, f in errors]) if errors else np.array([])
        ok = ~np.isnan(actual) & ~np.isnan(fc)
        actual, fc = actual[ok], fc[ok]
        if actual.size < 10:
            return cls(0.5, 1.0, {q: 3.0 * (1 + 2 * (q - 0.9) * 10) for q in levels})
        offset = 0.1 * float(np.mean(fc)) + 1e-6
        best = None
        for beta in (0.0, 0.5, 1.0):
            scale = (fc + offset) ** beta
            z = (actual - fc) / scale
            scaled = {q: _conformal_quantile(z, q) for q in levels}
            loss = sum(_pinball(actual, fc + scaled[q] * scale, q) for q in levels)
            if best is None or loss < best[0] - 1e-12:
                best = (loss, cls(beta, offset, scaled))
        return best[1]

    def apply(self, mean: np.ndarray) -> dict[float, np.ndarray]:
        m = np.maximum(mean, 0)
        scale = (m + self.offset) ** self.beta
        out, floor = {}, m
        for q in sorted(self.scaled):
            band = np.maximum(m + max(self.scaled[q], 0.0) * scale, floor)
            out[q] = _clip(band)
            floor = out[q]
        return out


def peak_factor(errors: list[tuple[np.ndarray, np.ndarray]], per_day: int) -> float:
    """Median ratio of each day's actual peak to the forecast's daily maximum, out of sample.

    A smooth forecast's daily maximum sits below the noisy actual peak (at minute
    resolution, well below); this factor turns it into a forecast of the daily peak.
    """
    ratios = []
    for actual, f in errors:
        for d in range(actual.size // per_day):
            a, g = actual[d * per_day:(d + 1) * per_day], f[d * per_day:(d + 1) * per_day]
            ok = ~np.isnan(a)
            if ok.sum() >= 0.8 * per_day and g[ok].max() > 0:
                ratios.append(float(a[ok].max() / g[ok].max()))
    if len(ratios) < 3:
        return 1.0
    return round(float(np.clip(np.median(ratios), 0.5, 5.0)), 4)


def _conformal_quantile(z: np.ndarray, q: float) -> float:
    n = z.size
    rank = min(n, math.ceil((n + 1) * q))
    return float(np.partition(z, rank - 1)[rank - 1])


def _pinball(actual: np.ndarray, pred: np.ndarray, q: float) -> float:
    diff = actual - pred
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


# -- helpers ------------------------------------------------------------------------------------

def _fitted(history: Series | None, alias: str) -> Series:
    if history is None:
        raise ParameterError(f"{alias}: call fit(history) before predict(h)")
    return history


def _check_h(h: int) -> None:
    if not isinstance(h, int | np.integer) or h < 1:
        raise ParameterError(f"horizon h={h!r} must be a positive number of intervals")


def _clip(x: np.ndarray) -> np.ndarray:
    x = np.where(np.isfinite(x), x, 0.0)
    return np.round(np.maximum(x, 0.0), 6)


def _round(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 6)
