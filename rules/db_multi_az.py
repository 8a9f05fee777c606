"""Databases are deployed across availability zones with automatic failover."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="db_multi_az",
    title="Databases multi-AZ with automatic failover",
    category="databases",
    severity="critical",
    blocker=True,
    rationale="A single-zone database is a single point of failure for every system that reads or "
              "writes it; failover must be automatic to recover within minutes.",
    remediation="Enable multi-AZ deployment with automatic failover (e.g. RDS Multi-AZ, Aurora "
                "replicas, Patroni) for each database.",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each database needs multi_az and automatic_failover; not applicable without databases."""
    databases = facts.assets("databases")
    if not databases:
        return not_applicable("the system owns no databases")

    def check(db):
        if not db.get("multi_az"):
            return "single availability zone"
        if not db.get("automatic_failover"):
            return "failover is manual"
        return None

    return each_asset(databases, check, what="databases")
