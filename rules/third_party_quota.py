"""Third-party rate limits cover the forecast peak."""

from readiness.capacity import peak_need
from readiness.rulekit import Band, Facts, RuleMeta, SystemView, graded, no_data, not_applicable

META = RuleMeta(
    id="third_party_quota",
    title="Third-party rate limits above the forecast peak",
    category="capacity",
    severity="high",
    rationale="Card networks, banks and SMS providers enforce contractual rate limits; calls above "
              "them are rejected, so a surge we can absorb still fails at the provider.",
    remediation="Ask each provider for its rate limit for our account, record it as "
                "provider_rate_limit_rps, and negotiate an increase to at least 1.5x the forecast "
                "peak call rate before the season.",
    bands=(Band(at_least=1.5, credit=1.0), Band(at_least=1.2, credit=0.5)),
    facts=("inventory", "kapacity"),
)


def evaluate(system: SystemView, facts: Facts):
    """For each third-party client: ``provider_rate_limit_rps`` / (peak forecast rps x
    ``calls_per_request``); the smallest ratio is graded (1.5 full, 1.2 half). An unknown
    limit counts as 0."""
    clients = [c for c in facts.assets("dependency_clients") if c.get("third_party")]
    if not clients:
        return not_applicable("no third-party dependencies")
    need, which, origin = peak_need(system, facts)
    if need is None:
        return no_data("no forecast to compare the provider limits with")
    ratios = []
    for client in clients:
        calls = need * float(client.get("calls_per_request", 1.0))
        limit = client.get("provider_rate_limit_rps")
        ratios.append(((limit or 0) / calls if calls else float("inf"), client["target"], limit, calls))
    ratio, worst, limit, calls = min(ratios, key=lambda r: (r[0], r[1]))
    evidence = [{"target": t, "provider_limit_rps": lim, "peak_calls_rps": round(c, 2), "ratio": round(r, 3)}
                for r, t, lim, c in ratios]
    evidence.append({"forecast": which, "forecast_from": origin, "forecast_rps": round(need, 2)})
    if limit is None:
        return graded(META.credit_for(0.0), f"the rate limit of {worst} is unknown", evidence)
    return graded(META.credit_for(ratio),
                  f"{worst} allows {limit:.0f} rps for {calls:.0f} rps at the {which} forecast ({ratio:.2f}x)",
                  evidence)
