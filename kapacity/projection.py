"""The peak projection: what a series will need on the coming season's peak days.

A regular forecast covers the next days or weeks; the season's peak (Black Friday
to year end) usually lies months ahead, so the capacity rules and perftest's
targets need a figure for those days. Per series (a system's total and each of
its services) Kapacity projects it from the history it already has:

- **last season's peak event**: each shopping peak day of the calendar
  (kapacity/calendar.py: Black Friday, Cyber Monday, Christmas Eve, ...) the
  history holds with complete data, at its busiest interval; its **uplift** is
  that over the median daily peak of the ordinary days in the four weeks before;
- **growth**: year over year growth of daily peaks when the history spans more than
  a year (``growth`` of kapacity/capacity.py), else the yearly growth declared
  for the run (``PeakWindow.growth``), else ``DEFAULT_GROWTH`` (said so);
- **the coming peak days**: the same events in the peak window (the season's, from
  ``readiness season``, else the calendar's next Black Friday to 31 December);
  each observed event's busiest interval x growth over the time between the two;
- **declared flash sales** inside the window: the ordinary daily peak today x growth
  x the sale's multiplier.

``peak_rps`` is the largest projected event peak; ``baseline_rps`` the larger of it
and the regular forecast's Baseline; ``flas_rps`` follows the FLAS recipe of
kapacity/capacity.py on the peak days: the largest of the historical surge ratio x
``peak_rps``, the declared flash sales and the Baseline, times ``1 + safety_buffer``.
A history that holds none of last season's peak days gives no projection, with the
reason: a guess would pass for evidence. The result keeps the regular forecast's
window and the history's span, so whoever reads the figure sees what it rests on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from kapacity.calendar import EPOCH, PEAK_EVENTS, shopping_peaks
from kapacity.capacity import CapacityResult, CapacitySettings
from kapacity.errors import ParameterError
from kapacity.events import KnownEvent
from kapacity.history import DAY, Series

DEFAULT_GROWTH = 0.10  # yearly, when neither a year of history nor a declared figure says otherwise
NORMAL_DAYS = 28       # ordinary days before an event that set its uplift


@dataclass(frozen=True)
class PeakWindow:
    """The days the projection is for (inclusive), and the yearly growth declared for them."""

    starts_on: date
    ends_on: date
    key: str | None = None       # the season's key, when the window is a season's
    growth: float | None = None  # declared yearly growth (0.15 = 15%); None: measured or default

    def __post_init__(self) -> None:
        if self.ends_on < self.starts_on:
            raise ParameterError(f"peak window ends {self.ends_on} before it starts {self.starts_on}")
        if self.growth is not None and not -0.9 <= self.growth <= 10:
            raise ParameterError(f"yearly growth {self.growth} outside -0.9 to 10 (0.15 means 15%)")

    def as_dict(self) -> dict:
        return {"starts_on": self.starts_on.isoformat(), "ends_on": self.ends_on.isoformat(),
                "key": self.key, "growth": self.growth}

    def describe(self) -> str:
        name = f"{self.key}, " if self.key else ""
        return f"{name}{self.starts_on} to {self.ends_on}"


def next_peak_window(after: date, growth: float | None = None) -> PeakWindow:
    """The calendar's next peak: the first Black Friday after ``after`` to 31 December."""
    for year in (after.year, after.year + 1):
        friday = next(d for d, n in shopping_peaks(year).items() if n == "Black Friday")
        if friday > after:
            return PeakWindow(friday, date(year, 12, 31), growth=growth)
    raise AssertionError("a Black Friday comes every year")  # pragma: no cover


def project_peak(series: Series, regular: CapacityResult, window: PeakWindow,
                 settings: CapacitySettings, events: Sequence[KnownEvent] = ()) -> dict:
    """The peak projection of one series, as stored with its forecast (see the module docstring)."""
    days, peaks, complete = _daily_peaks(series)
    first_day, last_day = int(days[0]), int(days[-1])
    evidence = {
        "window": window.as_dict(),
        "history": {"from": _day(first_day), "to": _day(last_day), "days": last_day - first_day + 1},
        "forecast_window": {"from": regular.start, "to": regular.end},
    }
    observed = _observed_events(days, peaks, complete, first_day, last_day)
    if not observed:
        names = ", ".join(PEAK_EVENTS)
        evidence["missing"] = (f"the history ({_day(first_day)} to {_day(last_day)}) holds none of "
                               f"last season's peak days ({names}) with complete data: nothing to "
                               "project the peak from")
        return evidence
    yearly, growth_source = _growth(regular, window)
    coming = {name: day for year in range(window.starts_on.year, window.ends_on.year + 1)
              for day, name in shopping_peaks(year).items()
              if window.starts_on <= day <= window.ends_on}
    basis = []
    for event in observed:
        then = EPOCH + timedelta(days=event["day"])
        on = coming.get(event["name"])
        if on is None or on <= then:
            continue  # the event does not come again in the window
        factor = (1 + yearly) ** ((on - then).days / 365.25)
        basis.append({"event": event["name"], "observed_on": then.isoformat(),
                      "observed_peak_rps": _r(event["peak_rps"]),
                      "normal_peak_rps": _r(event["normal_rps"]), "uplift": _r(event["uplift"]),
                      "projected_on": on.isoformat(), "growth_factor": _r(factor),
                      "projected_peak_rps": _r(event["peak_rps"] * factor)})
    if not basis:
        evidence["missing"] = (f"none of the peak days the history holds "
                               f"({', '.join(e['name'] for e in observed)}) comes again in the peak "
                               f"window {window.describe()}")
        return evidence
    peak = max(b["projected_peak_rps"] for b in basis)
    normal_now = _normal_now(days, peaks, complete, last_day)
    to_window = (1 + yearly) ** (max(0, (window.starts_on - _date(last_day)).days) / 365.25)
    declared = _declared(events, series.name, window, normal_now * to_window)
    baseline = max(peak, regular.baseline_rps)
    candidates = {"historical_surge_at_peak": regular.spike_ratio * peak,
                  "declared_flash_sales": max([0.0, *[d["projected_rps"] for d in declared]]),
                  "baseline": baseline}
    driver = max(candidates, key=lambda k: (candidates[k], k))
    evidence.update({
        "peak_rps": _r(peak), "baseline_rps": _r(baseline),
        "flas_rps": _r((1 + settings.safety_buffer) * candidates[driver]),
        "flas_driver": driver, "flas_candidates_rps": {k: _r(v) for k, v in candidates.items()},
        "spike_ratio": regular.spike_ratio, "safety_buffer": settings.safety_buffer,
        "growth": {"yearly": yearly, "source": growth_source},
        "basis": sorted(basis, key=lambda b: -b["projected_peak_rps"]),
        "declared_events": declared,
        "uplift": max(b["uplift"] for b in basis),
    })
    return evidence


