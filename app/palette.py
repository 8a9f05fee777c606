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
