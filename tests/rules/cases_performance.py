"""Fixtures for the performance rules: perftest runs, inventory drills, bands, which source wins."""

from tests.rules.kit import D, F, N, P, case, compute, drill, facts, perftest, perftest_run

# Baseline 400 rps, FLAS 1000 rps (one service)
SVC = [compute(forecast_baseline_rps=400, forecast_flas_rps=1000)]
SLO = [{"id": "slo", "latency_ms": 500, "latency_percentile": 99, "error_rate": 0.001}]


def inv(*drills, slos=SLO):
    return facts({"compute": SVC, "drills": list(drills), "slos": slos})


CASES = [
    # perf_load_test: passing, at most 90 days, rate / Baseline: >= 1.0 full, >= 0.8 half
    case("perf_load_test", "none", F, 0.0, inv()),
    case("perf_load_test", "drill-at-forecast", P, 1.0, inv(drill("load", 90, rps=400))),
    case("perf_load_test", "band-half-at-0.8", F, 0.5, inv(drill("load", 10, rps=320))),
    case("perf_load_test", "band-none-below-0.8", F, 0.0, inv(drill("load", 10, rps=319))),
    case("perf_load_test", "too-old", F, 0.0, inv(drill("load", 91, rps=800))),
    case("perf_load_test", "failed", F, 0.0, inv(drill("load", 1, "failed", rps=800))),
    case("perf_load_test", "no-rate-recorded", F, 0.0, inv(drill("load", 1))),
    case("perf_load_test", "no-forecast", D, 0.0, facts({"drills": [drill("load", 1, rps=10)]})),
    case("perf_load_test", "perftest-run", P, 1.0, facts({"compute": SVC}, perftest=perftest(load=perftest_run()))),
    case("perf_load_test", "perftest-below-kapacity-forecast", F, 0.5,
         facts({"compute": SVC}, perftest=perftest(load=perftest_run()), kapacity={"baseline_rps": 450, "flas_rps": 900})),
    case("perf_load_test", "newer-failed-perftest-beats-older-drill", F, 0.0,
         facts({"compute": SVC, "drills": [drill("load", 20, rps=500)]},
               perftest=perftest(load=perftest_run("fail", 2.0, sustained_rps=None)))),
    # perf_spike_test: FLAS only; ramp <= 120 s; rate / FLAS: >= 1.0 full, >= 0.8 half
    case("perf_spike_test", "baseline-system", N, 0.0, traffic_class="Baseline"),
    case("perf_spike_test", "none", F, 0.0, inv()),
    case("perf_spike_test", "drill-in-two-minutes", P, 1.0, inv(drill("spike", 5, rps=1000, ramp_seconds=120))),
    case("perf_spike_test", "ramp-too-slow", F, 0.0, inv(drill("spike", 5, rps=1000, ramp_seconds=121))),
    case("perf_spike_test", "band-half", F, 0.5, inv(drill("spike", 5, rps=850, ramp_seconds=60))),
    case("perf_spike_test", "band-none", F, 0.0, inv(drill("spike", 5, rps=700, ramp_seconds=60))),
    case("perf_spike_test", "too-old", F, 0.0, inv(drill("spike", 95, rps=1000, ramp_seconds=60))),
    case("perf_spike_test", "perftest-spike", P, 1.0,
         facts({"compute": SVC}, perftest=perftest(spike=perftest_run(sustained_rps=1000, peak_rps=1000)))),
    # perf_overload_test: at most 120 days with a breaking point
    case("perf_overload_test", "none", F, 0.0),
    case("perf_overload_test", "found", P, 1.0, inv(drill("overload", 120, breaking_point_rps=900))),
    case("perf_overload_test", "no-breaking-point", F, 0.0, inv(drill("overload", 10))),
    case("perf_overload_test", "too-old", F, 0.0, inv(drill("overload", 121, breaking_point_rps=900))),
    case("perf_overload_test", "perftest-failed-verdict-still-found-it", P, 1.0,
         facts(perftest=perftest(overload=perftest_run("fail", breaking_point_rps=300, sustained_rps=300)))),
    # perf_breaking_point_headroom: vs FLAS for FLAS systems, Baseline otherwise; 1.5/1.2/1.0 -> 1/0.6/0.3
    case("perf_breaking_point_headroom", "no-test", D, 0.0, inv()),
    case("perf_breaking_point_headroom", "band-full", P, 1.0, inv(drill("overload", 1, breaking_point_rps=1500))),
    case("perf_breaking_point_headroom", "band-0.6", F, 0.6, inv(drill("overload", 1, breaking_point_rps=1200))),
    case("perf_breaking_point_headroom", "band-0.3", F, 0.3, inv(drill("overload", 1, breaking_point_rps=1000))),
    case("perf_breaking_point_headroom", "below-forecast", F, 0.0, inv(drill("overload", 1, breaking_point_rps=999))),
    case("perf_breaking_point_headroom", "baseline-system-vs-baseline", P, 1.0,
         inv(drill("overload", 1, breaking_point_rps=600)), traffic_class="Baseline"),
    # perf_slos_under_test
    case("perf_slos_under_test", "no-test", D, 0.0, inv()),
    case("perf_slos_under_test", "perftest-met", P, 1.0, facts(perftest=perftest(load=perftest_run()))),
    case("perf_slos_under_test", "perftest-missed", F, 0.0, facts(perftest=perftest(load=perftest_run("fail")))),
    case("perf_slos_under_test", "drill-within", P, 1.0, inv(drill("load", 1, rps=400, p99_ms=500, error_rate=0.001))),
    case("perf_slos_under_test", "drill-slow", F, 0.0, inv(drill("load", 1, rps=400, p99_ms=501, error_rate=0.0))),
    case("perf_slos_under_test", "drill-errors", F, 0.0, inv(drill("load", 1, rps=400, p99_ms=100, error_rate=0.01))),
    case("perf_slos_under_test", "drill-unmeasured", F, 0.0, inv(drill("load", 1, rps=400))),
    case("perf_slos_under_test", "drill-without-slo", D, 0.0, inv(drill("load", 1, p99_ms=100), slos=[])),
    # perf_latency_headroom: SLO / measured at its percentile: >= 1.5 full, >= 1.0 half
    case("perf_latency_headroom", "medium-tier", N, 0.0, tier="medium"),
    case("perf_latency_headroom", "no-test", D, 0.0, inv()),
    case("perf_latency_headroom", "band-full", P, 1.0, inv(drill("load", 1, p99_ms=250))),
    case("perf_latency_headroom", "band-half", F, 0.5, inv(drill("load", 1, p99_ms=500))),
    case("perf_latency_headroom", "over-slo", F, 0.0, inv(drill("load", 1, p99_ms=600))),
    case("perf_latency_headroom", "p95-slo-uses-p95", P, 1.0,
         inv(drill("load", 1, p95_ms=200, p99_ms=900),
             slos=[{"id": "s", "latency_ms": 300, "latency_percentile": 95}])),
    case("perf_latency_headroom", "perftest-own-threshold", P, 1.0,
         facts(perftest=perftest(load=perftest_run(p99_ms=200)))),
    case("perf_latency_headroom", "no-slo", D, 0.0, inv(drill("load", 1, p99_ms=100), slos=[])),
]
