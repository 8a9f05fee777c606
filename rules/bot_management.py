"""Bot management protects public purchase-flow endpoints."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, failed, passed

META = RuleMeta(
    id="bot_management",
    title="Bot management on public purchase-flow endpoints",
    category="ddos",
    severity="medium",
    rationale="Flash sales attract scalper bots and card-testing attacks that look like customers "
              "to a WAF; they take the capacity meant for real purchases and raise fraud losses.",
    remediation="Enable the CDN's bot management (challenge, rate limit or block automated clients) "
                "on the public purchase-flow endpoints and mark bot_management on the edge.",
    applies_to=Applicability(public_only=True, purchase_flow_only=True),
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """Pass when a cdn asset in front of the system has ``bot_management``."""
    edges = facts.assets("edge")
    if not edges:
        return failed("no edge in front of the system")
    managed = [e["id"] for e in edges if e.get("bot_management")]
    evidence = [{"asset": e["id"], "bot_management": bool(e.get("bot_management"))} for e in edges]
    if managed:
        return passed(f"bot management on {', '.join(managed)}", evidence)
    return failed("no bot management at the edge", evidence)
