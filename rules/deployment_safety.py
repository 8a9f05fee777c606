"""Deployments roll out gradually and roll back automatically."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset

META = RuleMeta(
    id="deployment_safety",
    title="Gradual deployments with automatic rollback",
    category="availability",
    severity="medium",
    rationale="A recreate deployment takes the service down; a rollout without automatic rollback "
              "lets a bad version serve peak traffic until a human notices.",
    remediation="Deploy with a rolling, canary or blue/green strategy and enable automatic "
                "rollback on failed health checks or SLO burn; record deployment.strategy and "
                "deployment.auto_rollback in the inventory.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory", "kubernetes"),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

GRADUAL = ("rolling", "canary", "blue_green")


def evaluate(system: SystemView, facts: Facts):
    """Each compute service needs ``deployment.strategy`` rolling, canary or blue_green and
    ``deployment.auto_rollback`` (Kubernetes workloads when present, else the inventory);
    partial credit is half the share that comply."""
    def check(asset):
        deployment = asset.get("deployment") or {}
        strategy = deployment.get("strategy")
        if strategy not in GRADUAL:
            return f"deployment strategy {strategy or 'unknown'}"
        if not deployment.get("auto_rollback"):
            return f"{strategy} deployment without automatic rollback"
        return None

    return each_asset(facts.compute(), check, what="compute services")
