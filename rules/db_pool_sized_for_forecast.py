"""Connection pools hold enough connections for the forecast peak."""

from readiness.capacity import peak_need
from readiness.rulekit import Band, Facts, RuleMeta, SystemView, graded, no_data, not_applicable

META = RuleMeta(
    id="db_pool_sized_for_forecast",
    title="Connection pool sized for the forecast load",
    category="databases",
    severity="high",
    rationale="At peak, requests wait for a free database connection long before CPU runs out; a "
              "pool sized for a normal day turns the forecast peak into queueing and timeouts.",
    remediation="Size client.pool_size so that pool size x replicas at peak is at least 1.5x the "
                "connections the forecast needs (peak rps x queries per request x p99 query time), "
                "and check the database's max_connections allows it.",
    bands=(Band(at_least=1.5, credit=1.0), Band(at_least=1.2, credit=0.5)),
    facts=("inventory", "kapacity", "kubernetes"),
)


def _replicas_at_peak(compute: list[dict]) -> int:
    total = 0
    for asset in compute:
        scaling = asset.get("autoscaling") or {}
        total += int(scaling.get("max") if scaling.get("enabled") and scaling.get("max") else asset.get("replicas", 1))
    return total


def evaluate(system: SystemView, facts: Facts):
    """Connections needed = peak rps (FLAS forecast for FLAS systems, else Baseline) x
    ``client.queries_per_request`` (default 1) x ``client.query_ms_p99`` / 1000 (Little's
    law); available = ``client.pool_size`` x replicas at peak (autoscaling maximum, else
    replicas; Kubernetes workloads when present). The worst database's ratio
    available/needed is graded by the bands."""
    databases = facts.assets("databases")
    if not databases:
        return not_applicable("the system owns no databases")
    need_rps, which, origin = peak_need(system, facts)
    if need_rps is None:
        return no_data("no forecast (run kapacity, or record forecast_baseline_rps)")
    replicas = _replicas_at_peak(facts.compute())
    if not replicas:
        return no_data("no compute services to size the pools against")
    ratios = []
    for db in databases:
        client = db.get("client") or {}
        if client.get("pool_size") is None or client.get("query_ms_p99") is None:
            return no_data(f"{db['id']}: record client.pool_size and client.query_ms_p99")
        needed = need_rps * float(client.get("queries_per_request") or 1) * client["query_ms_p99"] / 1000
        available = client["pool_size"] * replicas
        ratios.append((available / needed if needed else float("inf"), db["id"], available, needed))
    ratio, worst, available, needed = min(ratios)
    evidence = [{"asset": d, "connections_available": a, "connections_needed": round(n, 2), "ratio": round(r, 3)}
                for r, d, a, n in ratios]
    evidence.append({"forecast_rps": round(need_rps, 2), "forecast": which, "forecast_from": origin,
                     "replicas_at_peak": replicas})
    return graded(META.credit_for(ratio),
                  f"{worst}: {available} pooled connections for {needed:.1f} needed at the {which} "
                  f"forecast ({ratio:.2f}x)", evidence)
