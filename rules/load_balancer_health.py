"""Load balancers check backend health and balance across zones."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="load_balancer_health",
    title="Load balancers with health checks and cross-zone balancing",
    category="availability",
    severity="medium",
    rationale="A load balancer without health checks keeps sending requests to dead backends; "
              "without cross-zone balancing a zone that loses instances gets overloaded while "
              "others idle.",
    remediation="Enable target health checks on every load balancer (path that checks readiness, "
                "interval of at most 10 s) and turn on cross-zone load balancing.",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Every load_balancer asset needs ``health_check`` and ``cross_zone``; not applicable
    when the system has no load balancer of its own."""
    balancers = facts.assets("load_balancers")
    if not balancers:
        return not_applicable("the system has no load balancer of its own")

    def check(lb):
        missing = [name for name, key in (("health check", "health_check"), ("cross-zone balancing", "cross_zone"))
                   if not lb.get(key)]
        return f"no {' and no '.join(missing)}" if missing else None

    return each_asset(balancers, check, what="load balancers")
