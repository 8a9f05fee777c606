"""Incident communication plan (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import (
    Applicability,
    Facts,
    RuleMeta,
    SystemView,
    attestation_outcome,
    weeks_before,
)

META = RuleMeta(
    id="incident_comms_plan",
    title="Incident communication plan",
    category="availability",
    severity="medium",
    kind="team-managed",
    rationale="During a peak incident merchants, customer service and leadership all ask for updates; "
              "without an agreed channel, audience and cadence, engineers spend the incident answering "
              "questions.",
    remediation="Agree who declares an incident, which channel and status page are used, who writes "
                "updates for merchants and customer service, and how often; submit the plan for review.",
    questions=(
        "Who declares an incident and who is the incident commander?",
        "Which channels and status pages are used to inform merchants, customer service and leadership?",
        "Who writes the external updates, and at what cadence?",
    ),
    applies_to=Applicability(tiers=("critical", "high")),
    due=weeks_before(2),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
