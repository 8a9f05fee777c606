"""Critical services have a failover mode with a short recovery time objective."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset

META = RuleMeta(
    id="failover_configured",
    title="Failover configured with an RTO of at most 30 minutes",
    category="resilience",
    severity="high",
    rationale="A regional or zonal outage during peak must not stop a critical system for hours; "
              "failover has to be set up before it is needed, with a recovery time the business "
              "accepts.",
    remediation="Run critical services active-active or active-passive across regions (or zones "
                "where the platform is regional), with a recovery time objective of at most 30 "
                "minutes, and record failover.mode and failover.rto_minutes in the inventory.",
    applies_to=Applicability(tiers=("critical",)),
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

MODES = ("active-active", "active-passive")
MAX_RTO_MINUTES = 30


def evaluate(system: SystemView, facts: Facts):
    """Each compute service needs ``failover.mode`` active-active or active-passive and
    ``failover.rto_minutes`` at most 30; partial credit is half the share that comply."""
    def check(asset):
        failover = asset.get("failover") or {}
        if failover.get("mode") not in MODES:
            return f"failover mode {failover.get('mode') or 'none'}"
        rto = failover.get("rto_minutes")
        if rto is None:
            return "no recovery time objective"
        if rto > MAX_RTO_MINUTES:
            return f"RTO {rto} min > {MAX_RTO_MINUTES} min"
        return None

    return each_asset(facts.assets("compute"), check, what="compute services")
