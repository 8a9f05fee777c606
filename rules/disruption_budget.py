"""Replicated services declare a disruption budget."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset

META = RuleMeta(
    id="disruption_budget",
    title="Disruption budget for every service",
    category="availability",
    severity="medium",
    rationale="Node drains and upgrades during peak can evict every replica at once unless a "
              "disruption budget keeps a minimum available.",
    remediation="Add a PodDisruptionBudget (or the platform's equivalent) with minAvailable at "
                "least 1, or maxUnavailable 1, for each service.",
    applies_to=Applicability(tiers=("critical", "high", "medium")),
    facts=("inventory", "kubernetes"),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each compute service needs a disruption_budget; credit is half the share that have one."""
    return each_asset(facts.compute(),
                      lambda a: None if a.get("disruption_budget") else "no disruption budget",
                      what="compute services")
