"""Fixtures for the DDoS and edge rules."""

from tests.rules.kit import F, N, P, case, drill, facts


def edge(**fields) -> dict:
    base = {"id": "edge", "waf": True, "rate_limiting": True, "ddos_protection": True, "bot_management": True}
    base.update(fields)
    return base


def ddos_runbook(age_days):
    return {"id": "rb-ddos", "url": "u", "topics": ["ddos"], "updated_on": "2026-01-01", "age_days": age_days}


CASES = [
    # edge_protection
    case("edge_protection", "internal-system", N, 0.0, public=False),
    case("edge_protection", "waf-and-rate-limits", P, 1.0, facts({"edge": [edge()]})),
    case("edge_protection", "no-rate-limits", F, 0.5, facts({"edge": [edge(rate_limiting=False)]})),
    case("edge_protection", "neither", F, 0.0, facts({"edge": [edge(waf=False, rate_limiting=False)]})),
    case("edge_protection", "no-edge", F, 0.0),
    # ddos_protection
    case("ddos_protection", "internal-system", N, 0.0, public=False),
    case("ddos_protection", "on", P, 1.0, facts({"edge": [edge()]})),
    case("ddos_protection", "off", F, 0.0, facts({"edge": [edge(ddos_protection=False)]})),
    case("ddos_protection", "no-edge", F, 0.0),
    # ddos_fire_drill
    case("ddos_fire_drill", "internal-system", N, 0.0, public=False),
    case("ddos_fire_drill", "this-season", P, 1.0, facts({"drills": [drill("ddos", 180)]})),
    case("ddos_fire_drill", "last-season", F, 0.0, facts({"drills": [drill("ddos", 181)]})),
    case("ddos_fire_drill", "failed", F, 0.0, facts({"drills": [drill("ddos", 3, "failed")]})),
    case("ddos_fire_drill", "undated", F, 0.0, facts({"drills": [drill("ddos", None)]})),
    case("ddos_fire_drill", "never", F, 0.0, facts({"drills": [drill("load", 3)]})),
    # ddos_runbook_updated
    case("ddos_runbook_updated", "internal-system", N, 0.0, public=False),
    case("ddos_runbook_updated", "fresh", P, 1.0, facts({"runbooks": [ddos_runbook(180)]})),
    case("ddos_runbook_updated", "stale", F, 0.0, facts({"runbooks": [ddos_runbook(181)]})),
    case("ddos_runbook_updated", "newest-counts", P, 1.0, facts({"runbooks": [ddos_runbook(400), ddos_runbook(20)]})),
    case("ddos_runbook_updated", "undated", F, 0.0, facts({"runbooks": [ddos_runbook(None)]})),
    case("ddos_runbook_updated", "no-ddos-topic", F, 0.0,
         facts({"runbooks": [{"id": "r", "url": "u", "topics": ["rollback"], "age_days": 1}]})),
    # origin_protected
    case("origin_protected", "internal-system", N, 0.0, public=False),
    case("origin_protected", "no-public-balancer", N, 0.0, facts({"load_balancers": [{"id": "lb", "public": False}]})),
    case("origin_protected", "restricted", P, 1.0,
         facts({"load_balancers": [{"id": "lb", "public": True, "restricted_to_cdn": True}]})),
    case("origin_protected", "open", F, 0.0,
         facts({"load_balancers": [{"id": "lb", "public": True, "restricted_to_cdn": False}]})),
    # bot_management
    case("bot_management", "not-purchase-flow", N, 0.0, purchase_flow=False),
    case("bot_management", "internal", N, 0.0, public=False),
    case("bot_management", "on", P, 1.0, facts({"edge": [edge()]})),
    case("bot_management", "off", F, 0.0, facts({"edge": [edge(bot_management=False)]})),
    case("bot_management", "no-edge", F, 0.0),
]
