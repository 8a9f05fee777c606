"""DDoS runbook reviewed (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import (
    Applicability,
    Facts,
    RuleMeta,
    SystemView,
    attestation_outcome,
    weeks_before,
)

META = RuleMeta(
    id="ddos_runbook_review",
    title="DDoS runbook reviewed",
    category="ddos",
    severity="high",
    kind="team-managed",
    rationale="A DDoS attack during peak needs fast, coordinated action with the CDN provider and the "
              "security team; a reviewed runbook names the contacts, the switches to flip and who "
              "decides.",
    remediation="Review the DDoS runbook with the security team and the CDN provider: escalation "
                "contacts, emergency rate limits and WAF rules, how to shed non-essential traffic; submit "
                "it for review.",
    questions=(
        "Who are the contacts at the CDN or DDoS provider, and how are they reached out of hours?",
        "Which emergency WAF and rate-limit rules can be switched on, by whom, and how fast?",
        "What non-essential traffic is shed first, and how is the checkout flow protected?",
    ),
    applies_to=Applicability(public_only=True),
    due=weeks_before(2),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
