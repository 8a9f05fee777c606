"""The breaking point lies well above the forecast peak."""

from readiness.capacity import peak_need
from readiness.rulekit import Band, Facts, RuleMeta, SystemView, graded, no_data
from rules._perf import latest_test

META = RuleMeta(
    id="perf_breaking_point_headroom",
    title="Breaking point headroom over the forecast peak",
    category="performance",
    severity="high",
    rationale="Forecasts are wrong by tens of percent in both directions; a system that breaks "
              "just above the forecast peak has no room for a campaign that does better than "
              "planned.",
    remediation="Raise capacity or remove the bottleneck the overload test found until the "
                "breaking point is at least 1.5x the forecast peak (FLAS forecast for FLAS "
                "systems), then repeat the overload test.",
    bands=(Band(at_least=1.5, credit=1.0), Band(at_least=1.2, credit=0.6), Band(at_least=1.0, credit=0.3)),
    facts=("perftest", "inventory", "kapacity"),
)


def evaluate(system: SystemView, facts: Facts):
    """Breaking point of the latest overload test divided by the peak forecast (FLAS for
    FLAS systems, else Baseline): at least 1.5 full credit, 1.2 0.6, 1.0 0.3, below 1.0 none."""
    test = latest_test(facts, "overload")
    if test is None or test.breaking_point_rps is None:
        return no_data("no overload test with a breaking point (see perf_overload_test)")
    need, which, origin = peak_need(system, facts)
    if need is None:
        return no_data("no forecast to compare the breaking point with")
    ratio = test.breaking_point_rps / need
    evidence = [test.evidence(), {"forecast_rps": round(need, 2), "forecast": which, "forecast_from": origin,
                                  "ratio": round(ratio, 3)}]
    return graded(META.credit_for(ratio),
                  f"breaking point {test.breaking_point_rps:.0f} rps is {ratio:.2f}x the {which} forecast "
                  f"{need:.0f} rps", evidence)
