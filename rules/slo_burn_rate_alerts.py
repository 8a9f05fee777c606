"""Alerts on the SLO's error-budget burn rate."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, counted, failed, passed

META = RuleMeta(
    id="slo_burn_rate_alerts",
    title="Alerts on SLO burn rate",
    category="observability",
    severity="medium",
    version="2",  # 2: "1 SLO alert", "2 SLO alerts", not "SLO alert(s)"
    rationale="Threshold alerts either page too late or too often; alerting on how fast the error "
              "budget burns pages for what customers feel, early enough to act during a peak hour.",
    remediation="Add multi-window burn-rate alerts on the SLO (e.g. 2% of the monthly budget in one "
                "hour) that notify the on-call rotation; register them as alarms with signal "
                "slo_burn_rate.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """Pass when an alarm with signal ``slo_burn_rate`` (or ``availability``) notifies someone."""
    alarms = [a for a in facts.assets("alarms") if a.get("signal") in ("slo_burn_rate", "availability")]
    paging = [a for a in alarms if a.get("notifies")]
    if paging:
        return passed(counted(len(paging), "SLO alert"), [{"asset": a["id"], "notifies": a["notifies"]} for a in paging])
    if alarms:
        return failed("SLO alerts notify nobody", [{"asset": a["id"]} for a in alarms])
    return failed("no alert on the SLO burn rate")
