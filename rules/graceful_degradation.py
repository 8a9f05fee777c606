"""Non-essential dependencies have a fallback, so the system degrades instead of failing."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="graceful_degradation",
    title="Graceful degradation when a non-essential dependency fails",
    category="resilience",
    severity="high",
    rationale="Recommendations, loyalty points or address autocomplete failing must not stop a "
              "purchase; during peak every optional call that can fail the request multiplies the "
              "ways checkout goes down.",
    remediation="Mark each dependency client as essential or not in the inventory; give every "
                "non-essential one a fallback (cached or default answer, skip the feature, queue the "
                "work for later) that the request uses when the call fails or times out.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Every dependency client with ``essential: false`` must have ``fallback: true``.

    Not applicable when the system declares no non-essential dependencies.
    Partial credit is half the share of such clients with a fallback.
    """
    optional = [c for c in facts.assets("dependency_clients") if c.get("essential") is False]
    if not optional:
        return not_applicable("no dependency client is declared non-essential")
    return each_asset(optional,
                      lambda c: None if c.get("fallback") else f"no fallback when {c['target']} fails",
                      what="non-essential dependency clients")
