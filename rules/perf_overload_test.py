"""An overload test found the system's breaking point."""

from readiness.rulekit import Facts, RuleMeta, SystemView, failed, passed
from rules._perf import fresh, latest_test

META = RuleMeta(
    id="perf_overload_test",
    title="Overload test found the breaking point within 120 days",
    category="performance",
    severity="high",
    rationale="Knowing where and how the system breaks (which resource saturates first, whether it "
              "sheds load or falls over) is what lets the on-call engineer act before it happens, "
              "and tells how much headroom there really is.",
    remediation="Run `perftest run --type overload` stepping past the forecast until the system "
                "breaks (or record an overload drill with breaking_point_rps), and note which "
                "resource saturated first.",
    facts=("perftest", "inventory"),
)

MAX_AGE_DAYS = 120


def evaluate(system: SystemView, facts: Facts):
    """The latest overload test (perftest ``overload`` run or drill of kind ``overload``) must
    be at most 120 days old and have recorded a breaking point; its verdict against the
    forecast is judged by perf_breaking_point_headroom."""
    test = latest_test(facts, "overload")
    if test is None:
        return failed("no overload test recorded")
    evidence = test.evidence()
    if not fresh(test, MAX_AGE_DAYS):
        return failed(f"the latest overload test ({test.ref}) is {test.age_days} days old (at most {MAX_AGE_DAYS})",
                      evidence)
    if test.breaking_point_rps is None:
        return failed(f"the overload test {test.ref} did not find a breaking point: step further", evidence)
    return passed(f"overload test {test.ref} found the breaking point at {test.breaking_point_rps:.0f} rps",
                  evidence)
