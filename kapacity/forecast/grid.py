"""The calendar of one series over its history and horizon, derived once per forecast."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kapacity.calendar import EventCalendar
from kapacity.history import DAY, Series


@dataclass
class Grid:
    """Arrays derived once per history and horizon: values, wall-clock slot and day, events."""

    y: np.ndarray            # history values, NaN over the horizon
    n: int                   # history length
    slot: np.ndarray         # slot of week, wall-clock (0 = Monday 00:00)
    day: np.ndarray          # wall-clock epoch day
    P: int                   # intervals per week
    D: int                   # intervals per day
    step: int
    events: dict[int, str]   # event days (epoch day -> name) over history and horizon
    excluded: np.ndarray     # True on event days: kept out of profiles and levels

    @classmethod
    def build(cls, history: Series, h: int, calendar: EventCalendar | None) -> Grid:
        times = history.times(history.start, history.n + h)
        wall = history.wall_seconds(times)
        day = np.floor_divide(wall, DAY)
        events = calendar.days(int(day[0]), int(day[-1])) if calendar is not None else {}
        if events:
            excluded = np.isin(day, np.fromiter(events, np.int64))
        else:
            excluded = np.zeros(day.size, bool)
        y = np.concatenate([history.values, np.full(h, np.nan)])
        return cls(y, history.n, week_slots(wall, history.step), day, history.per_week,
                   history.per_day, history.step, events, excluded)


def week_slots(wall: np.ndarray, step: int) -> np.ndarray:
    """Slot of week from wall-clock seconds: 0 is Monday 00:00 (1970-01-01 was a Thursday)."""
    per_day, per_week = DAY // step, 7 * DAY // step
    return (np.floor_divide(wall, step) + 3 * per_day) % per_week
