"""Load test realism reviewed (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import (
    Applicability,
    Facts,
    RuleMeta,
    SystemView,
    attestation_outcome,
    weeks_before,
)

META = RuleMeta(
    id="load_test_realism",
    title="Load test realism reviewed",
    category="performance",
    severity="medium",
    kind="team-managed",
    rationale="A load test only proves readiness if it resembles peak: the real traffic mix, "
              "production-sized data, warm and cold caches, and the dependencies in the path.",
    remediation="Describe the traffic mix, data volume and environment of the load tests and how they "
                "compare with production at peak; fix what differs materially and submit for review.",
    questions=(
        "Which endpoints and traffic mix did the load test use, and how does it compare with the peak mix?",
        "Was the test environment production-sized (data volume, instance types, dependencies)?",
        "Which dependencies were real and which were mocked?",
    ),
    applies_to=Applicability(tiers=("critical", "high")),
    due=weeks_before(6),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
