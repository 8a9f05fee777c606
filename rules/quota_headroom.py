"""Account quotas leave room to scale to the peak."""

from readiness.rulekit import Applicability, Band, Facts, RuleMeta, SystemView, graded, no_data

META = RuleMeta(
    id="quota_headroom",
    title="Cloud quota headroom for scaling",
    category="capacity",
    severity="medium",
    rationale="Autoscaling stops silently at the account's quota (vCPUs, IPs, instances); quota "
              "increases take days to approve, so they must be in place before peak.",
    remediation="Request quota increases so that at least 30% of each relevant quota is free at the "
                "autoscaling maximum, and record the free share as quota_headroom.",
    applies_to=Applicability(tiers=("critical", "high", "medium")),
    bands=(Band(at_least=0.3, credit=1.0), Band(at_least=0.15, credit=0.5)),
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """The smallest ``quota_headroom`` (free share of the quota) over the compute services is
    graded by the bands: at least 0.3 full credit, 0.15 half; no data when any service lacks it."""
    compute = facts.assets("compute")
    if not compute:
        return no_data("no compute services in the facts")
    unknown = [a["id"] for a in compute if a.get("quota_headroom") is None]
    if unknown:
        return no_data(f"quota headroom not recorded for {', '.join(unknown)}")
    worst = min(compute, key=lambda a: a["quota_headroom"])
    evidence = [{"asset": a["id"], "quota_headroom": a["quota_headroom"]} for a in compute]
    return graded(META.credit_for(worst["quota_headroom"]),
                  f"{worst['id']}: {worst['quota_headroom']:.0%} of the quota free", evidence)
