"""The Overview's "what changed": the latest run compared with the run current yesterday, a week
ago, or a chosen run, with dates; data refreshes told apart from team work.

Each result that changed between the two runs carries its cause from
``readiness.result_changes`` (team: a review or a waiver; data: new facts from a collection or
an import, or the catalog; rule: a new rule version; time: due dates passing, facts going
stale, waivers expiring). The team's actions in the period come from governance's audit log.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from app import data, fmt

PERIODS = ("since yesterday", "since last week", "since a chosen run")
CAUSES = {"team": "Team work", "data": "Data refreshes", "rule": "Rule changes", "time": "Time passing"}
CAUSE_HELP = {
    "team": "Results that moved because a review was submitted, decided or expired, or a waiver was granted, "
            "requested or ended",
    "data": "Results that moved because collected facts changed (a collection or an inventory import) or the "
            "catalog changed (systems added or retired)",
    "rule": "Results that moved because the rule itself changed version",
    "time": "Results that moved with nothing new: a due date passed, facts went stale, a waiver expired",
}
TEAM_ACTIONS = {"review.submitted": ("review submitted", "reviews submitted"),
                "review.approved": ("review approval", "review approvals"),
                "review.rejected": ("review rejected", "reviews rejected"),
                "waiver.requested": ("waiver requested", "waivers requested"),
                "waiver.approved": ("waiver approved", "waivers approved"),
                "waiver.revoked": ("waiver revoked", "waivers revoked")}
SHOWN = 200


def baseline(runs: pd.DataFrame, period: str, now: datetime, chosen: int | None = None) -> int | None:
    """The run to compare with: the one current at the start of the period (the newest run started
    at or before then), or the chosen one; None when there is none older than the latest."""
    if runs.empty:
        return None
    latest = int(runs["run_id"].max())
    if period == PERIODS[2]:
        return chosen if chosen is not None and chosen != latest else None
    since = now - (timedelta(days=1) if period == PERIODS[0] else timedelta(days=7))
    earlier = runs[(pd.to_datetime(runs["at"]) <= pd.Timestamp(since)) & (runs["run_id"] != latest)]
    return int(earlier["run_id"].max()) if not earlier.empty else None


def pick(url: str, run_id: int) -> int | None:
    """The period selector; returns the run to compare with (None: nothing to compare)."""
    runs = data.runs(url, run_id)
    left, right = st.columns([2, 3])
    period = left.segmented_control("Compare with", PERIODS, default=PERIODS[1], key="changes_period") or PERIODS[1]
    chosen = None
    if period == PERIODS[2]:
        older = runs[runs["run_id"] != run_id]
        options = older["run_id"].tolist()
        at = dict(zip(older["run_id"], older["at"], strict=True))
        if options:
            chosen = right.selectbox("Run", options, key="changes_run",
                                     format_func=lambda r: f"run {r} · {fmt.moment(at[r])}")
    since = baseline(runs, period, data.now(), chosen)
    if since is not None:
        right.caption(f"Changes below and the score deltas compare the latest run with {label(url, run_id, since)}"
                      + ("." if period == PERIODS[2] else f", the run current {period.removeprefix('since ')}."))
    return since


def label(url: str, run_id: int, since: int) -> str:
    runs = data.runs(url, run_id).set_index("run_id")["at"]
    return f"run {since} of {fmt.moment(runs.get(since))}"


def split(url: str, since: int, run_id: int) -> pd.DataFrame:
    """The changed results as a table: system, rule, before, after, points, cause."""
    diff = data.result_changes(url, since, run_id)
    columns = ["system_id", "rule_id", "before", "after", "points", "cause"]
    return pd.DataFrame(diff["changes"], columns=columns)


def team_actions(url: str, start, end) -> dict[str, int]:
    """Reviews and waivers acted on between two moments, from the audit log."""
    entries = [e for e in data.audit(url, None, 5000)
               if e.get("action") in TEAM_ACTIONS and start is not None
               and pd.Timestamp(start) < pd.Timestamp(e["at"]) <= pd.Timestamp(end)]
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    return counts


def show(url: str, run_id: int, since: int | None) -> None:
    """What changed between ``since`` and ``run_id``, split by cause."""
    st.subheader("What changed")
    if since is None:
        st.info("No earlier run for this period: pick another period or a run, or evaluate again "
                "(`readiness evaluate`) to compare.", icon=":material/history:")
        return
    runs = data.runs(url, run_id).set_index("run_id")["at"]
    start, end = runs.get(since), runs.get(run_id)
    st.caption(f"Run {run_id} of {fmt.moment(end)} compared with {label(url, run_id, since)}.")
    frame = split(url, since, run_id)
    cols = st.columns(len(CAUSES))
    for col, (cause, title) in zip(cols, CAUSES.items(), strict=True):
        part = frame[frame["cause"] == cause]
        col.metric(title, fmt.count(len(part), "result"),
                   delta=f"{fmt.signed(part['points'].sum(), 1)} points" if len(part) else None,
                   delta_color="normal", help=CAUSE_HELP[cause])
    actions = team_actions(url, start, datetime.now())
    if actions:
        st.caption("The team in this period: " + ", ".join(
            fmt.count(actions[a], one, many) for a, (one, many) in TEAM_ACTIONS.items() if actions.get(a)) + ".")
    else:
        st.caption("No review or waiver was submitted or decided in this period.")
    if frame.empty:
        st.caption("No result changed.")
        return
    tabs = st.tabs([f"{title} ({fmt.number(int((frame['cause'] == cause).sum()))})" for cause, title in CAUSES.items()])
    for tab, cause in zip(tabs, CAUSES, strict=True):
        with tab:
            part = frame[frame["cause"] == cause]
            if part.empty:
                st.caption("Nothing of this kind in this period.")
                continue
            part = part.assign(size=part["points"].abs()).sort_values(["size", "system_id"], ascending=[False, True])
            if len(part) > SHOWN:
                st.caption(f"The {SHOWN} with most points at stake of {fmt.number(len(part))}.")
            shown = part.head(SHOWN).assign(
                system_id="/system?id=" + part["system_id"], rule_id="/rules?rule=" + part["rule_id"],
                before=part["before"].map(_status), after=part["after"].map(_status))
            st.dataframe(shown, hide_index=True, width="stretch", key=f"changes_{cause}",
                         column_order=["system_id", "rule_id", "before", "after", "points"],
                         column_config={
                             "system_id": st.column_config.LinkColumn("system", display_text=r"id=(.*)$"),
                             "rule_id": st.column_config.LinkColumn("rule", display_text=r"rule=(.*)$"),
                             "before": "before", "after": "after",
                             "points": st.column_config.NumberColumn("points earned", format="%+.1f")})


def _status(value) -> str:
    from app.palette import STATUS_LABELS

    if fmt.missing(value):
        return "not evaluated"
    return STATUS_LABELS.get(value, str(value))
