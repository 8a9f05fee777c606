"""Read-dominated databases have read replicas."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="db_read_replicas",
    title="Read replicas where reads dominate",
    category="databases",
    severity="medium",
    rationale="When most queries are reads, serving them from replicas keeps the primary's "
              "capacity for the writes that take payments, and gives a warm standby.",
    remediation="Add at least one read replica to databases where reads are 70% or more of the "
                "queries and route read-only queries (catalog, status lookups) to it.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

READ_HEAVY = 0.7


def evaluate(system: SystemView, facts: Facts):
    """Each database with ``read_share`` of at least 0.7 needs ``read_replicas`` of at least 1;
    not applicable when no database reports a read share that high."""
    heavy = [d for d in facts.assets("databases") if (d.get("read_share") or 0) >= READ_HEAVY]
    if not heavy:
        return not_applicable("no database reports 70% or more reads")
    return each_asset(heavy,
                      lambda d: None if d.get("read_replicas", 0) >= 1
                      else f"{d['read_share']:.0%} reads and no read replica",
                      what="read-heavy databases")
