"""Fixtures for the team-managed rules: the review state decides, applicability first."""

from readiness.rulekit import Status
from tests.rules.kit import D, F, N, P, case, facts, review

TEAM_MANAGED = ["capacity_plan_signoff", "db_change_plan", "ddos_runbook_review", "dependency_review",
                "failover_plan", "incident_comms_plan", "load_test_realism", "peak_plan_review",
                "rollback_plan", "runbook_quality"]


def reviewed(rule_id: str, state: str):
    return facts(attestations={rule_id: review(state)})


CASES = [
    c
    for rule_id in TEAM_MANAGED
    for c in (
        case(rule_id, "approved", P, 1.0, reviewed(rule_id, "approved")),
        case(rule_id, "pending", Status.PENDING_REVIEW, 0.0, reviewed(rule_id, "pending")),
        case(rule_id, "rejected", F, 0.0, reviewed(rule_id, "rejected")),
        case(rule_id, "expired", Status.EXPIRED, 0.0, reviewed(rule_id, "expired")),
        case(rule_id, "not-answered", D, 0.0),
        case(rule_id, "other-rule-approved-does-not-count", D, 0.0, reviewed("some_other_check", "approved")),
    )
] + [
    case("failover_plan", "high-tier", N, 0.0, reviewed("failover_plan", "approved"), tier="high"),
    case("peak_plan_review", "low-tier", N, 0.0, tier="low"),
    case("ddos_runbook_review", "internal-system", N, 0.0, public=False),
    case("capacity_plan_signoff", "medium-tier", N, 0.0, tier="medium"),
]
