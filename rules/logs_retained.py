"""Logs are kept long enough to investigate incidents and disputes."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset

META = RuleMeta(
    id="logs_retained",
    title="Logs retained at least 30 days",
    category="observability",
    severity="medium",
    rationale="Incidents found after peak, chargebacks and merchant disputes need the logs of the "
              "peak weeks; short retention deletes them before anyone looks.",
    remediation="Set the retention of every log group to at least 30 days (longer where compliance "
                "requires) and register the log groups in the inventory.",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

MIN_DAYS = 30


def evaluate(system: SystemView, facts: Facts):
    """Each log_group needs ``retention_days`` of at least 30; no log group at all is no data."""
    return each_asset(facts.assets("logs"),
                      lambda g: None if g.get("retention_days", 0) >= MIN_DAYS
                      else f"kept {g.get('retention_days', 0)} days (need {MIN_DAYS})",
                      what="log groups")
