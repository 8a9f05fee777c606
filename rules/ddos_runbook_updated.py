"""The DDoS runbook was updated this season."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, failed, passed

META = RuleMeta(
    id="ddos_runbook_updated",
    title="DDoS runbook updated within the last 180 days",
    category="ddos",
    severity="medium",
    rationale="Contacts, provider consoles and emergency rules change during the year; a DDoS "
              "runbook last touched a season ago sends the on-call engineer to people and screens "
              "that no longer exist.",
    remediation="Update the DDoS runbook (contacts, emergency rules, escalation) before the season, "
                "record updated_on in the inventory, and have it reviewed (ddos_runbook_review).",
    applies_to=Applicability(public_only=True),
    facts=("inventory",),
)

MAX_AGE_DAYS = 180


def evaluate(system: SystemView, facts: Facts):
    """Pass when a runbook with topic ``ddos`` was updated at most 180 days before the export."""
    books = [r for r in facts.assets("runbooks") if "ddos" in (r.get("topics") or [])]
    if not books:
        return failed("no runbook with topic ddos")
    newest = min(books, key=lambda r: (r.get("age_days") is None, r.get("age_days") or 0))
    evidence = [{"asset": r["id"], "updated_on": r.get("updated_on"), "age_days": r.get("age_days")} for r in books]
    age = newest.get("age_days")
    if age is None:
        return failed(f"{newest['id']} has no updated_on date", evidence)
    if age > MAX_AGE_DAYS:
        return failed(f"{newest['id']} was last updated {age} days ago (at most {MAX_AGE_DAYS})", evidence)
    return passed(f"{newest['id']} updated {age} days ago", evidence)
