"""FLAS systems can shed non-essential features at once with a kill switch."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, failed, passed

META = RuleMeta(
    id="kill_switches",
    title="Kill switches to shed non-essential features under a surge",
    category="resilience",
    severity="medium",
    rationale="When a flash sale brings more traffic than forecast, turning off non-essential "
              "features (recommendations, rich receipts, analytics calls) frees capacity for "
              "purchases within seconds; a deployment takes too long.",
    remediation="Add feature flags that act as kill switches for the non-essential work of the "
                "system, document what each sheds, and register them in the inventory "
                "(type feature_flag, kill_switch: true, sheds: ...).",
    applies_to=Applicability(traffic_classes=("FLAS",)),
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """Pass when at least one ``feature_flag`` asset has ``kill_switch: true`` and says what it sheds."""
    flags = facts.assets("feature_flags")
    switches = [f for f in flags if f.get("kill_switch") and f.get("sheds")]
    evidence = [{"asset": f["id"], "kill_switch": bool(f.get("kill_switch")), "sheds": f.get("sheds", "")}
                for f in flags]
    if switches:
        return passed(f"{len(switches)} kill switch(es): {', '.join(f['sheds'] for f in switches)}", evidence)
    if flags:
        return failed("feature flags exist but none is a kill switch that says what it sheds", evidence)
    return failed("no kill switch registered for this FLAS system")
