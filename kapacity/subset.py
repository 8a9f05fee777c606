"""Subset runs: what stands in for the systems a ``kapacity run --system ...`` does not rerun.

A surge travels the whole dependency graph, so a subset run still propagates over
every catalog system: the systems it reruns bring their new forecasts, the others
their stored totals (from the newest complete run that forecast them), and edges
that cannot be learned from the rerun systems alone keep their stored call ratio.
With the same histories, every propagated figure then equals a full run's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from kapacity.dependencies import DEFAULT_RATIO, CallRatio, Edge, learn_call_ratios


@dataclass(frozen=True)
class TotalFigures:
    """What the dependency step needs of a system's total forecast."""

    surge_rps: float           # the entry point's surge above its forecast peak
    own_flas_rps: float        # FLAS need from its own history, before propagation
    peak_forecast_rps: float
    flas_rps: float | None = None  # the stored FLAS need after propagation (stored totals only)


@dataclass(frozen=True)
class StoredGraph:
    """Stored totals per system and stored call ratios per (caller, callee)."""

    totals: Mapping[str, TotalFigures]
    ratios: Mapping[tuple[str, str], CallRatio]


def stored_graph(engine) -> StoredGraph:
    """The stored totals and the newest complete run's call ratios (empty before any run)."""
    from kapacity import store  # here: forecast workers import the runner, and need no database

    totals = {system_id: _figures(row) for system_id, row in store.latest_totals(engine).items()}
    ratios = {(r["caller"], r["callee"]): CallRatio(**r) for r in store.call_ratios(engine)}
    return StoredGraph(totals, ratios)


def _figures(row: dict) -> TotalFigures:
    capacity = row["capacity"]
    candidates = (capacity.get("assumptions") or {}).get("flas_candidates_rps") or {}
    raw_flas = max(candidates.values(), default=row["peak_forecast_rps"])
    own = (capacity.get("propagation") or {}).get("own_flas_rps")
    return TotalFigures(max(0.0, raw_flas - row["peak_forecast_rps"]),
                        row["flas_rps"] if own is None else own, row["peak_forecast_rps"], row["flas_rps"])


def call_ratios(volumes: Mapping, edges: Iterable[Edge], rerun: set[str],
                stored: StoredGraph | None) -> list[CallRatio]:
    """Learn the ratios into every callee whose callers were all rerun with it; keep the stored
    ratio (or the default) for the others, since a callee's ratios are fitted jointly."""
    edges = list(edges)
    if stored is None:
        return learn_call_ratios(volumes, edges)
    stale_callees = {e.callee for e in edges if e.callee not in rerun or e.caller not in rerun}
    learned = learn_call_ratios(volumes, [e for e in edges if e.callee not in stale_callees])
    kept = [_stored_ratio(e, stored) for e in edges if e.callee in stale_callees]
    return sorted(learned + kept, key=lambda r: (r.callee, r.caller))


def _stored_ratio(edge: Edge, stored: StoredGraph) -> CallRatio:
    ratio = stored.ratios.get((edge.caller, edge.callee))
    if ratio is None:
        return CallRatio(edge.caller, edge.callee, edge.kind, DEFAULT_RATIO, False, None, 0)
    return replace(ratio, kind=edge.kind)
