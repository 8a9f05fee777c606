"""A merchant's traffic profile from its history: normal level, peak, spike ratio.

History files hold ``timestamp,value`` (requests in the interval starting at
``timestamp``), the format Kapacity reads, so ``kapacity.read_history`` reads
them (gaps, DST, duplicates handled there). A small reader here does the same
for regular files; the tests check that both agree. Either way the review sees
only :class:`TrafficProfile` via :func:`load_profile`, the one switch point.

Definitions (per minute, so they compare with rate limits):

- ``normal_rpm``: the median over days of each day's busiest interval, i.e. the
  level an ordinary day reaches; a flash-sale multiplier applies to it;
- ``peak_rpm``: the busiest interval in the whole history;
- ``spike_ratio``: ``peak_rpm / normal_rpm``, how far past an ordinary day the
  merchant has gone on its own (used for unmanaged flash sales);
- ``busiest_hour``: hour of day (the history's local time) with the highest mean.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clikit import counted
from flashsales.errors import HistoryUnavailable

DAY = 86_400


@dataclass(frozen=True)
class TrafficProfile:
    source: str
    reader: str
    points: int
    step_seconds: int
    first: str
    last: str
    days: int
    normal_rpm: float
    peak_rpm: float
    median_rpm: float
    spike_ratio: float | None  # None when the normal level is zero
    busiest_hour: int | None

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def load_profile(path: str | Path) -> TrafficProfile:
    """The profile of one merchant's history file; :class:`HistoryUnavailable` names the file.

    The error says what is wrong (line, field) but never quotes the file: the message is
    stored in the review and shown to the requester, and the file may not be theirs to read.
    """
    path = Path(path)
    if not path.is_file():
        raise HistoryUnavailable(f"{path}: history file not found")
    try:
        return _read_profile(path)
    except Exception as exc:  # kapacity's HistoryError names the line and field
        raise HistoryUnavailable(_without_content(str(exc), path)) from None


def _read_profile(path: Path) -> TrafficProfile:
    reader = _kapacity_reader()
    if reader is not None:
        wall, values, step = reader(path)
        name = "kapacity.read_history"
    else:
        wall, values, step = _read_csv(path)
        name = "flashsales.history"
    return _profile(str(path), name, wall, values, step)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\((?:found|got):[^)]*\)|;\s*found:.*$")
_LINE = re.compile(r"\b(?:line|row) \d+")
_FIELDS = ("timestamp", "value", "series")


def _without_content(message: str, path: Path) -> str:
    """The error's place and kind with every quoted cell or header cut out; generic if any line remains."""
    text = message.removeprefix(f"{path}:").strip()
    text = _QUOTED.sub(_kept_field, text).replace("  ", " ").strip(" :;")
    if not text or _quotes_the_file(text, path):
        line = _LINE.search(message)
        fields = [f for f in _FIELDS if f in _QUOTED.sub("", message)]
        text = (f"{line.group(0)}: " if line else "") + "not a usable timestamp,value history" + (
            f" (field {', '.join(fields)})" if fields else "")
    return f"{path}: {text}"


def _kept_field(match: re.Match) -> str:
    """A quoted column name of ours ('timestamp') stays; anything else quoted is cut."""
    quoted = match.group(0).strip("'\"")
    return match.group(0) if quoted in _FIELDS else ""


def _quotes_the_file(text: str, path: Path) -> bool:
    try:
        head = path.read_bytes()[:65_536].decode("utf-8", "replace")
    except OSError:
        return True
    return any(len(chunk) >= 4 and chunk.lower() not in _FIELDS and chunk in text
               for line in head.splitlines() for chunk in re.split(r"[,;\s]+", line.strip()) + [line.strip()])


def _kapacity_reader() -> Callable[[Path], tuple[np.ndarray, np.ndarray, int]] | None:
    """The reader for history files: Kapacity's (tests swap in None to check the reader here agrees)."""
    return _read_with_kapacity


def _read_with_kapacity(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """Wall-clock epoch seconds, values and the step, as ``kapacity.read_history`` reads them."""
    import kapacity  # imported on first use, like pandas: the CLI starts faster without it

    series = kapacity.read_history(path)[0]
    times = series.times()
    return np.asarray(series.wall_seconds(times)), np.asarray(series.values, float), int(series.step)


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """Wall-clock epoch seconds, values and the step of a regular ``timestamp,value`` CSV."""
    import pandas as pd  # imported here: the CLI starts faster without it

    try:
        frame = pd.read_csv(path, dtype={"timestamp": str}, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise HistoryUnavailable(f"{path}: cannot read CSV: {exc}") from None
    missing = [c for c in ("timestamp", "value") if c not in frame.columns]
    if missing:
        raise HistoryUnavailable(f"{path}:1: missing {counted(len(missing), 'column')} {missing}; "
                                 "expected timestamp,value")
    text = frame["timestamp"].astype(str).str.strip()
    wall = pd.to_datetime(text.str.slice(0, 19), format="ISO8601", errors="coerce")
    bad = wall.isna().to_numpy()
    if bad.any():
        line = int(np.argmax(bad)) + 2
        raise HistoryUnavailable(f"{path}: line {line}: timestamp is not ISO 8601")
    values = pd.to_numeric(frame["value"], errors="coerce")
    negative = (values < 0).to_numpy()
    if negative.any():
        line = int(np.argmax(negative)) + 2
        raise HistoryUnavailable(f"{path}: line {line}: value must be a count of at least 0")
    seconds = wall.to_numpy().astype("datetime64[s]").astype(np.int64)
    order = np.argsort(seconds, kind="stable")
    seconds, vals = seconds[order], values.to_numpy(float)[order]
    steps = np.diff(seconds)
    steps = steps[steps > 0]
    if steps.size == 0:
        raise HistoryUnavailable(f"{path}: fewer than two distinct timestamps")
    uniques, counts = np.unique(steps, return_counts=True)
    return seconds, vals, int(uniques[np.argmax(counts)])


def _profile(source: str, reader: str, wall: np.ndarray, values: np.ndarray, step: int) -> TrafficProfile:
    keep = ~np.isnan(values)
    wall, values = wall[keep], values[keep]
    if values.size < 2:
        raise HistoryUnavailable(f"{source}: fewer than two observed intervals")
    rpm = values * 60.0 / step
    days = wall // DAY
    order = np.argsort(days, kind="stable")
    days_sorted, rpm_sorted = days[order], rpm[order]
    starts = np.flatnonzero(np.r_[True, np.diff(days_sorted) != 0])
    daily_peaks = np.maximum.reduceat(rpm_sorted, starts)
    normal = float(np.median(daily_peaks))
    peak = float(rpm.max())
    hours = ((wall % DAY) // 3600).astype(int)
    counts = np.bincount(hours, minlength=24)
    means = np.divide(np.bincount(hours, weights=rpm, minlength=24), counts,
                      out=np.full(24, -np.inf), where=counts > 0)
    busiest = int(np.argmax(means)) if counts.any() else None
    first = np.datetime_as_string(np.datetime64(int(wall.min()), "s"))
    last = np.datetime_as_string(np.datetime64(int(wall.max()), "s"))
    return TrafficProfile(
        source=source, reader=reader, points=int(values.size), step_seconds=step, first=first, last=last,
        days=int(daily_peaks.size), normal_rpm=normal, peak_rpm=peak, median_rpm=float(np.median(rpm)),
        spike_ratio=(peak / normal) if normal > 0 else None, busiest_hour=busiest)
