"""Fixtures for the capacity rules, including the headroom bands."""

from tests.rules.kit import D, F, N, P, case, client, compute, facts


def ceiling(max_replicas: int, baseline: float = 1000):
    """Autoscaling ceiling of max_replicas x 100 rps against a Baseline forecast."""
    return facts({"compute": [compute(autoscaling={"enabled": True, "min": 2, "max": max_replicas},
                                      forecast_baseline_rps=baseline)]})


def running(replicas: int, flas: float = 1000):
    return facts({"compute": [compute(replicas=replicas, forecast_flas_rps=flas)]})


def provider(limit, calls: float = 1.0, baseline: float = 400, flas: float = 1000):
    return facts({"compute": [compute(forecast_baseline_rps=baseline, forecast_flas_rps=flas)],
                  "dependency_clients": [client("bank", third_party=True, provider_rate_limit_rps=limit,
                                                calls_per_request=calls)]})


def function(reserved, peak=100):
    return facts({"functions": [{"id": "fn", "reserved_concurrency": reserved, "peak_concurrency": peak}]})


CASES = [
    # autoscaling_covers_baseline: ceiling / Baseline >= 1.5 full, >= 1.2 half
    case("autoscaling_covers_baseline", "band-full", P, 1.0, ceiling(15)),
    case("autoscaling_covers_baseline", "band-half", F, 0.5, ceiling(12)),
    case("autoscaling_covers_baseline", "band-none", F, 0.0, ceiling(11)),
    case("autoscaling_covers_baseline", "no-forecast", D, 0.0, facts({"compute": [compute(forecast_baseline_rps=None)]})),
    case("autoscaling_covers_baseline", "kapacity-forecast-wins", F, 0.0,
         facts({"compute": [compute(autoscaling={"enabled": True, "min": 2, "max": 15})]},
               kapacity={"baseline_rps": 2000, "flas_rps": 3000})),
    case("autoscaling_covers_baseline", "no-rps-per-replica", D, 0.0,
         facts({"compute": [compute(rps_per_replica=None)]})),
    # flas_preprovisioned: running / FLAS >= 1.0 full, >= 0.8 half; FLAS systems only
    case("flas_preprovisioned", "baseline-system", N, 0.0, running(1), traffic_class="Baseline"),
    case("flas_preprovisioned", "band-full", P, 1.0, running(10)),
    case("flas_preprovisioned", "band-half", F, 0.5, running(8)),
    case("flas_preprovisioned", "band-none", F, 0.0, running(7)),
    case("flas_preprovisioned", "no-forecast", D, 0.0, facts({"compute": [compute(forecast_flas_rps=None)]})),
    # capacity_reservations
    case("capacity_reservations", "medium-tier", N, 0.0, tier="medium"),
    case("capacity_reservations", "reserved", P, 1.0, facts({"compute": [compute()]})),
    case("capacity_reservations", "not-reserved", F, 0.0, facts({"compute": [compute(capacity_reservation=False)]})),
    case("capacity_reservations", "read-from-inventory-beside-kubernetes", P, 1.0,
         facts({"compute": [compute()]}, kubernetes={"compute": [{"id": "ns/Deployment/api", "replicas": 2}]})),
    # quota_headroom: smallest free share >= 0.3 full, >= 0.15 half
    case("quota_headroom", "low-tier", N, 0.0, tier="low"),
    case("quota_headroom", "no-compute", D, 0.0),
    case("quota_headroom", "band-full", P, 1.0, facts({"compute": [compute(quota_headroom=0.3)]})),
    case("quota_headroom", "band-half", F, 0.5, facts({"compute": [compute(quota_headroom=0.15)]})),
    case("quota_headroom", "band-none", F, 0.0,
         facts({"compute": [compute(quota_headroom=0.5), compute("b", quota_headroom=0.1)]})),
    case("quota_headroom", "unknown", D, 0.0, facts({"compute": [compute(quota_headroom=None)]})),
    # function_concurrency: reserved / peak >= 1.2 full, >= 1.0 half
    case("function_concurrency", "no-functions", N, 0.0),
    case("function_concurrency", "band-full", P, 1.0, function(120)),
    case("function_concurrency", "band-half", F, 0.5, function(100)),
    case("function_concurrency", "band-none", F, 0.0, function(99)),
    case("function_concurrency", "none-reserved", F, 0.0, function(None)),
    case("function_concurrency", "peak-unknown", D, 0.0, function(100, peak=None)),
    # third_party_quota: limit / (peak x calls) >= 1.5 full, >= 1.2 half; FLAS need for FLAS systems
    case("third_party_quota", "internal-only", N, 0.0, facts({"dependency_clients": [client()]})),
    case("third_party_quota", "band-full", P, 1.0, provider(1500)),
    case("third_party_quota", "band-half", F, 0.5, provider(1200)),
    case("third_party_quota", "band-none", F, 0.0, provider(1100)),
    case("third_party_quota", "calls-per-request", F, 0.0, provider(1500, calls=2)),
    case("third_party_quota", "baseline-system", P, 1.0, provider(600), traffic_class="Baseline"),
    case("third_party_quota", "unknown-limit", F, 0.0, provider(None)),
    case("third_party_quota", "no-forecast", D, 0.0,
         facts({"dependency_clients": [client("bank", third_party=True, provider_rate_limit_rps=10)]})),
]
