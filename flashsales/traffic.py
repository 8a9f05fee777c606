"""The headroom's inputs from other packages: breaking points, Kapacity's p99 and call ratios.

Each reader returns a figure with where it comes from, so a stored review says
which figures were measured, forecast or assumed:

- :func:`breaking_point`: perftest's latest judged overload test, from readiness's
  latest facts (the ``perftest`` source); only a run that broke gives a limit;
- :func:`expected_p99`: the largest p99 of Kapacity's stored forecast over the
  sale's window, in requests/s (stored points count requests per interval); when no forecast covers the window, the system's Baseline
  forecast (``readiness.capacity_figures``), flagged ``baseline_fallback``;
- :func:`ratios_from_entry`: how many requests one merchant request causes at
  each purchase-flow system, from Kapacity's stored call ratios.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import networkx as nx
import pandas as pd
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class BreakingPoint:
    rps: float
    measured_at: datetime  # naive UTC, when the overload test started
    run_id: int | None


def breaking_point(perftest_facts: dict | None) -> BreakingPoint | None:
    """The breaking point of the latest judged overload test, when the system did break."""
    overload = ((perftest_facts or {}).get("tests") or {}).get("overload") or {}
    if not overload.get("broke") or overload.get("breaking_point_rps") is None:
        return None  # never broke within the ramp: the top step is a lower bound, not a limit
    started = pd.Timestamp(overload["started_at"])
    started = started.tz_convert("UTC").tz_localize(None) if started.tzinfo else started
    return BreakingPoint(float(overload["breaking_point_rps"]), started.to_pydatetime(), overload.get("run_id"))


@dataclass(frozen=True)
class Expected:
    rps: float | None
    source: str  # kapacity_p99 | kapacity_p99_partial | baseline_fallback | none
    note: str


def expected_p99(engine: Engine, system_id: str, start: datetime, end: datetime,
                 baseline_rps: float | None) -> Expected:
    """Kapacity's p99 at the sale's window, else the Baseline forecast (flagged)."""
    import kapacity

    points = kapacity.forecast_points(engine, system_id)
    if points.empty or "p99" not in points.columns:
        return _fallback(baseline_rps, "no stored Kapacity forecast with a p99")
    times = pd.to_datetime(points["timestamp"], utc=True, format="ISO8601").dt.tz_localize(None)
    step = (times.iloc[1] - times.iloc[0]) if len(times) > 1 else pd.Timedelta(0)
    first, last = times.iloc[0], times.iloc[-1] + step
    inside = (times < pd.Timestamp(end)) & (times + step > pd.Timestamp(start))
    covers = f"the forecast covers {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
    if not inside.any():
        return _fallback(baseline_rps, f"{covers}, not the sale's window")
    # points count requests per interval (the history's unit): per second, as capacity is
    seconds = step.total_seconds() if step > pd.Timedelta(0) else 1.0
    p99 = float(points.loc[inside.to_numpy(), "p99"].astype(float).max()) / seconds
    if first <= pd.Timestamp(start) and last >= pd.Timestamp(end):
        return Expected(p99, "kapacity_p99", f"Kapacity p99 over the window ({covers})")
    both = max(p99, baseline_rps or 0.0)
    return Expected(both, "kapacity_p99_partial",
                    f"{covers}, part of the sale's window: the larger of its p99 and the Baseline forecast")


def _fallback(baseline_rps: float | None, why: str) -> Expected:
    if baseline_rps is None:
        return Expected(None, "none", f"{why}; no Baseline forecast either (run kapacity, or record "
                                      "forecast_baseline_rps in the inventory)")
    return Expected(baseline_rps, "baseline_fallback", f"{why}: the Baseline forecast stands in for the p99")


@dataclass(frozen=True)
class Ratio:
    ratio: float
    source: str  # entry | call_ratios | call_ratios_default | assumed


def ratios_from_entry(engine: Engine, purchase_flow: list[str]) -> dict[str, Ratio]:
    """Requests at each purchase-flow system per merchant request at the entry (ratio 1).

    Entries are the purchase-flow systems no purchase-flow system calls. From one entry,
    a system's ratio sums, over every call path, the product of the stored call ratios
    along it; a merchant request enters at one entry, so a system reached from several
    takes the largest. Without stored ratios each system counts once (assumed).
    """
    import kapacity

    edges = kapacity.call_ratios(engine)
    if not edges:
        return {s: Ratio(1.0, "assumed") for s in purchase_flow}
    graph = nx.DiGraph()
    graph.add_nodes_from(purchase_flow)
    for edge in edges:
        graph.add_edge(edge["caller"], edge["callee"], ratio=float(edge["ratio"]), learned=edge["learned"])
    graph = _acyclic(graph)
    called = {callee for caller, callee in graph.edges if caller in purchase_flow}
    entries = [s for s in purchase_flow if s not in called]
    ratios = {s: Ratio(1.0, "entry") for s in entries}
    for entry in entries:
        for system, ratio in _from(graph, entry).items():
            if system in purchase_flow and system != entry and ratio.ratio > ratios.get(system, Ratio(0, "")).ratio:
                ratios[system] = ratio
    return {s: ratios.get(s, Ratio(1.0, "assumed")) for s in purchase_flow}


def _from(graph: nx.DiGraph, entry: str) -> dict[str, Ratio]:
    """Requests at every system one request at ``entry`` causes, summed over call paths."""
    reached = graph.subgraph({entry} | nx.descendants(graph, entry))
    totals = dict.fromkeys(reached, 0.0)
    totals[entry] = 1.0
    defaulted: set[str] = set()
    for node in nx.topological_sort(reached):
        for _, callee, data in reached.out_edges(node, data=True):
            totals[callee] += totals[node] * data["ratio"]
            if not data["learned"] or node in defaulted:
                defaulted.add(callee)
    return {node: Ratio(total, "call_ratios_default" if node in defaulted else "call_ratios")
            for node, total in totals.items()}


def _acyclic(graph: nx.DiGraph) -> nx.DiGraph:
    """Break call cycles (as Kapacity does when it propagates) so paths are finite."""
    while True:
        try:
            caller, callee = nx.find_cycle(graph)[-1][:2]
        except nx.NetworkXNoCycle:
            return graph
        graph.remove_edge(caller, callee)
