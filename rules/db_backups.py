"""Database backups are retained long enough to recover from a bad change."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="db_backups",
    title="Database backups retained at least 7 days",
    category="databases",
    severity="high",
    rationale="A bad migration or a data-corrupting bug during peak must be recoverable; short "
              "retention loses the last good copy before anyone notices.",
    remediation="Enable automated backups with point-in-time recovery and a retention of at least "
                "7 days (35 for payment ledgers).",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)

MIN_DAYS = 7


def evaluate(system: SystemView, facts: Facts):
    """Each database needs backup_retention_days of at least 7; not applicable without
    databases."""
    databases = facts.assets("databases")
    if not databases:
        return not_applicable("the system owns no databases")
    return each_asset(
        databases,
        lambda db: None if db.get("backup_retention_days", 0) >= MIN_DAYS
        else f"backups kept {db.get('backup_retention_days', 0)} days (need {MIN_DAYS})",
        what="databases")
