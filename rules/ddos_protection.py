"""Volumetric DDoS protection is enabled at the edge."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, each_asset, failed

META = RuleMeta(
    id="ddos_protection",
    title="DDoS protection enabled at the edge",
    category="ddos",
    severity="high",
    rationale="Volumetric attacks (network and transport layer) saturate links before any "
              "application defence sees them; only protection at the edge absorbs them.",
    remediation="Enable the CDN's DDoS protection (e.g. AWS Shield Advanced, Cloudflare) for every "
                "public edge in front of the system.",
    applies_to=Applicability(public_only=True),
    facts=("inventory",),
    version="2",  # 2: "all <assets> comply (1 of 1)", not "all 1 <assets> comply"
)


def evaluate(system: SystemView, facts: Facts):
    """Each cdn asset of a public system needs ``ddos_protection``; no edge at all fails."""
    edges = facts.assets("edge")
    if not edges:
        return failed("public system with no edge in front of it")
    return each_asset(edges, lambda e: None if e.get("ddos_protection") else "DDoS protection off", what="edges")
