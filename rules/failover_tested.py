"""Failover was exercised and passed within the season."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, failed, passed
from rules._perf import recent_passing_test

META = RuleMeta(
    id="failover_tested",
    title="Failover tested within the last 180 days",
    category="resilience",
    severity="high",
    rationale="Failover that has not been exercised fails in ways nobody predicted (stale DNS, "
              "cold caches, missing permissions); testing it before peak turns an outage into a "
              "blip.",
    remediation="Run a failover test under load (`perftest run --type failover`) or a failover "
                "drill, make it pass (recovery within 5 minutes), and record it as a drill asset "
                "when it ran outside perftest.",
    applies_to=Applicability(tiers=("critical", "high")),
    facts=("perftest", "inventory"),
)

MAX_AGE_DAYS = 180
MAX_RECOVERY_S = 300


def evaluate(system: SystemView, facts: Facts):
    """The latest failover test (perftest ``failover`` run or inventory drill of kind
    ``failover``, whichever is newer) must have passed, be at most 180 days old and, when its
    recovery time is known, have recovered within 300 seconds."""
    test, failure = recent_passing_test(facts, "failover", MAX_AGE_DAYS, label="failover test",
                                        missing="no failover test or drill recorded")
    if failure:
        return failure
    evidence = test.evidence()
    if test.time_to_recovery_s is not None and test.time_to_recovery_s > MAX_RECOVERY_S:
        return failed(f"recovery took {test.time_to_recovery_s:.0f} s (at most {MAX_RECOVERY_S} s)", evidence)
    return passed(f"failover test {test.ref} passed {test.age_days} days ago", evidence)
