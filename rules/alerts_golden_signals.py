"""Alerts on error rate, latency and saturation."""

from readiness.rulekit import Facts, RuleMeta, SystemView, graded

META = RuleMeta(
    id="alerts_golden_signals",
    title="Alerts on error rate, latency and saturation",
    category="observability",
    severity="high",
    rationale="Problems during peak must page a human before customers notice; each golden signal "
              "without an alert is a way to fail silently.",
    remediation="Create alerts on error rate, latency (at the SLO percentile) and saturation "
                "(CPU, memory, connection pools) that notify the on-call rotation.",
    facts=("inventory",),
)

SIGNALS = ("error_rate", "latency", "saturation")


def evaluate(system: SystemView, facts: Facts):
    """Alarms that notify someone must cover error_rate, latency and saturation; credit is the
    share of the three signals covered."""
    alarms = facts.assets("alarms")
    covered = {a["signal"] for a in alarms if a.get("notifies")}
    missing = [s for s in SIGNALS if s not in covered]
    evidence = [{"asset": a["id"], "signal": a["signal"], "notifies": a.get("notifies", "")} for a in alarms]
    if not missing:
        return graded(1.0, "alerts cover error rate, latency and saturation", evidence)
    credit = (len(SIGNALS) - len(missing)) / len(SIGNALS)
    return graded(credit, f"no alert that notifies anyone on {', '.join(missing)}", evidence)
