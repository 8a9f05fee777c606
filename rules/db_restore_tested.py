"""A backup restore was tested within the last year."""

from readiness.rulekit import (
    Applicability,
    Facts,
    RuleMeta,
    SystemView,
    not_applicable,
    passed,
)
from rules._perf import recent_passing_test

META = RuleMeta(
    id="db_restore_tested",
    title="Backup restore tested within the last 365 days",
    category="databases",
    severity="medium",
    rationale="Backups nobody has restored are a hope, not a plan: restores fail on missing "
              "permissions, wrong retention, or take far longer than the business can wait.",
    remediation="Restore a recent backup into a separate environment, check the data and time the "
                "restore, and record it as a drill of kind restore.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory",),
)

MAX_AGE_DAYS = 365


def evaluate(system: SystemView, facts: Facts):
    """For systems that own databases, the latest drill of kind ``restore`` must have passed
    and be at most 365 days old."""
    if not facts.assets("databases"):
        return not_applicable("the system owns no databases")
    test, failure = recent_passing_test(facts, "restore", MAX_AGE_DAYS, label="restore test")
    if failure:
        return failure
    return passed(f"restore test {test.ref} passed {test.age_days} days ago", test.evidence())
