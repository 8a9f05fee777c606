"""Autoscaling can reach the forecast Baseline capacity, with headroom."""

from readiness.capacity import autoscaling_ceiling_rps, forecast
from readiness.rulekit import Band, Facts, RuleMeta, SystemView, graded, no_data

META = RuleMeta(
    id="autoscaling_covers_baseline",
    title="Autoscaling maximum covers the forecast Baseline capacity",
    category="capacity",
    severity="critical",
    rationale="Regular peak traffic (Black Friday brings over 3x a normal day) is absorbed by "
              "autoscaling only if its maximum is above the forecast, with headroom for error.",
    remediation="Raise the autoscaling maximum so that max replicas x requests per replica is at "
                "least 1.5x the forecast Baseline capacity (see `kapacity capacity`).",
    bands=(Band(at_least=1.5, credit=1.0), Band(at_least=1.2, credit=0.5)),
    facts=("inventory", "kapacity", "kubernetes"),
)


def evaluate(system: SystemView, facts: Facts):
    """Autoscaling ceiling (max replicas x rps_per_replica, summed over compute services)
    divided by the Baseline forecast (Kapacity, else the inventory's forecast_baseline_rps):
    at least 1.5 full credit, 1.2 half."""
    baseline, _, origin = forecast(facts)
    compute = facts.compute()
    if baseline is None:
        return no_data("no Baseline forecast (run kapacity, or record forecast_baseline_rps)")
    ceiling = autoscaling_ceiling_rps(compute) if compute else None
    if ceiling is None:
        return no_data("no autoscaling maximum and requests per replica for every compute service")
    ratio = ceiling / baseline if baseline else float("inf")
    evidence = {"ceiling_rps": round(ceiling, 2), "baseline_rps": round(baseline, 2),
                "ratio": round(ratio, 3), "forecast_from": origin}
    return graded(META.credit_for(ratio),
                  f"autoscaling ceiling {ceiling:.0f} rps is {ratio:.2f}x the Baseline forecast {baseline:.0f} rps",
                  evidence)
