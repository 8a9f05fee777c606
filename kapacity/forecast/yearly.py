"""Last year's uplift: how far the same dates and the same named events ran off the profile.

With over a year of history, last year's window (364 days back, so weekdays match,
widened by a week on each side) is forecast from its own origin with the same
parameters; each day's ratio of actual to that forecast is its uplift. A future
day takes the ratio over last year's surrounding week without event days (so one
rainy day does not carry over), and an event day the ratio of last year's
same-named event day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kapacity.calendar import same_event_last_year
from kapacity.forecast.grid import Grid
from kapacity.forecast.params import ProfileParams
from kapacity.history import sorted_unique

YEAR_SHIFT_DAYS = 364  # same weekday a year before


def has_year(grid: Grid, m: int) -> bool:
    """Whether origin ``m`` has last year's window and two weeks before it."""
    return m - (YEAR_SHIFT_DAYS + 7) * grid.D >= 2 * grid.P


def last_year_window(grid: Grid, m: int, h: int) -> tuple[int, int]:
    """Origin and length of last year's window for the ``h`` points after ``m``."""
    return m - YEAR_SHIFT_DAYS * grid.D - 7 * grid.D, h + 14 * grid.D


@dataclass(frozen=True)
class _LastYear:
    """Last year's window summed by day: actual, forecast, and which days can be used."""

    first: int               # epoch day of the window's first day
    actual: np.ndarray
    forecast: np.ndarray
    covered: np.ndarray      # 80% of the day observed and a positive forecast
    plain: np.ndarray        # covered and not an event day

    @classmethod
    def build(cls, grid: Grid, m_ly: int, f_ly: np.ndarray) -> _LastYear:
        a_ly = grid.y[m_ly:m_ly + f_ly.size]
        d_ly = grid.day[m_ly:m_ly + f_ly.size]
        ok = ~np.isnan(a_ly) & ~np.isnan(f_ly)
        first = int(d_ly[0])
        n_days = int(d_ly[-1]) - first + 1
        idx = d_ly - first
        a_sum = np.bincount(idx[ok], a_ly[ok], n_days)
        f_sum = np.bincount(idx[ok], f_ly[ok], n_days)
        covered = (np.bincount(idx[ok], minlength=n_days) >= 0.8 * grid.D) & (f_sum > 0)
        is_event = np.array([first + i in grid.events for i in range(n_days)])
        return cls(first, a_sum, f_sum, covered, covered & ~is_event)

    def event_ratio(self, grid: Grid, day: int) -> float | None:
        """Uplift of last year's day with the same event as ``day`` (None: no such day)."""
        name = grid.events.get(day)
        if name is None:
            return None
        ly = same_event_last_year(day, name, grid.events)
        i = None if ly is None else ly - self.first
        if i is None or not 0 <= i < self.covered.size or not self.covered[i]:
            return None
        return float(np.clip(self.actual[i] / self.forecast[i], 0.2, 5.0))

    def plain_ratio(self, day: int) -> float | None:
        """Uplift over the week around ``day`` a year before (None: under 3 usable days)."""
        centre = day - YEAR_SHIFT_DAYS - self.first
        window = slice(max(0, centre - 3), min(self.covered.size, centre + 4))
        use = self.plain[window]
        if use.sum() < 3:
            return None
        ratio = self.actual[window][use].sum() / self.forecast[window][use].sum()
        return float(np.clip(ratio, 0.2, 5.0))


def yearly_ratios(grid: Grid, m: int, h: int, m_ly: int,
                  f_ly: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per future interval: last year's plain uplift, and (NaN where none) its event uplift.

    ``f_ly`` is the plain profile forecast of last year's window starting at ``m_ly``.
    """
    last_year = _LastYear.build(grid, m_ly, f_ly)
    plain_out, event_out = np.ones(h), np.full(h, np.nan)
    future_days = grid.day[m:m + h]
    for day in sorted_unique(future_days):
        day = int(day)
        sel = future_days == day
        event = last_year.event_ratio(grid, day)
        if event is not None:
            event_out[sel] = event
        plain = last_year.plain_ratio(day)
        if plain is not None:
            plain_out[sel] = plain
    return plain_out, event_out


def yearly_factor(plain: np.ndarray, event: np.ndarray, p: ProfileParams) -> np.ndarray:
    """The factor on the profile: ``events`` of the event uplift on event days, else ``yearly``
    of the plain uplift."""
    on_event = ~np.isnan(event)
    return np.where(on_event, 1 + p.events * (np.where(on_event, event, 1) - 1),
                    1 + p.yearly * (plain - 1))
