"""Latency under load leaves headroom below the SLO."""

from readiness.rulekit import (
    Applicability,
    Band,
    Facts,
    RuleMeta,
    SystemView,
    graded,
    no_data,
    weeks_before,
)
from rules._perf import latest_test, measured_latency, system_slo

META = RuleMeta(
    id="perf_latency_headroom",
    title="Latency headroom under load",
    category="performance",
    severity="medium",
    rationale="A system that meets its latency SLO at the forecast peak only just will miss it on "
              "the first slow dependency or garbage-collection pause; headroom absorbs the surprises "
              "of the real day.",
    remediation="Reduce latency at the forecast rate (caching, fewer sequential calls, query "
                "tuning, more capacity) until the measured percentile is at most two thirds of the "
                "SLO target.",
    applies_to=Applicability(tiers=("critical", "high")),
    bands=(Band(at_least=1.5, credit=1.0), Band(at_least=1.0, credit=0.5)),
    due=weeks_before(6),
    facts=("perftest", "inventory"),
)


def evaluate(system: SystemView, facts: Facts):
    """SLO latency target divided by the latest load test's latency at the SLO percentile:
    at least 1.5 full credit, 1.0 (within SLO, little headroom) half. The SLO is the
    system's strictest slo asset, or perftest's own threshold for a perftest run."""
    test = latest_test(facts, "load")
    if test is None:
        return no_data("no load test recorded (see perf_load_test)")
    slo = system_slo(facts) or {}
    percentile = slo.get("latency_percentile", 99)
    target = slo.get("latency_ms")
    if target is None and test.source == "perftest":
        run_slo = ((facts.source("perftest") or {}).get("tests", {}).get("load", {}).get("slo") or {})
        target, percentile = run_slo.get("p99_ms"), 99
    if target is None:
        return no_data("no latency SLO to measure headroom against (see slo_defined)")
    latency = measured_latency(test, percentile)
    if latency is None:
        return no_data(f"the load test {test.ref} records no p{percentile:g} latency")
    ratio = target / latency if latency else float("inf")
    evidence = [test.evidence(), {"slo_latency_ms": target, "percentile": percentile, "ratio": round(ratio, 3)}]
    return graded(META.credit_for(ratio),
                  f"p{percentile:g} {latency:.0f} ms under load against an SLO of {target:.0f} ms ({ratio:.2f}x)",
                  evidence)
