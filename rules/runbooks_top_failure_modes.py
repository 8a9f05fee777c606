"""Runbooks cover the failure modes peak season brings."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, failed, graded

META = RuleMeta(
    id="runbooks_top_failure_modes",
    title="Runbooks for the top failure modes",
    category="resilience",
    severity="medium",
    rationale="At 3 a.m. during peak the on-call engineer should follow steps, not invent them; "
              "the failure modes that recur (a dependency down, a database failing over, a traffic "
              "surge, a bad deployment) each need a written procedure.",
    remediation="Write runbooks for dependency failure, traffic surge and rollback (and database "
                "failover when the system owns a database), and register them with their topics "
                "in the inventory.",
    applies_to=Applicability(tiers=("critical", "high", "medium")),
    facts=("inventory",),
)

TOPICS = ("dependency_failure", "traffic_surge", "rollback")
DATABASE_TOPIC = "database_failover"


def evaluate(system: SystemView, facts: Facts):
    """Runbook assets with a URL must together cover ``dependency_failure``,
    ``traffic_surge``, ``rollback`` and, for systems with databases,
    ``database_failover``. Credit is the share of topics covered."""
    runbooks = [r for r in facts.assets("runbooks") if r.get("url")]
    needed = TOPICS + ((DATABASE_TOPIC,) if facts.assets("databases") else ())
    if not runbooks:
        return failed(f"no runbooks; needed for {', '.join(needed)}")
    covered = {t for r in runbooks for t in r.get("topics") or []}
    missing = [t for t in needed if t not in covered]
    evidence = [{"asset": r["id"], "topics": list(r.get("topics") or [])} for r in runbooks]
    if not missing:
        return graded(1.0, f"runbooks cover {', '.join(needed)}", evidence)
    return graded((len(needed) - len(missing)) / len(needed), f"no runbook for {', '.join(missing)}", evidence)
