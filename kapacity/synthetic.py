"""Synthetic traffic histories for a catalog: demos, the speed benchmark, tests.

Every system gets its own traffic (a business-day cycle with weekends lower,
growth, noise, and at purchase-flow entry points a few flash-sale surges) plus,
through each dependency, a fixed share (the call ratio) of its callers' traffic;
the total is split over the system's services. Files follow the
:class:`~kapacity.sources.DirectorySource` layout, so ``kapacity run`` reads them
and should learn back the ratios. Deterministic for a seed.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from kapacity.history import DAY


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode())])


def _shape(times: np.ndarray, peak: float = 13.0, evening: float = 0.5,
           weekend: float = 0.7) -> np.ndarray:
    hour = (times % DAY) / 3600
    weekday = ((times // DAY) + 3) % 7
    daily = 0.15 + np.exp(-((hour - peak) ** 2) / 14) + evening * np.exp(-((hour - 20) ** 2) / 6)
    return (daily * np.where(weekday >= 5, weekend, 1.0)).astype(np.float32)


def synthesize(specs: Sequence, out_dir: str | Path, *, weeks: int = 8, step: int = 60,
               start: str = "2024-09-02T00:00:00", seed: int = 0,
               file_format: str = "parquet") -> dict[tuple[str, str], float]:
    """Write ``<out>/<system>/<service>.<fmt>`` for each spec; returns the true call ratios.

    ``specs`` are :class:`~kapacity.runner.SystemSpec` (system id, services, purchase flow,
    dependencies). Systems without services get one ``<out>/<system>.<fmt>`` file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = int(pd.Timestamp(start).value // 1_000_000_000)
    n = weeks * 7 * DAY // step
    times = t0 + step * np.arange(n, dtype=np.int64)
    weeks_elapsed = (times - t0) / (7 * DAY)
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
    remaining = {node: graph.out_degree(node) for node in graph.nodes}
    totals: dict[str, np.ndarray] = {}
    timestamps = pd.to_datetime(times, unit="s")
    for node in nx.lexicographical_topological_sort(graph):
        spec = by_id[node]
        rng = _rng(seed, node)
        level = float(rng.uniform(2, 60)) * step / 60
        growth = (1 + float(rng.uniform(-0.01, 0.03))) ** weeks_elapsed
        shape = _shape(times, float(rng.uniform(11, 15)), float(rng.uniform(0.1, 0.8)),
                       float(rng.uniform(0.5, 1.0)))
        own = level * shape * growth.astype(np.float32)
        # real fluctuations of the system's own traffic: they travel on to its callees
        own *= np.maximum(1 + 0.08 * rng.standard_normal(n).astype(np.float32), 0)
        if spec.purchase_flow:
            for _ in range(3):
                at = int(rng.integers(n // 4, n - 10))
                own[at:at + max(1, 300 // step)] *= float(rng.uniform(4, 9))
        total = own.copy()
        for caller in sorted(graph.predecessors(node)):
            total += ratios[(caller, node)] * totals[caller]
            remaining[caller] -= 1
            if remaining[caller] == 0 and caller in totals:
                del totals[caller]
        noisy = total
        if remaining[node] > 0:
            totals[node] = total
        services = list(spec.services) or [None]
        shares = rng.dirichlet(np.full(len(services), 4.0))
        for service, share in zip(services, shares, strict=True):
            values = np.round(noisy * share, 2)
            frame = pd.DataFrame({"timestamp": timestamps, "value": values})
            target = out / f"{node}.{file_format}" if service is None else \
                out / node / f"{service}.{file_format}"
            target.parent.mkdir(parents=True, exist_ok=True)
            if file_format == "parquet":
                frame.to_parquet(target, index=False)
            else:
                frame.assign(timestamp=frame["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")) \
                    .to_csv(target, index=False)
    return ratios
