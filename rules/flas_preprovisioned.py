"""FLAS systems hold enough running capacity for a two-minute surge."""

from readiness.capacity import forecast, provisioned_rps
from readiness.rulekit import (
    Applicability,
    Band,
    Facts,
    RuleMeta,
    SystemView,
    graded,
    merge_evidence,
    no_data,
)

META = RuleMeta(
    id="flas_preprovisioned",
    title="Pre-provisioned capacity covers the FLAS forecast",
    category="capacity",
    severity="critical",
    blocker=True,
    rationale="A flash sale brings 8x (up to 40x) the usual traffic within two minutes, faster "
              "than autoscaling reacts; only capacity already running absorbs it.",
    remediation="Raise the minimum replicas during the peak season so that running replicas x "
                "requests per replica reach the FLAS capacity from `kapacity capacity`.",
    applies_to=Applicability(traffic_classes=("FLAS",)),
    bands=(Band(at_least=1.0, credit=1.0), Band(at_least=0.8, credit=0.5)),
    facts=("inventory", "kapacity", "kubernetes"),
)


def evaluate(system: SystemView, facts: Facts):
    """Running capacity (replicas x rps_per_replica, no scaling) divided by the FLAS forecast:
    at least 1.0 full credit, 0.8 half."""
    _, flas, origin = forecast(facts)
    if flas is None:
        return no_data("no FLAS forecast (run kapacity, or record forecast_flas_rps)")
    compute = facts.compute()
    running = provisioned_rps(compute) if compute else None
    if running is None:
        return no_data("no replicas and requests per replica for every compute service")
    ratio = running / flas if flas else float("inf")
    evidence = [{"provisioned_rps": round(running, 2), "flas_rps": round(flas, 2), "ratio": round(ratio, 3),
                 "forecast_from": origin, "services": len(compute)}, *merge_evidence(compute)]
    return graded(META.credit_for(ratio),
                  f"running capacity {running:.0f} rps is {ratio:.2f}x the FLAS need {flas:.0f} rps", evidence)
