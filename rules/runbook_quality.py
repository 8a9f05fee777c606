"""Runbooks reviewed for quality (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, attestation_outcome

META = RuleMeta(
    id="runbook_quality",
    title="Runbooks reviewed for quality",
    category="resilience",
    severity="medium",
    kind="team-managed",
    rationale="A runbook that exists but is out of date, untested or unreadable under stress is worse "
              "than none: it sends the on-call engineer down a wrong path while the incident grows.",
    remediation="Walk through each runbook with someone who did not write it, fix steps that are stale or "
                "ambiguous, link dashboards and commands, and submit the review with links to the "
                "runbooks.",
    questions=(
        "Which runbooks were walked through, by whom, and when?",
        "Does each runbook start from the alert that pages, and link the dashboards and commands it uses?",
        "Were the steps executed in a test environment or game day this season, and what was fixed?",
    ),
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
