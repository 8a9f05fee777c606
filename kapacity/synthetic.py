"""Synthetic traffic histories for a catalog: demos, the speed benchmark, tests.

Every system gets its own traffic (a business-day cycle with weekends lower,
growth, noise, and at purchase-flow entry points a few flash-sale surges) plus,
through each dependency, a fixed share (the call ratio) of its callers' traffic;
the total is split over the system's services. Files follow the
:class:`~kapacity.sources.DirectorySource` layout, so ``kapacity run`` reads them
and should learn back the ratios. Deterministic for a seed.

With ``levels`` (a system's peak-season Baseline and FLAS figures, e.g. its
inventory's ``forecast_baseline_rps`` / ``forecast_flas_rps``) the traffic is built
from those numbers, so what Kapacity learns agrees with what the inventory
provisions: a system's total reaches its Baseline on last season's busiest peak
day (``PEAK_DAY_UPLIFT``, with ``peaks``), callers bring a share of it through
the call ratios, and purchase-flow surges are as steep as its FLAS figure over
its Baseline. ``end`` makes the history end at a given time (the present, for a
demo whose forecasts lie ahead), and ``flow_step`` gives purchase-flow systems a
finer resolution (minute-level, so two-minute surges are visible) while the
others keep ``step``.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from kapacity.calendar import EPOCH, shopping_peaks
from kapacity.history import DAY

# How much busier than an ordinary day each shopping peak day is (the whole day's traffic).
PEAK_DAY_UPLIFT = {"Black Friday": 2.4, "Cyber Monday": 2.0, "Christmas Eve": 1.3,
                   "Christmas Day": 0.7, "Boxing Day": 1.5, "New Year's Eve": 1.1}
CALLER_SHARE = 0.5       # with ``levels``: the most of a called system's traffic its callers bring
MAX_RATIO = 1.5          # with ``levels``: calls per caller request (fan-out stays plausible)
NOISE = 0.08             # relative noise of each interval
SAFETY_BUFFER = 0.2      # Kapacity's default FLAS buffer: surges are sized so FLAS agrees


@dataclass(frozen=True)
class Level:
    """A system's peak-season figures (requests/s) the synthetic traffic is built to agree with."""

    baseline_rps: float
    flas_rps: float | None = None
    services: Mapping[str, float] = field(default_factory=dict)  # service -> its Baseline


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def _shape(times: np.ndarray, peak: float = 13.0, evening: float = 0.5,
           weekend: float = 0.7) -> np.ndarray:
    hour = (times % DAY) / 3600
    weekday = ((times // DAY) + 3) % 7
    daily = 0.15 + np.exp(-((hour - peak) ** 2) / 14) + evening * np.exp(-((hour - 20) ** 2) / 6)
    return (daily * np.where(weekday >= 5, weekend, 1.0)).astype(np.float32)


def _peak_days(times: np.ndarray) -> np.ndarray:
    """Per point: the shopping-peak uplift of its day (1 on ordinary days)."""
    days = times // DAY
    factor = np.ones(times.size, dtype=np.float32)
    first, last = EPOCH + timedelta(days=int(days[0])), EPOCH + timedelta(days=int(days[-1]))
    for year in range(first.year, last.year + 1):
        for day, name in shopping_peaks(year).items():
            factor[days == (day - EPOCH).days] = PEAK_DAY_UPLIFT[name]
    return factor


def best_peak_uplift(start: date, end: date) -> float:
    """The largest shopping-peak uplift among the days of ``[start, end]`` (1 when none)."""
    best = 1.0
    for year in range(start.year, end.year + 1):
        for day, name in shopping_peaks(year).items():
            if start <= day <= end:
                best = max(best, PEAK_DAY_UPLIFT[name])
    return best


def synthesize(specs: Sequence, out_dir: str | Path, *, weeks: int = 8, step: int = 60,
               start: str = "2024-09-02T00:00:00", seed: int = 0,
               file_format: str = "parquet", end: str | datetime | None = None,
               flow_step: int | None = None, peaks: bool = False,
               levels: Mapping[str, Level] | None = None) -> dict[tuple[str, str], float]:
    """Write ``<out>/<system>/<service>.<fmt>`` for each spec; returns the true call ratios.

    ``specs`` are :class:`~kapacity.runner.SystemSpec` (system id, services, purchase flow,
    dependencies). Systems without services get one ``<out>/<system>.<fmt>`` file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fine = min(step, flow_step or step)
    if step % fine:
        raise ValueError(f"step {step}s is not a multiple of flow_step {fine}s")
    n = weeks * 7 * DAY // fine
    if end is not None:
        t_end = int(pd.Timestamp(end).value // 1_000_000_000) // step * step  # the last whole interval
        t0 = t_end - n * fine
    else:
        t0 = int(pd.Timestamp(start).value // 1_000_000_000)
    times = t0 + fine * np.arange(n, dtype=np.int64)
    weeks_elapsed = (times - t0) / (7 * DAY)
    uplift = _peak_days(times) if peaks else None
    by_id = {s.system_id: s for s in specs}
    graph = nx.DiGraph()
    graph.add_nodes_from(sorted(by_id))
    ratios: dict[tuple[str, str], float] = {}
    for s in sorted(specs, key=lambda s: s.system_id):
        for callee, _kind in s.dependencies:
            if callee in by_id:
                graph.add_edge(s.system_id, callee)
                ratios[(s.system_id, callee)] = round(float(_rng(seed, s.system_id + callee).uniform(0.3, 1.5)), 3)
    while True:  # synthetic traffic needs an order: drop edges that close cycles
        try:
            caller, callee = nx.find_cycle(graph)[-1][:2]
        except nx.NetworkXNoCycle:
            break
        graph.remove_edge(caller, callee)
        ratios.pop((caller, callee), None)
    normal = _normal_peaks(levels, times, fine, uplift is not None) if levels else {}
    own_share: dict[str, float] = {}
    if levels:  # callers bring up to CALLER_SHARE of a system's traffic, split evenly among them
        brought: dict[str, float] = {}
        for (caller, callee) in list(ratios):
            if caller in normal and callee in normal:
                share = CALLER_SHARE / graph.in_degree(callee)
                ratio = min(MAX_RATIO, share * normal[callee] / normal[caller])
                ratios[(caller, callee)] = round(ratio, 4)
                brought[callee] = brought.get(callee, 0.0) + ratio * normal[caller]
        own_share = {s: max(1 - CALLER_SHARE, 1 - brought.get(s, 0.0) / normal[s]) for s in normal}
    remaining = {node: graph.out_degree(node) for node in graph.nodes}
    totals: dict[str, np.ndarray] = {}
    timestamps = pd.to_datetime(times, unit="s")
    for node in nx.lexicographical_topological_sort(graph):
        spec = by_id[node]
        rng = _rng(seed, node)
        level = float(rng.uniform(2, 60)) * fine / 60
        growth = (1 + float(rng.uniform(-0.01, 0.03))) ** weeks_elapsed
        shape = _shape(times, float(rng.uniform(11, 15)), float(rng.uniform(0.1, 0.8)),
                       float(rng.uniform(0.5, 1.0)))
        known = levels.get(node) if levels else None
        if node in normal:
            # the system's own traffic peaks at its share of the ordinary day's peak, today
            level = own_share[node] * normal[node] * fine / float(shape.max())
            yearly = float(rng.uniform(0.05, 0.3))  # a year's growth, reached at the history's end
            growth = (1 + yearly) ** ((times - times[-1]) / (365 * DAY))
        own = level * shape * growth.astype(np.float32)
        if uplift is not None:
            own *= uplift
        # real fluctuations of the system's own traffic: they travel on to its callees
        own *= np.maximum(1 + NOISE * rng.standard_normal(n).astype(np.float32), 0)
        if spec.purchase_flow:
            _surges(own, times, fine, rng, known)
        total = own.copy()
        for caller in sorted(graph.predecessors(node)):
            total += ratios[(caller, node)] * totals[caller]
            remaining[caller] -= 1
            if remaining[caller] == 0 and caller in totals:
                del totals[caller]
        if remaining[node] > 0:
            totals[node] = total
        services = list(spec.services) or [None]
        weights = [float((known.services if known else {}).get(s) or 0.0) for s in services]
        shares = (np.array(weights) / sum(weights) if known and all(w > 0 for w in weights)
                  else rng.dirichlet(np.full(len(services), 4.0)))
        own_step = (flow_step or step) if spec.purchase_flow else step
        block = own_step // fine
        stamps = timestamps[::block]
        for service, share in zip(services, shares, strict=True):
            values = total * share
            if block > 1:
                values = values.reshape(-1, block).sum(axis=1)
            frame = pd.DataFrame({"timestamp": stamps, "value": np.round(values, 2)})
            target = out / f"{node}.{file_format}" if service is None else \
                out / node / f"{service}.{file_format}"
            target.parent.mkdir(parents=True, exist_ok=True)
            if file_format == "parquet":
                frame.to_parquet(target, index=False)
            else:
                frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")) \
                    .to_csv(target, index=False)
    return ratios


def _normal_peaks(levels: Mapping[str, Level], times: np.ndarray, fine: int,
                  peaks: bool) -> dict[str, float]:
    """Each system's ordinary weekday peak (requests/s) today: its peak-season Baseline over
    the busiest peak day's uplift the history holds (the peak projection multiplies back)."""
    first = EPOCH + timedelta(days=int(times[0] // DAY))
    last = EPOCH + timedelta(days=int(times[-1] // DAY))
    uplift = best_peak_uplift(first, last) if peaks else 1.0
    return {system_id: level.baseline_rps / uplift / (1 + 1.25 * NOISE)
            for system_id, level in levels.items() if level.baseline_rps > 0}


def _surges(own: np.ndarray, times: np.ndarray, fine: int, rng: np.random.Generator,
            known: Level | None) -> None:
    """Three flash-sale surges of two to three minutes, in the daytime of ordinary days."""
    n = own.size
    length = max(1, 180 // fine)
    if known is None or not known.flas_rps:
        for _ in range(3):
            at = int(rng.integers(n // 4, n - 10))
            own[at:at + max(1, 300 // fine)] *= float(rng.uniform(4, 9))
        return
    # as steep as the FLAS figure over the Baseline (Kapacity adds its buffer on top)
    steepness = max(1.5, known.flas_rps / known.baseline_rps / (1 + SAFETY_BUFFER))
    hours = (times % DAY) / 3600
    daytime = np.flatnonzero((hours >= 10) & (hours < 18))
    daytime = daytime[(daytime > n // 4) & (daytime < n - 2 * length)]
    for _ in range(3):
        at = int(daytime[int(rng.integers(0, daytime.size))])
        own[at:at + length] *= steepness * float(rng.uniform(0.9, 1.1))
