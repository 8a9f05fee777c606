"""Service level objectives for latency (at a percentile) and error rate."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, failed, graded

META = RuleMeta(
    id="slo_defined",
    title="SLOs defined for latency and error rate",
    category="availability",
    severity="high",
    rationale="Without an SLO nobody can say whether the system is healthy under peak load, load "
              "tests have no pass criterion and alerts have no threshold to derive from.",
    remediation="Define an SLO with a latency target at a percentile (e.g. p99 below 800 ms) and an "
                "error-rate target (e.g. below 0.1%), and register it as an slo asset.",
    applies_to=Applicability(tiers=("critical", "high", "medium")),
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """Pass when the slo assets together define a latency target with its percentile and an
    error-rate target; half credit when only one of the two is defined."""
    slos = facts.assets("slos")
    if not slos:
        return failed("no SLO registered")
    latency = any(s.get("latency_ms") is not None and s.get("latency_percentile") is not None for s in slos)
    errors = any(s.get("error_rate") is not None for s in slos)
    evidence = [{"asset": s["id"], "latency_ms": s.get("latency_ms"), "latency_percentile": s.get("latency_percentile"),
                 "error_rate": s.get("error_rate")} for s in slos]
    missing = [name for name, ok in (("a latency target with its percentile", latency),
                                     ("an error-rate target", errors)) if not ok]
    if not missing:
        return graded(1.0, "latency and error-rate SLOs defined", evidence)
    return graded(0.5 if len(missing) == 1 else 0.0, f"no {' and no '.join(missing)}", evidence)
