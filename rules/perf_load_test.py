"""A passing load test at the forecast peak within the last 90 days."""

from readiness.capacity import forecast
from readiness.rulekit import Band, Facts, RuleMeta, SystemView, weeks_before
from rules._perf import rate_against_forecast, recent_passing_test

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
    due=weeks_before(6),
    facts=("perftest", "inventory", "kapacity"),
)

MAX_AGE_DAYS = 90


def evaluate(system: SystemView, facts: Facts):
    """The latest load test (perftest ``load`` run or inventory drill of kind ``load``,
    whichever is newer) must have passed and be at most 90 days old; the rate it held,
    divided by the Baseline forecast, is graded by the bands (at least 1.0 full credit,
    0.8 half). Before the due date a failure is a warning."""
    test, failure = recent_passing_test(facts, "load", MAX_AGE_DAYS, label="load test")
    if failure:
        return failure
    evidence = [test.evidence()]
    baseline, _, origin = forecast(facts)
    return rate_against_forecast(META, test, evidence, baseline, forecast="Baseline", origin=origin, verb="held")
