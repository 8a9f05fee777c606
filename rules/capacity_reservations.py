"""Capacity for peak is reserved with the cloud provider."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset

META = RuleMeta(
    id="capacity_reservations",
    title="Capacity reservations for peak",
    category="capacity",
    severity="high",
    rationale="During peak every large merchant's platform scales up in the same region at the same "
              "hour; on-demand capacity for some instance types runs out, and autoscaling then "
              "fails exactly when it is needed.",
    remediation="Reserve the peak capacity (on-demand capacity reservations, committed node pools) "
                "for the instance types the services run on, for the peak weeks, and mark "
                "capacity_reservation on each compute service.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each compute service needs ``capacity_reservation: true``; partial credit is
    half the share that have it."""
    return each_asset(facts.assets("compute"),
                      lambda a: None if a.get("capacity_reservation") else "no capacity reservation",
                      what="compute services")
