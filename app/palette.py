"""Colours and labels that carry meaning, shared by the charts (hex) and the pages (badges).

Its own module so ``app.charts`` and ``app.ui`` both import it and not each other.
"""

STATUS_COLORS = {
    "pass": "#1a9850", "waived": "#4575b4", "warning": "#fdae61", "pending_review": "#f4a582",
    "no_data": "#878787", "fail": "#d73027", "expired": "#a50026", "error": "#762a83",
    "not_applicable": "#d9d9d9",
}
STATUS_BADGES = {
    "pass": "green", "waived": "blue", "warning": "orange", "pending_review": "orange", "no_data": "gray",
    "fail": "red", "expired": "red", "error": "violet", "not_applicable": "gray",
}
STATUS_LABELS = {"pending_review": "pending review", "no_data": "no data", "not_applicable": "not applicable"}
VERDICT_BADGES = {"pass": "green", "fail": "red", "invalid": "orange", "error": "violet", "timeout": "orange",
                  "interrupted": "gray"}
TEXT_COLORS = {"green": "#1a7f37", "blue": "#1f5fbf", "orange": "#b35900", "red": "#c62828", "violet": "#6a3d9a",
               "gray": "#6b6b6b"}

# Perftest verdicts and flash-sale states as chart colours (the badges above name the same hues).
VERDICT_COLORS = {"pass": "#1a9850", "fail": "#d73027", "invalid": "#fdae61", "error": "#762a83",
                  "timeout": "#f46d43", "interrupted": "#878787"}
SALE_COLORS = {"increase_requested": "#f4a582", "approved": "#4575b4", "scheduled": "#74add1", "live": "#762a83",
               "completed": "#bababa", "no_change_needed": "#1a9850", "rejected": "#d73027", "cancelled": "#878787"}

# Scores: red up to the blocker cap (a capped system is at most there), amber on the way, green near
# the target. The stops come from the scoring policy (``readiness.BLOCKER_CAP``) and the target.
SCORE_COLORS = ("#a50026", "#f46d43", "#fee08b", "#a6d96a", "#1a9850")


def score_stops(blocker_cap: float, target: float = 100.0) -> list[float]:
    """Where SCORE_COLORS sit on 0–100: 0, the blocker cap, two steps between, the target."""
    step = (target - blocker_cap) / 3
    return [0.0, blocker_cap, blocker_cap + step, blocker_cap + 2 * step, target]


# Lines every chart draws the same way.
SERIES_COLORS = {"score": "#313695", "target": "#4575b4", "history": "#4575b4", "forecast": "#b2182b",
                 "band": "#f4a582", "Baseline": "#1a9850", "FLAS": "#762a83", "breaking point": "#d73027",
                 "projection": "#b35806", "now": "#222222", "season": "#8073ac", "sale": "#d6604d"}
