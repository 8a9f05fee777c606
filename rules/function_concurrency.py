"""Serverless functions have concurrency reserved for their peak."""

from readiness.rulekit import Band, Facts, RuleMeta, SystemView, graded, no_data, not_applicable

META = RuleMeta(
    id="function_concurrency",
    title="Function concurrency reserved for the peak",
    category="capacity",
    severity="medium",
    rationale="Functions share the account's concurrency limit; without a reservation a surge in "
              "another function throttles this one, and the throttled calls fail.",
    remediation="Set reserved concurrency to at least 1.2x the expected peak concurrency of each "
                "function (and raise the account limit to cover the reservations).",
    bands=(Band(at_least=1.2, credit=1.0), Band(at_least=1.0, credit=0.5)),
    facts=("inventory",),
)


def evaluate(system: SystemView, facts: Facts):
    """For each function, ``reserved_concurrency`` / ``peak_concurrency``; the smallest ratio
    is graded (1.2 full credit, 1.0 half). No reservation counts as ratio 0."""
    functions = facts.assets("functions")
    if not functions:
        return not_applicable("the system has no functions")
    ratios = []
    for fn in functions:
        peak = fn.get("peak_concurrency")
        if peak is None:
            return no_data(f"{fn['id']}: peak_concurrency not recorded")
        reserved = fn.get("reserved_concurrency") or 0
        ratios.append((reserved / peak if peak else float("inf"), fn["id"], reserved, peak))
    ratio, worst, reserved, peak = min(ratios)
    evidence = [{"asset": i, "reserved": r, "peak": p, "ratio": round(x, 3)} for x, i, r, p in ratios]
    return graded(META.credit_for(ratio), f"{worst}: {reserved} reserved for a peak of {peak} ({ratio:.2f}x)",
                  evidence)
