"""Known future events: approved flash sales and merchant predictions, as forecast inputs.

An event multiplies the expected traffic of a series over ``[start, end)``:
``multiplier`` 8 means eight times the usual activity. Overlapping events add
their extra traffic: the forecast becomes ``base * (1 + sum(multiplier - 1))``.
Events without ``series`` apply to every series.

File formats (CSV, JSON list, or YAML list), one event a row::

    name,start,end,multiplier,series
    spring-sale,2024-11-29T10:00:00+01:00,2024-11-29T12:00:00+01:00,8,checkout

Times with an offset are instants; times without one are read in the series'
own convention (wall-clock time).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from kapacity.errors import EventError
from kapacity.forecast import Forecast
from kapacity.history import utc_offsets

MAX_MULTIPLIER = 1000.0


@dataclass(frozen=True)
class KnownEvent:
    """A flash sale or predicted surge: traffic times ``multiplier`` over ``[start, end)``.

    ``start``/``end`` are ISO 8601 strings (kept as given, so results are reproducible).
    """

    name: str
    start: str
    end: str
    multiplier: float
    series: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.multiplier) and 0 < self.multiplier <= MAX_MULTIPLIER):
            raise EventError(f"event {self.name!r}: multiplier {self.multiplier} outside "
                             f"(0, {MAX_MULTIPLIER:g}]; 8 means eight times the usual traffic")
        if _epoch(self.start, None, self.name, "start") >= _epoch(self.end, None, self.name, "end"):
            raise EventError(f"event {self.name!r}: end {self.end} is not after start {self.start}")

    def applies_to(self, series: str | None) -> bool:
        return self.series is None or self.series == series

    def window(self, tz: str | None) -> tuple[int, int]:
        """Epoch seconds ``[start, end)`` in a series' convention."""
        return _epoch(self.start, tz, self.name, "start"), _epoch(self.end, tz, self.name, "end")

    def as_dict(self) -> dict:
        return {"name": self.name, "start": self.start, "end": self.end,
                "multiplier": self.multiplier, "series": self.series}


def _epoch(text: str, tz: str | None, name: str, field: str) -> int:
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise EventError(f"event {name!r}: {field} {text!r} is not an ISO 8601 time") from exc
    if stamp is pd.NaT:
        raise EventError(f"event {name!r}: {field} is missing")
    if stamp.tzinfo is not None:
        return int(stamp.tz_convert("UTC").tz_localize(None).value // 1_000_000_000)
    wall = int(stamp.value // 1_000_000_000)
    if tz is None:
        return wall
    # wall-clock time in the series' zone: subtract that zone's offset around the time
    guess = wall - int(utc_offsets(tz, np.array([wall]))[0])
    return wall - int(utc_offsets(tz, np.array([guess]))[0])


def read_events(path: str | Path) -> list[KnownEvent]:
    """Read events from CSV, JSON or YAML; errors name the file and row."""
    from storage import (  # here: the forecasting workers load no storage package
        YamlError,
        read_config,
    )

    path = Path(path)
    if not path.exists():
        raise EventError("file not found", place=str(path))
    try:
        if path.suffix.lower() in {".json"}:
            rows = json.loads(path.read_text())
        elif path.suffix.lower() in {".yaml", ".yml"}:
            rows = read_config(path) or []
        else:
            rows = pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    except YamlError as exc:  # invalid, not UTF-8, or beyond the safe reader's limits (aliases, size)
        raise EventError(f"cannot read events: {exc.problem}" + (f" (line {exc.line})" if exc.line else ""),
                         place=str(path)) from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise EventError(f"cannot read events: {exc}", place=str(path)) from exc
    if isinstance(rows, dict) and "events" in rows:
        rows = rows["events"]
    if not isinstance(rows, list):
        raise EventError("expected a list of events with name,start,end,multiplier[,series]",
                         place=str(path))
    return events_from_rows(rows, place=str(path))


def events_from_rows(rows: Iterable[dict], *, place: str = "events") -> list[KnownEvent]:
    out = []
    for i, row in enumerate(rows, start=1):
        where = f"{place} row {i}"
        if not isinstance(row, dict):
            raise EventError("expected a mapping with name,start,end,multiplier", place=where)
        missing = [k for k in ("start", "end", "multiplier") if str(row.get(k, "")).strip() == ""]
        if missing:
            raise EventError(f"missing {', '.join(missing)}; expected name,start,end,multiplier"
                             "[,series]", place=where)
        try:
            multiplier = float(row["multiplier"])
        except (TypeError, ValueError) as exc:
            raise EventError(f"multiplier {row['multiplier']!r} is not a number", place=where) from exc
        series = str(row.get("series") or "").strip() or None
        try:
            out.append(KnownEvent(str(row.get("name") or f"event-{i}").strip(),
                                  str(row["start"]).strip(), str(row["end"]).strip(), multiplier,
                                  series))
        except EventError as exc:
            raise EventError(str(exc), place=where) from exc
    return out


def event_multipliers(forecast: Forecast, events: Sequence[KnownEvent]) -> tuple[np.ndarray, list[dict]]:
    """Per-interval traffic multiplier from the events, and the events that touched the horizon."""
    times = forecast.times()
    ends = times + forecast.step
    extra = np.zeros(forecast.h)
    used = []
    for event in events:
        if not event.applies_to(forecast.name):
            continue
        start, end = event.window(forecast.tz)
        # share of each interval inside the event window
        overlap = np.clip(np.minimum(ends, end) - np.maximum(times, start), 0, None) / forecast.step
        if overlap.any():
            extra += overlap * (event.multiplier - 1)
            used.append(event.as_dict())
    return np.maximum(1 + extra, 0.0), used


def apply_events(forecast: Forecast, events: Sequence[KnownEvent]) -> Forecast:
    """The forecast with known events' extra traffic added (mean and quantiles)."""
    factor, used = event_multipliers(forecast, events)
    if not used:
        return forecast
    quantiles = {q: np.round(v * factor, 6) for q, v in forecast.quantiles.items()}
    params = {**forecast.params, "events": used}
    return replace(forecast, mean=np.round(forecast.mean * factor, 6), quantiles=quantiles,
                   params=params,
                   notes=(*forecast.notes, f"{len(used)} known events added"))
