"""Critical and high systems run at least two replicas spread over two zones."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, counted, each_asset

META = RuleMeta(
    id="replicas_across_zones",
    title="At least two replicas across two zones",
    category="availability",
    severity="critical",
    version="3",  # 2: counts in words, not "replica(s)"; 3: "all ... comply (1 of 1)"
    blocker=True,
    rationale="One replica, or all replicas in one zone, means a single node or zone failure stops "
              "the system; in the purchase flow that is lost sales.",
    remediation="Run at least 2 replicas and spread them over at least 2 availability zones "
                "(topology spread constraints or anti-affinity).",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory", "kubernetes"),
)


def evaluate(system: SystemView, facts: Facts):
    """Each compute service needs at least 2 replicas spread over at least 2 zones."""
    def check(asset):
        if asset.get("replicas", 1) < 2:
            return counted(asset.get("replicas", 1), "replica")
        if len(set(asset.get("zones") or [])) < 2:
            return f"replicas in {counted(len(set(asset.get('zones') or [])), 'zone')}"
        return None

    return each_asset(facts.compute(), check, what="compute services")
