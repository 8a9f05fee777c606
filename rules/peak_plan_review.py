"""Peak plan checklist reviewed (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import (
    Applicability,
    Facts,
    RuleMeta,
    SystemView,
    attestation_outcome,
    weeks_before,
)

META = RuleMeta(
    id="peak_plan_review",
    title="Peak plan checklist reviewed",
    category="availability",
    severity="high",
    kind="team-managed",
    rationale="The peak plan pulls together capacity, testing, on-call and change-freeze decisions; a "
              "review by the domain architect catches what each automated check cannot see on its own.",
    remediation="Fill in the peak plan checklist (forecast used, capacity plan, test results, on-call "
                "schedule for the peak weeks, change freeze, known risks) and submit it for review before "
                "the due date.",
    questions=(
        "Which forecast and capacity plan does the system use for peak, and where are they?",
        "Who is on call during each peak week, with which escalation path?",
        "Which changes are planned during the change freeze, and why can they not wait?",
        "What are the known risks for peak and their mitigations?",
    ),
    applies_to=Applicability(tiers=("critical", "high")),
    due=weeks_before(4),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
