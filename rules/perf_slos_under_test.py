"""The load test met the system's SLOs."""

from readiness.rulekit import Facts, RuleMeta, SystemView, failed, no_data, passed, weeks_before
from rules._perf import latest_test, measured_latency, system_slo

META = RuleMeta(
    id="perf_slos_under_test",
    title="SLO thresholds met under load",
    category="performance",
    severity="high",
    rationale="Holding the peak rate is not enough if latency or errors breach the SLO while doing "
              "it: customers abandon slow checkouts, and merchants measure us by error rates.",
    remediation="Find what slows down or fails under load (pool waits, slow queries, a saturated "
                "dependency), fix it and repeat the load test until latency and error rate stay "
                "within the SLO.",
    due=weeks_before(6),
    facts=("perftest", "inventory"),
)


def evaluate(system: SystemView, facts: Facts):
    """For the latest load test: a perftest run passes when perftest judged its SLOs met; a
    drill passes when its latency at the SLO percentile (p95, else p99) and its error rate are
    within the system's strictest slo asset. No load test, or no SLO for a drill: no data."""
    test = latest_test(facts, "load")
    if test is None:
        return no_data("no load test recorded (see perf_load_test)")
    evidence = [test.evidence()]
    if test.slos_met is not None:
        if test.slos_met:
            return passed(f"load test {test.ref} met its SLO thresholds", evidence)
        return failed(f"load test {test.ref} missed its SLO thresholds", evidence)
    slo = system_slo(facts)
    if slo is None:
        return no_data("no SLO registered to judge the load test against (see slo_defined)")
    evidence.append({"slo": slo})
    problems = []
    if "latency_ms" in slo:
        latency = measured_latency(test, slo["latency_percentile"])
        if latency is None:
            problems.append(f"no p{slo['latency_percentile']:g} latency recorded")
        elif latency > slo["latency_ms"]:
            problems.append(f"p{slo['latency_percentile']:g} {latency:.0f} ms > {slo['latency_ms']:.0f} ms")
    if "error_rate" in slo:
        if test.error_rate is None:
            problems.append("no error rate recorded")
        elif test.error_rate > slo["error_rate"]:
            problems.append(f"error rate {test.error_rate:.2%} > {slo['error_rate']:.2%}")
    if problems:
        return failed(f"load test {test.ref}: {'; '.join(problems)}", evidence)
    return passed(f"load test {test.ref} stayed within the SLO", evidence)
