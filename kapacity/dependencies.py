"""Traffic dependencies: learn call ratios, propagate a purchase-flow surge, classify systems.

- **Call ratios.** Systems share daily and weekly cycles, so levels alone cannot
  tell a callee's own traffic from what its callers send. Ratios are learned
  from *fluctuations*: each system's 5-minute volume minus its own
  mean for that time of week. A callee's fluctuations are fitted as a non-negative
  combination of its callers' fluctuations (non-negative least squares on the
  intervals all of them have); a caller's coefficient is the ratio, requests
  the callee receives per request the caller receives. Surges and noise at the
  caller travel to the callee; the callee's own fluctuations do not depend on
  the caller, so they do not bias the ratio. The calendar's shopping peak days are
  left out: every system swings up on Black Friday at once, and that shared swing
  would read as calls. Where histories do not overlap for
  at least two days, the ratio is assumed to be 1 (said so: ``learned=False``).
- **Propagation.** A surge at the purchase-flow entry points (their FLAS need
  above their forecast peak) travels down synchronous dependencies, scaled by
  each edge's ratio: ``extra(callee) = sum(ratio * extra(caller))``. Cycles are
  broken by dropping the edges that close them (reported). Each reached
  system's FLAS need is its forecast peak plus the extra it receives, with the
  safety buffer.
- **Classification.** Systems in the purchase flow or reached from it through
  synchronous dependencies are FLAS systems; the others are Baseline systems.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kapacity.history import Series

if TYPE_CHECKING:  # networkx and scipy load only where ratios are learned (not in workers)
    import networkx as nx

HOUR = 3600
MIN_HOURS = 48
DEFAULT_RATIO = 1.0


@dataclass(frozen=True)
class Edge:
    caller: str
    callee: str
    kind: str = "sync"


@dataclass(frozen=True)
class CallRatio:
    caller: str
    callee: str
    kind: str
    ratio: float
    learned: bool
    r2: float | None
    samples: int

    def as_dict(self) -> dict:
        return {"caller": self.caller, "callee": self.callee, "kind": self.kind,
                "ratio": self.ratio, "learned": self.learned, "r2": self.r2,
                "samples": self.samples}


BIN = 300


def binned_volume(series: Series, bin_seconds: int = BIN) -> tuple[int, int, np.ndarray]:
    """(bin seconds, first bin, volume per bin) on the epoch grid; NaN where incomplete.

    The bin is ``bin_seconds`` or the series' own resolution when that is coarser.
    """
    step = series.step
    size = max(bin_seconds, step)
    size = size - size % step if size % step else size
    per = size // step
    bins = (series.times() - series.start % size) // size
    first = int(bins[0])
    idx = bins - first
    n = int(idx[-1]) + 1
    ok = ~np.isnan(series.values)
    total = np.bincount(idx[ok], series.values[ok], n)
    count = np.bincount(idx[ok], minlength=n)
    return size, first, np.where(count == per, total, np.nan).astype(np.float32)


def hourly_volume(series: Series) -> tuple[int, np.ndarray]:
    """(first epoch hour, volume per hour); NaN where incomplete."""
    _, first, values = binned_volume(series, HOUR)
    return first, values


def learn_call_ratios(volumes: Mapping[str, tuple[int, int, np.ndarray]],
                      edges: Iterable[Edge]) -> list[CallRatio]:
    """Ratios for every edge, learned where the histories allow (see the module docstring).

    ``volumes`` maps system ids to :func:`binned_volume` results.
    """
    by_callee: dict[str, list[Edge]] = {}
    for edge in edges:
        by_callee.setdefault(edge.callee, []).append(edge)
    fluctuation_cache: dict[str, tuple[int, int, np.ndarray]] = {}

    def fluctuation(system: str) -> tuple[int, int, np.ndarray]:
        if system not in fluctuation_cache:
            fluctuation_cache[system] = _fluctuation(volumes[system])
        return fluctuation_cache[system]

    out: list[CallRatio] = []
    for callee in sorted(by_callee):
        incoming = sorted(by_callee[callee], key=lambda e: e.caller)
        usable = [e for e in incoming if e.caller in volumes and callee in volumes
                  and volumes[e.caller][0] == volumes[callee][0]]
        learned: dict[str, tuple[float, float | None, int]] = {}
        if usable:
            learned = _fit(fluctuation(callee), [fluctuation(e.caller) for e in usable],
                           [e.caller for e in usable])
        for e in incoming:
            if e.caller in learned:
                ratio, r2, samples = learned[e.caller]
                out.append(CallRatio(e.caller, callee, e.kind, ratio, True, r2, samples))
            else:
                out.append(CallRatio(e.caller, callee, e.kind, DEFAULT_RATIO, False, None, 0))
    return out


def _fluctuation(volume: tuple[int, int, np.ndarray]) -> tuple[int, int, np.ndarray]:
    """Volume minus its mean per slot of week: linear, so a callee's share of its callers'
    traffic stays exactly proportional after the shared cycles are taken out."""
    size, first, values = volume
    values = _without_peak_days(first, size, values.astype(float))
    per_week = 7 * 86_400 // size
    slots = (np.arange(values.size) + first) % per_week
    ok = ~np.isnan(values)
    total = np.bincount(slots[ok], values[ok], per_week)
    count = np.bincount(slots[ok], minlength=per_week)
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = np.where(count > 0, total / count, np.nan)
    return size, first, values - profile[slots]


def _without_peak_days(first: int, size: int, values: np.ndarray) -> np.ndarray:
    """The volume with the calendar's shopping peak days left out (NaN): every system is busier
    on Black Friday at once, and that shared swing would read as calls between them."""
    from datetime import timedelta

    from kapacity.calendar import EPOCH, shopping_peaks

    days = (first + np.arange(values.size)) * size // 86_400
    start, end = EPOCH + timedelta(days=int(days[0])), EPOCH + timedelta(days=int(days[-1]))
    peak = [(d - EPOCH).days for year in range(start.year, end.year + 1) for d in shopping_peaks(year)]
    out = values.copy()
    out[np.isin(days, peak)] = np.nan
    return out


def _fit(target: tuple[int, int, np.ndarray], callers: list[tuple[int, int, np.ndarray]],
         names: list[str]) -> dict[str, tuple[float, float | None, int]]:
    size = target[0]
    start = max([target[1], *[c[1] for c in callers]])
    end = min([target[1] + target[2].size, *[c[1] + c[2].size for c in callers]])
    need = 2 * 86_400 // size
    if end - start < need:
        return {}
    y = target[2][start - target[1]:end - target[1]]
    X = np.column_stack([c[2][start - c[1]:end - c[1]] for c in callers])
    ok = ~np.isnan(y) & ~np.isnan(X).any(axis=1)
    if ok.sum() < need:
        return {}
    from scipy.optimize import nnls

    y, X = y[ok], X[ok]
    scale = np.maximum(np.abs(X).max(axis=0), 1e-12)  # conditioning: columns to about 1
    coef, _ = nnls(X / scale, y, maxiter=50 * X.shape[1])
    coef = coef / scale
    total = float((y ** 2).sum())
    r2 = 1 - float(((y - X @ coef) ** 2).sum()) / total if total > 0 else None
    samples = int(ok.sum())
    return {name: (round(float(coef[i]), 6), None if r2 is None else round(r2, 4), samples)
            for i, name in enumerate(names)}


@dataclass
class Propagation:
    extra_rps: dict[str, float]        # surge each system receives from the entry points
    paths: dict[str, list[str]]        # for each reached system, the entry points it hears from
    dropped_edges: list[tuple[str, str]]


def sync_graph(systems: Iterable[str], ratios: Iterable[CallRatio]) -> nx.DiGraph:
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(systems))
    for r in sorted(ratios, key=lambda r: (r.caller, r.callee)):
        if r.kind == "sync":
            graph.add_edge(r.caller, r.callee, ratio=r.ratio)
    return graph


def propagate(graph: nx.DiGraph, surges: Mapping[str, float]) -> Propagation:
    """Carry entry-point surges (rps above their forecast peak) down synchronous edges."""
    import networkx as nx

    graph = graph.copy()
    dropped: list[tuple[str, str]] = []
    while True:
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            break
        caller, callee = cycle[-1][0], cycle[-1][1]
        graph.remove_edge(caller, callee)
        dropped.append((caller, callee))
    extra = dict.fromkeys(graph.nodes, 0.0)
    heard: dict[str, set[str]] = {n: set() for n in graph.nodes}
    for entry, surge in surges.items():
        if entry in extra:
            extra[entry] += max(0.0, float(surge))
            heard[entry].add(entry)
    for node in nx.lexicographical_topological_sort(graph):
        for callee in sorted(graph.successors(node)):
            extra[callee] += graph.edges[node, callee]["ratio"] * extra[node]
            heard[callee] |= heard[node]
    return Propagation({k: round(v, 6) for k, v in extra.items()},
                       {k: sorted(v) for k, v in heard.items() if v}, dropped)


def classify(systems: Iterable[str], entry_points: Iterable[str],
             edges: Iterable[Edge]) -> dict[str, str]:
    """FLAS for entry points and everything they reach synchronously; Baseline otherwise."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(systems)
    graph.add_edges_from((e.caller, e.callee) for e in edges if e.kind == "sync")
    flas: set[str] = set()
    for entry in entry_points:
        if entry in graph:
            flas.add(entry)
            flas |= nx.descendants(graph, entry)
    return {s: ("FLAS" if s in flas else "Baseline") for s in sorted(graph.nodes)}
