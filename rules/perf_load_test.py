"""A passing load test at the forecast peak within the last 90 days."""

from datetime import date

from readiness.capacity import forecast
from readiness.rulekit import Band, Facts, RuleMeta, SystemView, failed, graded, no_data
from rules._perf import fresh, latest_test

META = RuleMeta(
    id="perf_load_test",
    title="Passing load test at the forecast peak within 90 days",
    category="performance",
    severity="critical",
    rationale="Only a load test at the forecast peak shows that the system, its database and its "
              "dependencies hold the rate Black Friday brings (over 3x a normal day) within SLO; "
              "everything else is an estimate.",
    remediation="Run `perftest run --type load` at the Baseline forecast from `kapacity capacity` "
                "(or record a load-test drill with the rate held), fix what breaks, and repeat until "
                "it passes; tests older than 90 days must be repeated.",
    bands=(Band(at_least=1.0, credit=1.0), Band(at_least=0.8, credit=0.5)),
    due=date(2027, 9, 15),
    facts=("perftest", "inventory", "kapacity"),
)

MAX_AGE_DAYS = 90


def evaluate(system: SystemView, facts: Facts):
    """The latest load test (perftest ``load`` run or inventory drill of kind ``load``,
    whichever is newer) must have passed and be at most 90 days old; the rate it held,
    divided by the Baseline forecast, is graded by the bands (at least 1.0 full credit,
    0.8 half). Before the due date a failure is a warning."""
    test = latest_test(facts, "load")
    if test is None:
        return failed("no load test recorded")
    evidence = [test.evidence()]
    if not test.passed:
        return failed(f"the latest load test ({test.ref}) failed", evidence)
    if not fresh(test, MAX_AGE_DAYS):
        return failed(f"the latest load test ({test.ref}) is {test.age_days} days old (at most {MAX_AGE_DAYS})",
                      evidence)
    baseline, _, origin = forecast(facts)
    if baseline is None:
        return no_data("no Baseline forecast to compare the load test with")
    if test.rps is None:
        return failed(f"the load test {test.ref} does not record the rate it held", evidence)
    ratio = test.rps / baseline
    evidence.append({"baseline_rps": round(baseline, 2), "forecast_from": origin, "ratio": round(ratio, 3)})
    return graded(META.credit_for(ratio),
                  f"load test {test.ref} held {test.rps:.0f} rps, {ratio:.2f}x the Baseline forecast "
                  f"{baseline:.0f} rps", evidence)
