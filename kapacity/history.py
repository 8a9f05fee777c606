"""Load traffic history from CSV (plain or gzip-compressed) or Parquet onto a regular time grid.

Input: ``timestamp,value`` with an optional ``series`` column; ``value`` is the
count for the interval that starts at ``timestamp``. Real history is messy, so
loading does the following, and records each step in ``Series.notes``:

- timestamps are ISO 8601, either all with a UTC offset (instants; output keeps
  offsets, following the inferred zone when the offsets change with DST) or all
  without one (wall-clock time; output stays naive);
- the resolution is the most common step between timestamps, the grid keeps the
  history's alignment (a series sampled at ``:53`` past stays there), and
  timestamps off the grid snap to the nearest grid point;
- gaps stay gaps (NaN): nothing is invented;
- exact duplicate rows are dropped; repeated timestamps with different values
  (a DST fall-back hour written as wall-clock time, double reporting) are averaged;
- blank values (``""``, ``NaN``, ``null``) are gaps; zeros are data.

What cannot be used raises :class:`HistoryError` naming the file, line and
field: no timestamp column, unparseable timestamps, non-numeric, negative,
infinite or implausibly large values (above ``MAX_VALUE``, 1e15: such
values overflow the models' sums and squares into 0 or infinity), mixed offset
conventions, or too little history.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from kapacity.errors import HistoryError

DAY = 86_400
WEEK = 7 * DAY
MIN_SPAN_SECONDS = 2 * DAY
MIN_OBSERVATIONS = 24
MAX_GRID_POINTS = 20_000_000
# storage.MAX_DECIMAL, the largest plausible number (a test keeps them equal); not imported from
# storage, because forecasting loads no database layer
MAX_VALUE = 1e15
_MISSING = {"", "nan", "na", "n/a", "null", "none"}
# an offset only counts after a time of day (2024-01-01 ends in "-01" but has none)
_OFFSET = re.compile(r"[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Series:
    """One regular series: ``values[i]`` counts the interval starting at ``start + i*step``.

    ``start`` is epoch seconds: a UTC instant when ``tz`` is set, wall-clock time read
    as if it were UTC when ``tz`` is None (naive history).  ``tz`` is a fixed offset
    like ``"-04:00"`` or an IANA zone inferred from DST changes in the offsets.
    """

    name: str | None
    start: int
    step: int
    values: np.ndarray
    tz: str | None = None
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.step <= 0 or DAY % self.step:
            raise HistoryError(f"resolution {self.step}s does not divide a day", place=self.label)

    @property
    def label(self) -> str:
        where = self.source or "history"
        return f"{where} series {self.name!r}" if self.name is not None else where

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def end(self) -> int:
        """Epoch seconds of the last grid point."""
        return self.start + (self.n - 1) * self.step

    @property
    def per_day(self) -> int:
        return DAY // self.step

    @property
    def per_week(self) -> int:
        return WEEK // self.step

    @property
    def observed(self) -> int:
        return int(np.count_nonzero(~np.isnan(self.values)))

    def times(self, start: int | None = None, n: int | None = None) -> np.ndarray:
        """Epoch seconds of ``n`` grid points from ``start`` (default: the history's own)."""
        start = self.start if start is None else start
        n = self.n if n is None else n
        return start + self.step * np.arange(n, dtype=np.int64)

    def wall_seconds(self, times: np.ndarray) -> np.ndarray:
        """Wall-clock seconds (local time read as UTC) for epoch ``times`` of this series."""
        return times + utc_offsets(self.tz, times)

    def head(self, n: int) -> Series:
        """The first ``n`` grid points (a history cut at an origin, for backtests)."""
        return Series(self.name, self.start, self.step, self.values[:n], self.tz, self.source,
                      self.notes)

    def format_times(self, times: np.ndarray) -> np.ndarray:
        return format_timestamps(times, self.tz)


# -- time zones ---------------------------------------------------------------------------

def utc_offsets(tz: str | None, times: np.ndarray) -> np.ndarray:
    """UTC offset in seconds at each epoch time (zeros for naive series)."""
    times = np.asarray(times, dtype=np.int64)
    if tz is None:
        return np.zeros_like(times)
    fixed = _fixed_offset(tz)
    if fixed is not None:
        return np.full_like(times, fixed)
    index = pd.DatetimeIndex(times.astype("datetime64[s]")).tz_localize("UTC").tz_convert(tz)
    local = index.tz_localize(None).as_unit("s").asi8
    return local - times


def _fixed_offset(tz: str) -> int | None:
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", tz)
    if not match:
        return None
    sign = 1 if match.group(1) == "+" else -1
    return sign * (int(match.group(2)) * 3600 + int(match.group(3)) * 60)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Distinct values, sorted (sort-based: numpy's hash-based unique is slow on large ints)."""
    s = np.sort(np.asarray(values), kind="stable")
    if s.size == 0:
        return s
    keep = np.empty(s.size, bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _format_offset(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(int(seconds))
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def format_timestamps(times: np.ndarray, tz: str | None) -> np.ndarray:
    """ISO 8601 strings: wall-clock time, plus the offset when the series has one."""
    times = np.asarray(times, dtype=np.int64)
    offsets = utc_offsets(tz, times)
    text = np.datetime_as_string((times + offsets).astype("datetime64[s]"), unit="s")
    if tz is None:
        return text.astype(object)
    distinct = sorted_unique(offsets)
    suffix = np.array([_format_offset(o) for o in distinct], dtype=object)
    which = np.searchsorted(distinct, offsets)
    return text.astype(object) + suffix[which]


@lru_cache(maxsize=256)
def _infer_zone(checkpoints: tuple[tuple[int, int], ...]) -> str | None:
    """The first IANA zone (alphabetically) whose offsets match every (epoch, offset) pair."""
    moments = [(datetime.fromtimestamp(t, UTC), off) for t, off in checkpoints]
    for name in sorted(zoneinfo.available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix", "right/")):
            continue
        try:
            zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):  # pragma: no cover - broken tzdata
            continue
        if all(m.astimezone(zone).utcoffset() == timedelta(seconds=off) for m, off in moments):
            return name
    return None


def _zone_for(times: np.ndarray, offsets: np.ndarray) -> tuple[str, str | None]:
    """Output convention for offset-carrying history: fixed offset, or a DST zone."""
    unique = sorted_unique(offsets)
    if unique.size == 1:
        return _format_offset(int(unique[0])), None
    order = np.argsort(times, kind="stable")
    t, off = times[order], offsets[order]
    change = np.flatnonzero(np.diff(off)) + 1
    edges = np.unique(np.concatenate([[0], change - 1, change, [t.size - 1]]))
    checkpoints = tuple((int(t[i]), int(off[i])) for i in edges)
    zone = _infer_zone(checkpoints)
    if zone is not None:
        return zone, f"UTC offsets change ({', '.join(_format_offset(o) for o in unique)}); output follows zone {zone}"
    last = int(off[-1])
    return _format_offset(last), (
        f"UTC offsets change ({', '.join(_format_offset(o) for o in unique)}) like no known zone; "
        f"output uses the latest offset {_format_offset(last)}")


# -- reading files ------------------------------------------------------------------------

def read_history(path: str | Path, *, series: str | None = None) -> list[Series]:
    """Read a CSV (plain or compressed: ``.csv.gz``, ``.csv.bz2``, ``.csv.zip``, ``.csv.xz``)
    or Parquet history file into regular series (one per ``series`` value).

    ``series`` selects one series by name from a multi-series file.
    """
    path = Path(path)
    place = str(path)
    if not path.exists():
        raise HistoryError("file not found", place=place)
    suffix = path.suffix.lower()
    try:
        if suffix in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
            row_base, row_word = 1, "row"
        else:
            frame = pd.read_csv(path, dtype=_text_columns(path), skip_blank_lines=False,
                                skipinitialspace=True)
            row_base, row_word = 2, "line"
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError) as exc:
        raise HistoryError(f"cannot read file: {str(exc).strip().splitlines()[0]}; "
                           "expected CSV or Parquet with columns timestamp,value[,series]",
                           place=place) from exc
    return series_from_frame(frame, source=place, series=series, row_base=row_base,
                             row_word=row_word)


def _text_columns(path: Path) -> dict[str, type]:
    # pandas reads the header too, so a compressed file (.csv.gz, ...) works like a plain one
    header = pd.read_csv(path, nrows=0, skip_blank_lines=False, skipinitialspace=True,
                         encoding_errors="replace")
    names = [str(name).strip() for name in header.columns]
    return {name: str for name in names if name.lower() in {"timestamp", "series"}}


def series_from_frame(frame: pd.DataFrame, *, source: str = "history", series: str | None = None,
                      row_base: int = 1, row_word: str = "row") -> list[Series]:
    """Validate and regularise a long-format frame (``timestamp,value[,series]``)."""
    columns = {str(c).strip().lower(): c for c in frame.columns}
    for needed in ("timestamp", "value"):
        if needed not in columns:
            found = ", ".join(map(str, frame.columns)) or "none"
            raise HistoryError(f"no {needed!r} column (found: {found}); expected columns "
                               "timestamp,value with an optional series column", place=source)
    ts_col, value_col = columns["timestamp"], columns["value"]
    rows = np.arange(len(frame)) + row_base
    blank = _blank(frame[ts_col]) & _blank(frame[value_col])
    if "series" in columns:
        blank &= _blank(frame[columns["series"]])
    frame, rows = frame.loc[~blank.to_numpy()], rows[~blank.to_numpy()]
    if frame.empty:
        raise HistoryError("no rows with timestamps; expected columns timestamp,value", place=source)

    times, offsets, aware = _parse_times(frame[ts_col], rows, source, row_word)
    values = _parse_values(frame[value_col], rows, source, row_word)

    if "series" in columns:
        names = frame[columns["series"]].astype(str).str.strip().to_numpy()
        missing = names == ""
        if missing.any():
            raise HistoryError(f"{row_word} {rows[np.argmax(missing)]}: empty series name",
                               place=source)
        wanted = sorted(set(names)) if series is None else [series]
        if series is not None and series not in set(names):
            raise HistoryError(f"no series {series!r}; found: {', '.join(sorted(set(names))[:10])}",
                               place=source)
        out = []
        for name in wanted:
            mask = names == name
            out.append(_regularise(name, times[mask], offsets[mask] if aware else None,
                                   values[mask], source))
        return out
    if series is not None:
        raise HistoryError(f"no series column, so series {series!r} cannot be selected",
                           place=source)
    return [_regularise(None, times, offsets if aware else None, values, source)]


def _blank(column: pd.Series) -> pd.Series:
    blank = column.isna()
    if column.dtype == object and not blank.all():
        text = column[~blank].astype(str)
        short = text.str.len() < 8  # whitespace-only cells, without stripping every row
        if short.any():
            blank.loc[text.index[short]] = text[short].str.strip().eq("")
    return blank


def _parse_times(column: pd.Series, rows: np.ndarray, source: str,
                 row_word: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Epoch seconds per row, UTC offsets per row, and whether offsets were given."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        index = pd.DatetimeIndex(column)
        if index.isna().any():
            raise HistoryError(f"{row_word} {rows[np.argmax(index.isna())]}: missing timestamp",
                               place=source)
        if index.tz is None:
            return index.as_unit("s").asi8, np.zeros(len(index), np.int64), False
        utc = index.tz_convert("UTC").as_unit("s").asi8
        local = index.tz_localize(None).as_unit("s").asi8
        return utc, local - utc, True
    text = column.astype(str)
    empty = column.isna().to_numpy()
    if empty.any() or text.str.len().min() < 8:
        text = text.str.strip()
        empty = empty | text.eq("").to_numpy()
    if empty.any():
        raise HistoryError(f"{row_word} {rows[np.argmax(empty)]}: missing timestamp; "
                           "expected ISO 8601 like 2024-11-29T14:05:00+01:00", place=source)
    fast = _fast_times(text)
    if fast is not None:
        return fast
    text = text.str.strip()
    has_offset = text.str.contains(_OFFSET).to_numpy()
    aware = bool(has_offset[0])
    mixed = has_offset != aware
    if mixed.any():
        i = int(np.argmax(mixed))
        raise HistoryError(
            f"{row_word} {rows[i]}: timestamp {text.iloc[i]!r} "
            f"{'has no' if aware else 'has a'} UTC offset but {row_word} {rows[0]} "
            f"{'has one' if aware else 'has none'}; use one convention for the whole file",
            place=source)
    parsed = pd.to_datetime(text, format="ISO8601", utc=aware, errors="coerce")
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        what = "no timestamps" if bad.all() else f"timestamp {text.iloc[i]!r} is not ISO 8601"
        raise HistoryError(f"{row_word} {rows[i]}: {what}; expected ISO 8601 like "
                           "2024-11-29T14:05:00 or 2024-11-29T14:05:00+01:00", place=source)
    epoch = pd.DatetimeIndex(parsed).as_unit("s").asi8
    if not aware:
        return epoch, np.zeros(len(epoch), np.int64), False
    offsets = text.str.extract(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})$",
                               flags=re.IGNORECASE)[0]
    return epoch, _offset_seconds(offsets.to_numpy()), True


_SUFFIX = re.compile(r"Z|[+-]\d{2}:\d{2}")


def _fast_times(text: pd.Series) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """Fixed-width ISO timestamps (the usual export) parsed by numpy; None if not that shape."""
    lengths = text.str.len().to_numpy()
    if lengths.size == 0 or lengths.min() != lengths.max() or lengths[0] not in (19, 20, 25):
        return None
    values = text.to_numpy().astype(str)
    local_text = np.char.replace(values.astype("U19"), " ", "T")
    try:
        local = local_text.astype("datetime64[s]").astype(np.int64)
    except ValueError:
        return None
    if lengths[0] == 19:
        return local, np.zeros(local.size, np.int64), False
    suffixes, inverse = np.unique(_suffixes(values), return_inverse=True)
    if not all(_SUFFIX.fullmatch(s) for s in suffixes):
        return None
    offsets = _offset_seconds(suffixes)[inverse]
    return local - offsets, offsets, True


def _suffixes(values: np.ndarray) -> np.ndarray:
    view = values.view(np.uint32).reshape(values.size, -1)[:, 19:]
    return np.ascontiguousarray(view).view(f"U{view.shape[1]}").ravel()


def _offset_seconds(texts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(texts), np.int64)
    for text in np.unique(texts):
        if text.upper() == "Z":
            seconds = 0
        else:
            digits = text[1:].replace(":", "")
            seconds = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
            seconds = -seconds if text[0] == "-" else seconds
        out[texts == text] = seconds
    return out


def _parse_values(column: pd.Series, rows: np.ndarray, source: str, row_word: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        text = None
    else:
        text = column.astype(str).str.strip()
        missing = text.str.lower().isin(_MISSING) | column.isna()
        values = pd.to_numeric(text.where(~missing, "nan"), errors="coerce").to_numpy(np.float64)
        bad = np.isnan(values) & ~missing.to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise HistoryError(f"{row_word} {rows[i]}: value {text.iloc[i]!r} is not a number; "
                               "expected a count or rate like 42 or 17.5 (blank for a gap)",
                               place=source)
    infinite = np.isinf(values)
    if infinite.any():
        i = int(np.argmax(infinite))
        raise HistoryError(f"{row_word} {rows[i]}, field 'value': value is infinite; "
                           "expected a finite count", place=source)
    huge = np.abs(values) > MAX_VALUE  # NaN compares False: gaps stay gaps
    if huge.any():
        i = int(np.argmax(huge))
        raise HistoryError(f"{row_word} {rows[i]}, field 'value': value {values[i]:g} is out of range; "
                           f"expected a count of at most {MAX_VALUE:g}", place=source)
    negative = values < 0
    if negative.any():
        i = int(np.argmax(negative))
        raise HistoryError(f"{row_word} {rows[i]}: value {values[i]:g} is negative; "
                           "expected a count of requests (0 or more)", place=source)
    return values


# -- onto the grid ------------------------------------------------------------------------

def infer_step(times: np.ndarray) -> int:
    """The most common positive step between sorted unique times (smallest on ties)."""
    diffs = np.diff(times)
    if diffs.size and (diffs > 0).all() and (diffs == diffs[0]).all() and DAY % int(diffs[0]) == 0:
        return int(diffs[0])  # the usual export: sorted and regular
    diffs = np.diff(sorted_unique(times))
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return 0
    steps, counts = np.unique(diffs, return_counts=True)
    step = int(steps[np.argmax(counts)])
    # jittered samples (e.g. 299 s and 301 s around 5 min): round to a divisor of a day
    if DAY % step:
        candidates = np.array([d for d in range(1, DAY + 1) if DAY % d == 0])
        step = int(candidates[np.argmin(np.abs(candidates - step))])
    return step


def _regularise(name: str | None, times: np.ndarray, offsets: np.ndarray | None,
                values: np.ndarray, source: str) -> Series:
    label = f"{source} series {name!r}" if name is not None else source
    notes: list[str] = []
    keep = ~np.isnan(values)
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} blank values read as gaps")
    tz = None
    if offsets is not None:
        tz, note = _zone_for(times, offsets)
        if note:
            notes.append(note)
    times, values = times[keep], values[keep]
    step = infer_step(times)
    _check_enough(times, step, label)
    if step <= 0 or step > DAY:
        raise HistoryError(f"cannot infer a resolution between 1 second and 1 day (got {step}s)",
                           place=label)
    phase_all = times % step
    if bool((phase_all == phase_all[0]).all()):
        phase = int(phase_all[0])
    else:
        phases, counts = np.unique(phase_all, return_counts=True)
        phase = int(phases[np.argmax(counts)])
    k = np.floor((times - phase) / step + 0.5).astype(np.int64)
    snapped = int(np.count_nonzero(phase_all != phase))
    if snapped:
        notes.append(f"{snapped} timestamps off the {step}s grid snapped to the nearest point")
    if k.size > 1 and bool((k[1:] > k[:-1]).all()):  # the usual export: sorted, no repeats
        unique_k = k
    else:
        unique_k, values = _merge_repeats(k, values, notes)
    size = int(unique_k[-1] - unique_k[0] + 1)
    if size > MAX_GRID_POINTS:
        raise HistoryError(f"{size} grid points at {step}s resolution is too many; "
                           "resample or cut the history", place=label)
    grid = np.full(size, np.nan)
    grid[unique_k - unique_k[0]] = values
    gaps = size - unique_k.size
    if gaps:
        notes.append(f"{gaps} missing intervals left as gaps")
    start = int(unique_k[0] * step + phase)
    return Series(name, start, step, grid, tz, source, tuple(notes))


def _merge_repeats(k: np.ndarray, values: np.ndarray,
                   notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Sort by grid index; drop exact duplicate rows; average repeated indices."""
    order = np.lexsort((values, k))
    k, values = k[order], values[order]
    exact = np.zeros(k.size, bool)
    exact[1:] = (k[1:] == k[:-1]) & (values[1:] == values[:-1])
    if exact.any():
        notes.append(f"{int(exact.sum())} duplicate rows dropped")
        k, values = k[~exact], values[~exact]
    unique_k, first, counts = np.unique(k, return_index=True, return_counts=True)
    if (counts > 1).any():
        notes.append(f"{int((counts > 1).sum())} timestamps repeated with different values "
                     "(DST fall-back or double reporting); values averaged")
        return unique_k, np.add.reduceat(values, first) / counts
    return unique_k, values[first]


def _check_enough(times: np.ndarray, step: int, label: str) -> None:
    """At least 24 observations covering 2 days (the last interval counts: 48 hours is 2 days)."""
    span = int(times.max() - times.min()) + max(step, 0) if times.size else 0
    if times.size < MIN_OBSERVATIONS or span < MIN_SPAN_SECONDS:
        raise HistoryError(
            f"history too short: {times.size} observations spanning {_human(span)}; "
            f"need at least {MIN_OBSERVATIONS} observations over {_human(MIN_SPAN_SECONDS)}",
            place=label)


def _human(seconds: int) -> str:
    if seconds >= 3 * DAY:
        return f"{seconds / DAY:.1f} days".replace(".0 ", " ")
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h".replace(".0h", "h")
    return f"{seconds // 60}min"


def parse_duration(text: str) -> int:
    """``12h``, ``3d``, ``7d``, ``2w``, ``90min``/``90m`` -> seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*(s|min|m|h|d|w)\s*", str(text).lower())
    if not match:
        raise ValueError(f"duration {text!r} not understood; expected a number and a unit "
                         "like 12h, 3d, 7d, 28d, 2w or 90min")
    amount = int(match.group(1))
    unit = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": DAY, "w": WEEK}[match.group(2)]
    if amount <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    return amount * unit


def series_frame(series: Iterable[Series]) -> pd.DataFrame:
    """Back to long format (timestamp strings in the series' convention), gaps dropped."""
    parts = []
    for s in series:
        keep = ~np.isnan(s.values)
        part = pd.DataFrame({"timestamp": s.format_times(s.times()[keep]),
                             "value": s.values[keep]})
        if s.name is not None:
            part["series"] = s.name
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
