"""Rollback plan for every peak-season change (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, attestation_outcome

META = RuleMeta(
    id="rollback_plan",
    title="Rollback plan for every peak-season change",
    category="resilience",
    severity="high",
    kind="team-managed",
    rationale="Most peak incidents start with a change; being able to roll back within minutes "
              "(including schema and configuration changes) keeps a bad deployment from becoming a long "
              "outage.",
    remediation="Document how code, configuration, feature flags and database migrations are rolled back, "
                "how long it takes, and who may do it during the change freeze; submit the plan for "
                "review.",
    questions=(
        "How are code, configuration and feature-flag changes rolled back, and how long does it take?",
        "Are database migrations backward compatible so that the previous version can run against the new schema?",
        "Who may deploy and roll back during the peak change freeze?",
    ),
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
