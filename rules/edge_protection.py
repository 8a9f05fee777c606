"""Public endpoints sit behind a CDN with a WAF and rate limiting."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, failed, graded

META = RuleMeta(
    id="edge_protection",
    title="Public endpoints behind CDN, WAF and rate limiting",
    category="ddos",
    severity="critical",
    blocker=True,
    rationale="Peak season is also attack season; a public endpoint without edge protection lets "
              "a volumetric or application-layer attack reach the origin directly.",
    remediation="Put every public endpoint behind the CDN with the WAF enabled and rate-limiting "
                "rules; block direct access to the origin.",
    applies_to=Applicability(public_only=True),
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """A cdn asset must front the public system with waf and rate_limiting; half credit with
    one of the two, none with neither or without an edge."""
    edges = facts.assets("edge")
    if not edges:
        return failed("public system with no CDN/WAF in front of it")
    best = max(edges, key=lambda e: (bool(e.get("waf")) + bool(e.get("rate_limiting"))))
    missing = [name for name, key in (("WAF", "waf"), ("rate limiting", "rate_limiting")) if not best.get(key)]
    evidence = [{"asset": e["id"], "waf": bool(e.get("waf")), "rate_limiting": bool(e.get("rate_limiting"))}
                for e in edges]
    if not missing:
        return graded(1.0, f"behind {best['id']} with WAF and rate limiting", evidence)
    return graded(0.5 if len(missing) == 1 else 0.0, f"{best['id']} lacks {' and '.join(missing)}", evidence)
