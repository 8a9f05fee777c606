"""Where catalog runs get history: a small source interface and a directory source.

A source answers, for one system and its service names, with the system's
total series and one series per service it has. A Prometheus ``query_range``
source will implement the same protocol (``name``, ``describe()``,
``fetch(system_id, services)``); it must be picklable so that runs on a
dask cluster can ship it to workers.

:class:`DirectorySource` reads files named after the catalog::

    <dir>/<system_id>.csv|.parquet            the system's total (timestamp,value);
                                              with a ``series`` column, one series per
                                              service and the total is their sum
    <dir>/<system_id>/<service>.csv|.parquet  one service

When a system has service files but no total file, its total is the sum of its
services on their common grid (intervals where any service is missing are gaps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from kapacity.errors import HistoryError
from kapacity.history import Series, read_history

SUFFIXES = (".parquet", ".csv")


@dataclass
class SystemHistory:
    system_id: str
    total: Series | None = None
    services: dict[str, Series] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@runtime_checkable
class HistorySource(Protocol):
    name: str

    def describe(self) -> str: ...

    def fetch(self, system_id: str, services: Sequence[str]) -> SystemHistory: ...


@dataclass(frozen=True)
class DirectorySource:
    """Histories from files in one directory (see the module docstring for the layout)."""

    path: Path
    name: str = "directory"

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    def describe(self) -> str:
        return f"directory {self.path}"

    def fetch(self, system_id: str, services: Sequence[str]) -> SystemHistory:
        out = SystemHistory(system_id)
        total_file = _first_existing(self.path / system_id)
        if total_file is not None:
            try:
                loaded = read_history(total_file)
            except HistoryError as exc:
                out.problems.append(str(exc))
                loaded = []
            if len(loaded) == 1 and loaded[0].name is None:
                out.total = _renamed(loaded[0], system_id)
            else:
                for s in loaded:
                    out.services[s.name] = _renamed(s, f"{system_id}/{s.name}")
        folder = self.path / system_id
        wanted = list(services)
        if folder.is_dir():
            present = sorted({p.stem for p in folder.iterdir() if p.suffix.lower() in SUFFIXES})
            wanted = sorted(set(wanted) | set(present))
        for service in wanted:
            if service in out.services:
                continue
            file = _first_existing(folder / service)
            if file is None:
                continue
            try:
                [s] = read_history(file)[:1]
            except HistoryError as exc:
                out.problems.append(str(exc))
                continue
            out.services[service] = _renamed(s, f"{system_id}/{service}")
        if out.total is None and out.services:
            try:
                out.total = sum_series([out.services[k] for k in sorted(out.services)], system_id)
            except HistoryError as exc:
                out.problems.append(str(exc))
        return out


def _first_existing(stem: Path) -> Path | None:
    for suffix in SUFFIXES:
        candidate = stem.with_name(stem.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def _renamed(series: Series, name: str) -> Series:
    return Series(name, series.start, series.step, series.values, series.tz, series.source,
                  series.notes)


def sum_series(parts: Sequence[Series], name: str) -> Series:
    """The sum of series on one grid: same resolution, alignment and time convention."""
    first = parts[0]
    for s in parts[1:]:
        if s.step != first.step or (s.start - first.start) % first.step or s.tz != first.tz:
            raise HistoryError(
                f"cannot add {s.label} to {first.label}: resolution, alignment or time zone "
                f"differ ({s.step}s/{s.tz} vs {first.step}s/{first.tz})")
    start = min(s.start for s in parts)
    end = max(s.end for s in parts)
    n = (end - start) // first.step + 1
    total = np.zeros(n)
    for s in parts:
        grid = np.full(n, np.nan)
        offset = (s.start - start) // first.step
        grid[offset:offset + s.n] = s.values
        total += grid  # NaN anywhere makes the interval a gap
    notes = (f"sum of {len(parts)} series: {', '.join(str(s.name) for s in parts)}",)
    return Series(name, start, first.step, total, first.tz, first.source, notes)
