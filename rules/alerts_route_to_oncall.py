"""Alerts page the on-call rotation, not a mailbox."""

from readiness.rulekit import Facts, RuleMeta, SystemView, each_asset, failed, not_applicable

META = RuleMeta(
    id="alerts_route_to_oncall",
    title="Alerts notify the on-call rotation",
    category="observability",
    severity="medium",
    rationale="An alert sent to a mailbox or an unwatched channel is read the next morning; at peak "
              "every alert must reach the person on call.",
    remediation="Route every alert to the system's on-call rotation (the notifies field names the "
                "rotation's id) and keep e-mail or chat as extra targets only.",
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each alarm's ``notifies`` must name one of the system's oncall_rotation assets; not
    applicable without alarms (alerts_golden_signals covers that)."""
    alarms = facts.assets("alarms")
    if not alarms:
        return not_applicable("no alarms (see alerts_golden_signals)")
    rotations = {r["id"] for r in facts.assets("oncall")}
    if not rotations:
        return failed("no on-call rotation for the alerts to page (see oncall_rotation)")
    return each_asset(alarms,
                      lambda a: None if a.get("notifies") in rotations
                      else f"notifies {a.get('notifies') or 'nobody'}, not the on-call rotation",
                      what="alarms")
