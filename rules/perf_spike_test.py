"""FLAS systems passed a spike test to the FLAS rate within two minutes."""

from readiness.capacity import forecast
from readiness.rulekit import (
    Applicability,
    Band,
    Facts,
    RuleMeta,
    SystemView,
    failed,
    weeks_before,
)
from rules._perf import rate_against_forecast, recent_passing_test

META = RuleMeta(
    id="perf_spike_test",
    title="Spike test to the FLAS rate within two minutes",
    category="performance",
    severity="critical",
    rationale="A flash sale takes traffic from Baseline to 8x (up to 40x) within two minutes; only "
              "a spike test shows that the system absorbs the surge before autoscaling catches up.",
    remediation="Run `perftest run --type spike` from the Baseline to the FLAS rate from `kapacity "
                "capacity` with a ramp of at most 2 minutes (or record a spike drill with rps and "
                "ramp_seconds), and make it pass.",
    applies_to=Applicability(traffic_classes=("FLAS",)),
    bands=(Band(at_least=1.0, credit=1.0), Band(at_least=0.8, credit=0.5)),
    due=weeks_before(4),
    facts=("perftest", "inventory", "kapacity"),
)

MAX_AGE_DAYS = 90
MAX_RAMP_S = 120


def evaluate(system: SystemView, facts: Facts):
    """The latest spike test (perftest ``spike`` run or inventory drill of kind ``spike``) must
    have passed, be at most 90 days old and, when its ramp is recorded, have reached its rate
    within 120 s; the rate reached divided by the FLAS forecast is graded by the bands."""
    test, failure = recent_passing_test(facts, "spike", MAX_AGE_DAYS, label="spike test")
    if failure:
        return failure
    evidence = [test.evidence()]
    if test.ramp_seconds is not None and test.ramp_seconds > MAX_RAMP_S:
        return failed(f"the spike test ramped over {test.ramp_seconds:.0f} s (a flash sale takes {MAX_RAMP_S} s)",
                      evidence)
    _, flas, origin = forecast(facts)
    return rate_against_forecast(META, test, evidence, flas, forecast="FLAS", origin=origin, verb="reached")
