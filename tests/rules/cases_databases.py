"""Fixtures for the database rules, including the headroom bands."""

from tests.rules.kit import D, F, N, P, case, compute, database, drill, facts

ONE_SVC = [compute(replicas=3, autoscaling={"enabled": True, "min": 3, "max": 10}, forecast_baseline_rps=400,
                   forecast_flas_rps=1000)]


def pool(pool_size: int, **view):
    """Pool sizing at 10 replicas, Baseline 400 rps, 1 query of 100 ms: 40 connections needed."""
    return facts({"compute": ONE_SVC, "databases": [database(client={"pool_size": pool_size, "query_ms_p99": 100})]})


def storage(used: float, **fields):
    return facts({"databases": [database(storage_used_gb=used, storage_allocated_gb=1000, **fields)]})


CASES = [
    # db_multi_az
    case("db_multi_az", "no-databases", N, 0.0),
    case("db_multi_az", "multi-az", P, 1.0, facts({"databases": [database()]})),
    case("db_multi_az", "single-az", F, 0.0, facts({"databases": [database(multi_az=False)]})),
    case("db_multi_az", "manual-failover", F, 0.0, facts({"databases": [database(automatic_failover=False)]})),
    # db_client_timeouts
    case("db_client_timeouts", "no-databases", N, 0.0),
    case("db_client_timeouts", "5s", P, 1.0, facts({"databases": [database(client={"connect_timeout_ms": 5000})]})),
    case("db_client_timeouts", "too-long", F, 0.0, facts({"databases": [database(client={"connect_timeout_ms": 5001})]})),
    case("db_client_timeouts", "missing", F, 0.0, facts({"databases": [database(client={"connect_timeout_ms": None})]})),
    # db_backups
    case("db_backups", "no-databases", N, 0.0),
    case("db_backups", "7-days", P, 1.0, facts({"databases": [database(backup_retention_days=7)]})),
    case("db_backups", "1-day", F, 0.0, facts({"databases": [database(backup_retention_days=1)]})),
    # db_failover_settings
    case("db_failover_settings", "medium-tier", N, 0.0, facts({"databases": [database()]}), tier="medium"),
    case("db_failover_settings", "dynamodb-only", N, 0.0, facts({"databases": [database(engine="dynamodb")]})),
    case("db_failover_settings", "fast", P, 1.0, facts({"databases": [database(failover_dns_ttl_seconds=30)]})),
    case("db_failover_settings", "long-ttl", F, 0.0, facts({"databases": [database(failover_dns_ttl_seconds=300)]})),
    case("db_failover_settings", "unknown-ttl", F, 0.0, facts({"databases": [database(failover_dns_ttl_seconds=None)]})),
    case("db_failover_settings", "driver-not-aware", F, 0.0,
         facts({"databases": [database(client={"failover_aware": False})]})),
    # db_query_timeouts
    case("db_query_timeouts", "no-databases", N, 0.0),
    case("db_query_timeouts", "both", P, 1.0, facts({"databases": [database()]})),
    case("db_query_timeouts", "no-scan-timeout", F, 0.0, facts({"databases": [database(client={"scan_timeout_ms": None})]})),
    case("db_query_timeouts", "query-too-long", F, 0.0,
         facts({"databases": [database(client={"query_timeout_ms": 60000})]})),
    case("db_query_timeouts", "one-of-two", F, 0.25,
         facts({"databases": [database(), database("db2", client={"query_timeout_ms": None})]})),
    # db_pool_sized_for_forecast: bands 1.5 -> 1.0, 1.2 -> 0.5 (Baseline system; FLAS uses the FLAS need)
    case("db_pool_sized_for_forecast", "no-databases", N, 0.0),
    case("db_pool_sized_for_forecast", "band-full-at-1.5", P, 1.0, pool(6), traffic_class="Baseline"),
    case("db_pool_sized_for_forecast", "band-half-at-1.25", F, 0.5, pool(5), traffic_class="Baseline"),
    case("db_pool_sized_for_forecast", "band-none-at-1.0", F, 0.0, pool(4), traffic_class="Baseline"),
    case("db_pool_sized_for_forecast", "flas-need-applies", F, 0.0, pool(6)),
    case("db_pool_sized_for_forecast", "no-pool-figures", D, 0.0,
         facts({"compute": ONE_SVC, "databases": [database(client={"query_ms_p99": None})]})),
    case("db_pool_sized_for_forecast", "no-forecast", D, 0.0,
         facts({"compute": [compute(forecast_baseline_rps=None, forecast_flas_rps=None)], "databases": [database()]})),
    case("db_pool_sized_for_forecast", "kapacity-forecast-wins", P, 1.0,
         facts({"compute": ONE_SVC, "databases": [database(client={"pool_size": 3, "query_ms_p99": 100})]},
               kapacity={"baseline_rps": 200, "flas_rps": 200})),
    # db_storage_headroom: bands free >= 0.3 -> 1.0, >= 0.15 -> 0.5
    case("db_storage_headroom", "no-databases", N, 0.0),
    case("db_storage_headroom", "band-full-30pct-free", P, 1.0, storage(700)),
    case("db_storage_headroom", "band-half-20pct-free", F, 0.5, storage(800)),
    case("db_storage_headroom", "band-none-10pct-free", F, 0.0, storage(900)),
    case("db_storage_headroom", "autoscaling", P, 1.0, storage(990, storage_autoscaling=True)),
    case("db_storage_headroom", "unknown", D, 0.0, storage(None)),
    # db_read_replicas
    case("db_read_replicas", "medium-tier", N, 0.0, facts({"databases": [database(read_share=0.9, read_replicas=0)]}),
         tier="medium"),
    case("db_read_replicas", "not-read-heavy", N, 0.0, facts({"databases": [database(read_share=0.69, read_replicas=0)]})),
    case("db_read_replicas", "replica", P, 1.0, facts({"databases": [database(read_share=0.7, read_replicas=1)]})),
    case("db_read_replicas", "no-replica", F, 0.0, facts({"databases": [database(read_share=0.9, read_replicas=0)]})),
    # db_restore_tested
    case("db_restore_tested", "no-databases", N, 0.0),
    case("db_restore_tested", "never", F, 0.0, facts({"databases": [database()]})),
    case("db_restore_tested", "this-year", P, 1.0, facts({"databases": [database()], "drills": [drill("restore", 365)]})),
    case("db_restore_tested", "too-old", F, 0.0, facts({"databases": [database()], "drills": [drill("restore", 366)]})),
    case("db_restore_tested", "failed", F, 0.0,
         facts({"databases": [database()], "drills": [drill("restore", 3, "failed")]})),
]
