"""A DDoS fire drill was done this season."""

from readiness.rulekit import Applicability, Facts, RuleMeta, SystemView, passed, weeks_before
from rules._perf import recent_passing_test

META = RuleMeta(
    id="ddos_fire_drill",
    title="DDoS fire drill within the last 180 days",
    category="ddos",
    severity="high",
    rationale="The first DDoS of the season should not be the first time the team switches on "
              "emergency rules or calls the provider; a drill finds the missing permission or the "
              "stale contact.",
    remediation="Run a DDoS fire drill with the security team (simulate the attack, switch on the "
                "emergency rate limits, reach the provider) and record it as a drill of kind ddos.",
    applies_to=Applicability(public_only=True),
    due=weeks_before(2),
    facts=("inventory",),
)

MAX_AGE_DAYS = 180


def evaluate(system: SystemView, facts: Facts):
    """The latest drill of kind ``ddos`` must have passed and be at most 180 days old."""
    drill, failure = recent_passing_test(facts, "ddos", MAX_AGE_DAYS, label="DDoS drill",
                                         missing="no DDoS fire drill recorded")
    if failure:
        return failure
    return passed(f"DDoS drill {drill.ref} passed {drill.age_days} days ago", drill.evidence())
