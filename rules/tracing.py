"""Services emit distributed traces."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset

META = RuleMeta(
    id="tracing",
    title="Distributed tracing enabled",
    category="observability",
    severity="low",
    rationale="When checkout slows down at peak, traces show which of a dozen systems in the "
              "request path is responsible within minutes instead of hours of guessing.",
    remediation="Instrument every service with OpenTelemetry (propagating trace context to "
                "dependencies) and mark tracing on each compute service.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each compute service needs ``tracing: true``; partial credit is half the share that have it."""
    return each_asset(facts.assets("compute"), lambda a: None if a.get("tracing") else "no tracing",
                      what="compute services")
