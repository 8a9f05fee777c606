"""Fixtures for the observability rules."""

from tests.rules.kit import D, F, N, P, case, compute, facts


def alarm(signal: str, notifies: str = "oncall-checkout", asset_id: str | None = None) -> dict:
    return {"id": asset_id or f"alarm-{signal}", "signal": signal, "notifies": notifies}


ROTATION = [{"id": "oncall-checkout", "members": ["a", "b"]}]

CASES = [
    # alerts_golden_signals: share of the three signals with an alert that notifies someone
    case("alerts_golden_signals", "all-three", P, 1.0,
         facts({"alarms": [alarm("error_rate"), alarm("latency"), alarm("saturation")]})),
    case("alerts_golden_signals", "two-of-three", F, 2 / 3, facts({"alarms": [alarm("error_rate"), alarm("latency")]})),
    case("alerts_golden_signals", "silent-alarm-does-not-count", F, 2 / 3,
         facts({"alarms": [alarm("error_rate"), alarm("latency"), alarm("saturation", notifies="")]})),
    case("alerts_golden_signals", "none", F, 0.0),
    # dashboards
    case("dashboards", "with-url", P, 1.0, facts({"dashboards": [{"id": "d", "url": "https://g/d"}]})),
    case("dashboards", "without-url", F, 0.0, facts({"dashboards": [{"id": "d", "url": ""}]})),
    # logs_retained
    case("logs_retained", "30-days", P, 1.0, facts({"logs": [{"id": "l", "retention_days": 30}]})),
    case("logs_retained", "7-days", F, 0.0, facts({"logs": [{"id": "l", "retention_days": 7}]})),
    case("logs_retained", "none", D, 0.0),
    # slo_burn_rate_alerts
    case("slo_burn_rate_alerts", "medium-tier", N, 0.0, tier="medium"),
    case("slo_burn_rate_alerts", "burn-rate", P, 1.0, facts({"alarms": [alarm("slo_burn_rate")]})),
    case("slo_burn_rate_alerts", "availability-counts", P, 1.0, facts({"alarms": [alarm("availability")]})),
    case("slo_burn_rate_alerts", "notifies-nobody", F, 0.0, facts({"alarms": [alarm("slo_burn_rate", notifies="")]})),
    case("slo_burn_rate_alerts", "none", F, 0.0, facts({"alarms": [alarm("latency")]})),
    # alerts_route_to_oncall
    case("alerts_route_to_oncall", "no-alarms", N, 0.0),
    case("alerts_route_to_oncall", "to-rotation", P, 1.0, facts({"alarms": [alarm("latency")], "oncall": ROTATION})),
    case("alerts_route_to_oncall", "one-to-mailbox", F, 0.25,
         facts({"alarms": [alarm("latency"), alarm("error_rate", notifies="team@example.com")], "oncall": ROTATION})),
    case("alerts_route_to_oncall", "no-rotation", F, 0.0, facts({"alarms": [alarm("latency")]})),
    # tracing
    case("tracing", "low-tier", N, 0.0, tier="low"),
    case("tracing", "on", P, 1.0, facts({"compute": [compute()]})),
    case("tracing", "off", F, 0.0, facts({"compute": [compute(tracing=False)]})),
]
