"""Database changes reviewed for peak (team-managed: the owner answers, a domain architect approves)."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, attestation_outcome

META = RuleMeta(
    id="db_change_plan",
    title="Database changes reviewed for peak",
    category="databases",
    severity="medium",
    kind="team-managed",
    rationale="Schema migrations, index builds and vacuum or compaction jobs that are harmless on a "
              "normal day can lock tables or saturate I/O at peak load.",
    remediation="List the database changes and heavy maintenance jobs planned before and during peak, "
                "move them out of the peak window or show they run online, and submit the list for "
                "review.",
    questions=(
        "Which schema migrations and index changes are planned before and during peak?",
        "Which maintenance jobs (vacuum, compaction, backups, batch exports) run during peak hours, and at what load?",
        "How was each large migration tested against production-sized data?",
    ),
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("attestations",),
)


def evaluate(system: SystemView, facts: Facts):
    """The review state of the answers: approved passes; pending, rejected or expired do not."""
    return attestation_outcome(META, facts)
