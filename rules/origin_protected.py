"""The origin accepts traffic from the CDN only."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset, not_applicable

META = RuleMeta(
    id="origin_protected",
    title="Origin reachable only through the CDN",
    category="ddos",
    severity="high",
    rationale="An attacker who finds the origin's address bypasses the CDN, the WAF and the rate "
              "limits altogether; the edge protects only what cannot be reached around it.",
    remediation="Restrict public load balancers to the CDN's address ranges or an origin secret "
                "header (or use a private origin connection) and mark restricted_to_cdn.",
    applies_to=Applicability(public_only=True),
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each public load_balancer needs ``restricted_to_cdn``; not applicable when the system has
    no public load balancer of its own."""
    public = [lb for lb in facts.assets("load_balancers") if lb.get("public")]
    if not public:
        return not_applicable("no public load balancer of its own")
    return each_asset(public, lambda lb: None if lb.get("restricted_to_cdn") else "origin reachable directly",
                      what="public load balancers")
