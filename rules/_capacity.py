"""Capacity figures the capacity rules share: forecasts and provisioned rates."""

from __future__ import annotations

from readiness.rulekit import Facts, SystemView


def forecast(facts: Facts) -> tuple[float | None, float | None, str]:
    """(baseline rps, FLAS rps, where from): Kapacity when it has run, else the inventory."""
    kapacity = facts.source("kapacity")
    if kapacity and kapacity.get("baseline_rps") is not None:
        return kapacity.get("baseline_rps"), kapacity.get("flas_rps"), "kapacity"
    compute = facts.assets("compute")
    baseline = sum(c["forecast_baseline_rps"] for c in compute if c.get("forecast_baseline_rps") is not None)
    flas = sum(c["forecast_flas_rps"] for c in compute if c.get("forecast_flas_rps") is not None)
    return (baseline or None), (flas or None), "inventory"


def autoscaling_ceiling_rps(compute: list[dict]) -> float | None:
    """Requests/s at autoscaling's maximum, or None when any asset lacks the figures."""
    total = 0.0
    for asset in compute:
        scaling = asset.get("autoscaling") or {}
        per_replica = asset.get("rps_per_replica")
        ceiling = scaling.get("max") if scaling.get("enabled") else asset.get("replicas")
        if per_replica is None or ceiling is None:
            return None
        total += per_replica * ceiling
    return total


def provisioned_rps(compute: list[dict]) -> float | None:
    """Requests/s the replicas running now serve, with no scaling."""
    total = 0.0
    for asset in compute:
        if asset.get("rps_per_replica") is None:
            return None
        total += asset["rps_per_replica"] * asset.get("replicas", 1)
    return total


def peak_need(system: SystemView, facts: Facts) -> tuple[float | None, str, str]:
    """(rps, which forecast, where from): FLAS systems must hold the FLAS rate, others the Baseline."""
    baseline, flas, origin = forecast(facts)
    if system.traffic_class == "FLAS" and flas is not None:
        return max(flas, baseline or 0.0), "FLAS", origin
    return baseline, "Baseline", origin
