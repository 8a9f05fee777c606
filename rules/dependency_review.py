"""Dependency review done for peak (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, attestation_outcome

META = RuleMeta(
    id="dependency_review",
    title="Dependency review done for peak",
    category="resilience",
    severity="high",
    kind="team-managed",
    rationale="A system is only as ready as what it calls; a review of each dependency's peak "
              "readiness, limits and failure behaviour finds the weak link before the traffic does.",
    remediation="List every dependency (internal and third party) with its owner, expected peak call "
                "rate, timeout, retry policy and what happens when it fails; confirm the owners plan for "
                "your peak rate; then submit the answers with `readiness review submit`.",
    questions=(
        "Which dependencies does the system call in the purchase flow, and who owns each?",
        "What call rate will the system send each dependency at the forecast peak, "
        "and has its owner confirmed they plan for it?",
        "What does the system do when each dependency is slow or down (timeout, fallback, fail)?",
        "Which third-party limits (rate limits, quotas, contracts) apply, and is there headroom at peak?",
    ),
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