def _daily_peaks(series: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wall-clock days, each day's busiest interval (requests/s) and whether the day is complete."""
    wall = series.wall_seconds(series.times())
    index = np.floor_divide(wall, DAY)
    first = int(index[0])
    pos = index - first
    ok = ~np.isnan(series.values)
    n_days = int(pos[-1]) + 1
    count = np.bincount(pos[ok], minlength=n_days)
    peak = np.full(n_days, np.nan)
    top = np.full(n_days, -np.inf)
    np.maximum.at(top, pos[ok], series.values[ok])
    seen = np.isfinite(top)
    peak[seen] = top[seen] / series.step
    return first + np.arange(n_days), peak, count >= 0.9 * series.per_day


def _event_days(first_day: int, last_day: int) -> dict[int, str]:
    first, last = EPOCH + timedelta(days=first_day), EPOCH + timedelta(days=last_day)
    return {(d - EPOCH).days: name for year in range(first.year, last.year + 1)
            for d, name in shopping_peaks(year).items() if first <= d <= last}


def _observed_events(days, peaks, complete, first_day: int, last_day: int) -> list[dict]:
    """Last season's peak days in the history (the newest of each name), with their uplift."""
    events = _event_days(first_day, last_day)
    ordinary = complete & ~np.isin(days, list(events))
    newest: dict[str, dict] = {}
    for day, name in sorted(events.items()):
        i = day - first_day
        if not complete[i]:
            continue
        before = ordinary & (days < day) & (days >= day - NORMAL_DAYS)
        if not before.any():
            continue
        normal = float(np.median(peaks[before]))
        if normal <= 0:
            continue
        newest[name] = {"name": name, "day": day, "peak_rps": float(peaks[i]), "normal_rps": normal,
                        "uplift": float(peaks[i]) / normal}
    return list(newest.values())


def _normal_now(days, peaks, complete, last_day: int) -> float:
    """The median daily peak of the ordinary days of the last four weeks."""
    events = _event_days(int(days[0]), last_day)
    recent = complete & ~np.isin(days, list(events)) & (days > last_day - NORMAL_DAYS)
    return float(np.median(peaks[recent])) if recent.any() else 0.0


def _growth(regular: CapacityResult, window: PeakWindow) -> tuple[float, str]:
    yoy = (regular.growth or {}).get("yoy") or {}
    if yoy.get("daily_peak") is not None:
        return float(yoy["daily_peak"]), "measured: daily peaks, year over year"
    if window.growth is not None:
        return window.growth, "declared for the run (less than a year of history to measure it)"
    return DEFAULT_GROWTH, (f"assumed {DEFAULT_GROWTH:.0%} a year: less than a year of history "
                            "to measure it and none declared (kapacity run --peak-growth)")


def _declared(events: Sequence[KnownEvent], name: str | None, window: PeakWindow,
              normal_rps: float) -> list[dict]:
    """Declared flash sales inside the window: the ordinary daily peak then x their multiplier."""
    lo = (window.starts_on - EPOCH).days * DAY
    hi = (window.ends_on - EPOCH).days * DAY + DAY
    out = []
    for event in events:
        if not event.applies_to(name):
            continue
        start, end = event.window(None)
        if end <= lo or start >= hi:
            continue
        out.append({**event.as_dict(), "projected_rps": _r(normal_rps * event.multiplier)})
    return out


def _day(epoch_day: int) -> str:
    return _date(epoch_day).isoformat()


def _date(epoch_day: int) -> date:
    return EPOCH + timedelta(days=int(epoch_day))


def _r(x: float) -> float:
    return round(float(x), 6)
