"""Every compute service has readiness and liveness health checks."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset

META = RuleMeta(
    id="health_checks",
    title="Readiness and liveness health checks",
    category="availability",
    severity="high",
    rationale="Without a readiness check traffic reaches instances that cannot serve it; without a "
              "liveness check hung instances are never replaced.",
    remediation="Define a readiness probe (dependencies reachable, warmed up) and a liveness probe "
                "(process responsive) for every service.",
    facts=("inventory", "kubernetes"),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each compute service needs readiness and liveness health checks."""
    def check(asset):
        probes = asset.get("health_checks") or {}
        missing = [p for p in ("readiness", "liveness") if not probes.get(p)]
        return f"missing {' and '.join(missing)} check" if missing else None

    return each_asset(facts.compute(), check, what="compute services")
