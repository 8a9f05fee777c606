"""The Overview's chase list: what a readiness lead chases this morning, as cached tables.

- systems capped by a blocker (a blocker rule in ``readiness.BLOCKING_STATUSES``
  caps the system's score, docs/scoring.md), most points outstanding first;
- the rules failing on most systems, with the points they hold;
- teams and domains furthest behind the target, ties broken by points outstanding;
- milestones: rules with a due date, soonest first, with the systems not meeting them yet.

Every figure comes from readiness' public reads of one run; nothing is aggregated from
results here beyond summing the run's stored summary.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

import readiness
from app import data

FAILING = frozenset(readiness.LOSING_STATUSES)  # counted results that lose points (error is not counted)
ROW_LIMIT = 100_000  # every capped system, even at 10,000 systems


def blocker_rules() -> dict[str, str]:
    """Blocker rule ids with their titles."""
    return {r.meta.id: r.meta.title for r in data.ruleset().rules if r.meta.blocker}


@st.cache_data(ttl=data.RUN_TTL, show_spinner=False)
def capped_systems(url: str, run_id: int) -> pd.DataFrame:
    """Systems whose score a blocker caps: id, name, team, domain, score, points outstanding and
    the blocker rules they miss; most points outstanding first, then lowest score."""
    blocking = sorted(str(s) for s in readiness.BLOCKING_STATUSES)
    missed: dict[str, list[str]] = {}
    for rule_id in sorted(blocker_rules()):
        for row in readiness.rule_results(data.engine(url), run_id, rule_id, statuses=blocking, limit=ROW_LIMIT):
            missed.setdefault(row["system_id"], []).append(rule_id)
    scores = data.system_scores(url, run_id)
    frame = scores[scores["system_id"].isin(missed)].copy()
    frame["blockers"] = frame["system_id"].map(lambda s: ", ".join(missed[s]))
    frame["points_outstanding"] = frame["points_outstanding"].round(1)
    frame = frame.sort_values(["points_outstanding", "score", "system_id"], ascending=[False, True, True])
    return frame[["system_id", "name", "team", "domain", "score", "points_outstanding", "blockers"]].reset_index(
        drop=True)


@st.cache_data(ttl=data.RUN_TTL, show_spinner=False)
def failing_rules(url: str, run_id: int) -> pd.DataFrame:
    """Per rule: systems failing it (counted results losing points) and the points those hold;
    most systems first, ties broken by points."""
    totals: dict[str, dict] = {}
    for row in readiness.rule_summary(data.engine(url), run_id):
        if not row["counted"] or row["status"] not in FAILING:
            continue
        total = totals.setdefault(row["rule_id"], {"rule_id": row["rule_id"], "systems": 0, "points": 0.0})
        total["systems"] += row["results"]
        total["points"] += row["possible"] - row["earned"]
    frame = pd.DataFrame(list(totals.values()), columns=["rule_id", "systems", "points"])
    catalog = data.rule_catalog()[["rule_id", "title", "category", "blocker"]]
    frame = frame.merge(catalog, on="rule_id", how="left")
    frame["title"] = frame["title"].fillna(frame["rule_id"])
    frame["points"] = frame["points"].round(1)
    frame = frame[frame["systems"] > 0].sort_values(["systems", "points", "rule_id"], ascending=[False, False, True])
    return frame[["rule_id", "title", "category", "blocker", "systems", "points"]].reset_index(drop=True)


@st.cache_data(ttl=data.RUN_TTL, show_spinner=False)
def milestones(url: str, run_id: int, today: str) -> pd.DataFrame:
    """Rules with a due date, soonest first: days left (negative: overdue) and the systems not yet
    meeting them (``readiness.NOT_YET_MET_STATUSES``, scheduled rules failing before their date too)."""
    waiting = {str(s) for s in readiness.NOT_YET_MET_STATUSES}
    open_by_rule: dict[str, int] = {}
    for row in readiness.rule_summary(data.engine(url), run_id):
        if row["status"] in waiting:
            open_by_rule[row["rule_id"]] = open_by_rule.get(row["rule_id"], 0) + row["results"]
    engine = data.engine(url)
    metas = [r.meta for r in data.ruleset().rules]
    due_on = readiness.due_dates(readiness.current_season(engine, date.fromisoformat(today)), metas)
    rules = data.rule_catalog()
    frame = rules[rules["rule_id"].isin(due_on)][["rule_id", "title", "kind"]].copy()
    frame["due"] = frame["rule_id"].map(due_on)
    frame["systems"] = frame["rule_id"].map(open_by_rule).fillna(0).astype(int)
    frame["due"] = pd.to_datetime(frame["due"])
    frame["days_left"] = (frame["due"] - pd.Timestamp(today)).dt.days
    frame["due"] = frame["due"].dt.date
    frame = frame[frame["systems"] > 0].sort_values(["due", "systems", "rule_id"], ascending=[True, False, True])
    return frame.reset_index(drop=True)


@st.cache_data(ttl=data.RUN_TTL, show_spinner=False)
def units_behind(url: str, run_id: int, level: str, target: float = 100.0) -> pd.DataFrame:
    """Teams or domains furthest below ``target`` (score points behind), ties broken by points outstanding."""
    frame = data.unit_scores(url, run_id, level)[["key", "name", "score", "points_outstanding", "systems"]].copy()
    frame["behind"] = (target - frame["score"]).clip(lower=0).round(1)
    frame["points_outstanding"] = frame["points_outstanding"].round(1)
    frame = frame.sort_values(["behind", "points_outstanding", "key"], ascending=[False, False, True])
    return frame.reset_index(drop=True)


SYSTEM_LINK = st.column_config.LinkColumn("system", display_text=r"id=(.*)$",
                                          help="Open the system's findings")
RULE_LINK = st.column_config.LinkColumn("rule", display_text=r"rule=(.*)$", help="Open the rule's page")


def show(url: str, run_id: int, *, systems_total: int, target: float | None) -> None:
    """The chase list as tabs: capped systems, failing rules, teams and domains behind."""
    from app import fmt

    st.subheader("What to chase")
    capped = capped_systems(url, run_id)
    rules = failing_rules(url, run_id)
    goal = target if target is not None else 100.0
    against = f"the {fmt.pct(goal, 0)} target" if target is not None else "100%"
    due = milestones(url, run_id, data.today().isoformat())
    overdue = int((due["days_left"] < 0).sum())
    tabs = st.tabs([f"Capped by blockers ({fmt.number(len(capped))})", "Rules failing most",
                    "Teams furthest behind", "Domains furthest behind",
                    f"Milestones ({fmt.number(overdue)} overdue)" if overdue else "Milestones"])
    with tabs[0]:
        st.caption(f"{fmt.count(len(capped), 'system')} of {fmt.number(systems_total)} miss a blocker rule, which "
                   f"caps their score at {fmt.pct(readiness.BLOCKER_CAP, 0)} whatever else they do. Most points outstanding first.")
        if not capped.empty:
            shown = capped.assign(system_id="/system?id=" + capped["system_id"])
            st.dataframe(shown, hide_index=True, width="stretch", key="chase_capped", column_config={
                "system_id": SYSTEM_LINK, "score": st.column_config.NumberColumn("score (%)", format="%.1f"),
                "points_outstanding": st.column_config.NumberColumn("points outstanding", format="localized"),
                "blockers": st.column_config.TextColumn("blocker rules missed")})
    with tabs[1]:
        st.caption("Rules by the number of systems failing them (counted results losing points: failed, no data, "
                   "expired, pending review), with the points those systems would earn by meeting them.")
        top = rules.head(15).assign(rule_id=lambda f: "/rules?rule=" + f["rule_id"])
        st.dataframe(top, hide_index=True, width="stretch", key="chase_rules", column_config={
            "rule_id": RULE_LINK, "blocker": st.column_config.CheckboxColumn("blocker"),
            "systems": st.column_config.NumberColumn("systems failing", format="localized"),
            "points": st.column_config.NumberColumn("points outstanding", format="localized")})
    with tabs[4]:
        st.caption("Rules with a due date (scheduled checks and team-managed sign-offs), soonest first, with the "
                   "systems not meeting them yet; negative days: overdue.")
        st.dataframe(due.assign(rule_id="/rules?rule=" + due["rule_id"], kind=due["kind"].str.replace("-", " ")),
                     hide_index=True, width="stretch", column_config={
                         "rule_id": RULE_LINK, "due": st.column_config.DateColumn("due", format="YYYY-MM-DD"),
                         "systems": st.column_config.NumberColumn("systems not meeting it", format="localized"),
                         "days_left": st.column_config.NumberColumn("days left", format="localized")})
    for tab, level in ((tabs[2], "team"), (tabs[3], "domain")):
        with tab:
            behind = units_behind(url, run_id, level, goal).head(15)
            st.caption(f"Score points below {against}; ties broken by points outstanding.")
            behind = behind.assign(key=f"/units?level={level}&key=" + behind["key"])
            st.dataframe(behind, hide_index=True, width="stretch", key=f"chase_{level}",
                         column_order=["key", "name", "score", "behind", "points_outstanding", "systems"],
                         column_config={
                             "key": st.column_config.LinkColumn(level, display_text=r"key=(.*)$"),
                             "score": st.column_config.NumberColumn("score (%)", format="%.1f"),
                             "behind": st.column_config.NumberColumn("points behind target", format="%.1f"),
                             "points_outstanding": st.column_config.NumberColumn("points outstanding",
                                                                                 format="localized")})
