"""Capacity plan signed off (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import (
    Applicability,
    Facts,
    RuleMeta,
    SystemView,
    attestation_outcome,
    weeks_before,
)

META = RuleMeta(
    id="capacity_plan_signoff",
    title="Capacity plan signed off",
    category="capacity",
    severity="high",
    kind="team-managed",
    rationale="Capacity for peak costs money and takes lead time (reservations, quota increases); an "
              "agreed plan makes sure the capacity is there on the day and someone owns the gap if it "
              "is not.",
    remediation="Write the capacity plan from the Kapacity forecast: Baseline and FLAS rates, replicas "
                "and instance types, reservations and quota increases requested, and the cost; submit it "
                "for sign-off.",
    questions=(
        "Which forecast (Kapacity run or own forecast) is the plan based on, and what are the Baseline and FLAS rates?",
        "How many replicas or instances are provisioned for Baseline and for FLAS, and when are they scaled up?",
        "Which capacity reservations and quota increases were requested, and are they confirmed?",
    ),
    applies_to=Applicability(tiers=("critical", "high")),
    due=weeks_before(6),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
