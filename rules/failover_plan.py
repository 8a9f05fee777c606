"""Failover plan written and agreed (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, attestation_outcome

META = RuleMeta(
    id="failover_plan",
    title="Failover plan written and agreed",
    category="resilience",
    severity="high",
    kind="team-managed",
    rationale="Failing over a critical system during peak involves decisions (who decides, when, what "
              "data may be lost) that cannot be made well in the middle of an incident.",
    remediation="Write the failover plan: triggers, decision owner, steps, expected data loss (RPO) and "
                "recovery time (RTO), how to fail back; agree it with the dependent teams and submit it "
                "for review.",
    questions=(
        "What triggers a failover, and who decides it?",
        "What are the recovery time (RTO) and recovery point (RPO) objectives, and were they met in the last test?",
        "Which teams and systems must act during a failover, and have they agreed the plan?",
        "How is the failback done, and when was it last exercised?",
    ),
    applies_to=Applicability(tiers=("critical",)),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
