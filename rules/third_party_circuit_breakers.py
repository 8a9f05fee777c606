"""Third-party dependencies sit behind a circuit breaker or a fallback."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="third_party_circuit_breakers",
    title="Circuit breaker or fallback for third-party dependencies",
    category="resilience",
    severity="high",
    rationale="A third party's outage is outside our control; a circuit breaker stops waiting on it "
              "and a fallback keeps the purchase flowing in a degraded mode.",
    remediation="Wrap each third-party client in a circuit breaker (e.g. resilience4j, pybreaker) "
                "and define a fallback (cached answer, queue for later, alternative provider).",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each third-party dependency client needs circuit_breaker or fallback; not applicable
    without third-party dependencies."""
    third_party = [c for c in facts.assets("dependency_clients") if c.get("third_party")]
    if not third_party:
        return not_applicable("no third-party dependencies")
    return each_asset(
        third_party,
        lambda c: None if c.get("circuit_breaker") or c.get("fallback")
        else f"no circuit breaker or fallback towards {c['target']}",
        what="third-party clients")
