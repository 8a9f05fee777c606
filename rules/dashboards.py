"""A dashboard for the system's health."""

from readiness.rulekit import Facts, RuleMeta, SystemView, counted, failed, passed

META = RuleMeta(
    id="dashboards",
    title="Service health dashboard",
    category="observability",
    severity="medium",
    version="2",  # 2: "1 dashboard", "3 dashboards", not "dashboard(s)"
    rationale="During an incident the on-call engineer needs one place showing traffic, errors, "
              "latency and saturation; building it during the incident costs the minutes that matter.",
    remediation="Create a dashboard with request rate, error rate, latency percentiles and "
                "saturation per service, and register it in the inventory.",
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """Pass when at least one dashboard asset has a URL."""
    boards = [d for d in facts.assets("dashboards") if d.get("url")]
    if boards:
        return passed(counted(len(boards), "dashboard"), [{"asset": d["id"], "url": d["url"]} for d in boards])
    return failed("no dashboard with a URL in the inventory")
