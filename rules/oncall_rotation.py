"""An on-call rotation with at least two people."""

from readiness.rulekit import Facts, RuleMeta, SystemView, failed, no_data, passed

META = RuleMeta(
    id="oncall_rotation",
    title="On-call rotation with people in it",
    category="availability",
    severity="critical",
    blocker=True,
    rationale="Incidents during peak need someone paged within minutes; a rotation of one person "
              "means nobody when that person is unavailable.",
    remediation="Create an on-call rotation with at least two engineers for the owning team and "
                "link it to the system's alerts.",
    facts=("inventory",),
)

MIN_PEOPLE = 2


def evaluate(system: SystemView, facts: Facts):
    """The largest oncall_rotation needs at least two distinct members; no rotation at all is
    no data."""
    rotations = facts.assets("oncall")
    if not rotations:
        return no_data("no on-call rotation in the inventory")
    best = max(rotations, key=lambda r: len(r.get("members") or []))
    people = len(set(best.get("members") or []))
    evidence = [{"asset": r["id"], "members": len(set(r.get("members") or []))} for r in rotations]
    if people >= MIN_PEOPLE:
        return passed(f"rotation {best['id']} has {people} people", evidence)
    return failed(f"largest rotation {best['id']} has {people} people (need {MIN_PEOPLE})", evidence)
