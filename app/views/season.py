"""Season: the peak season's window, target, milestones, progress and report; the readiness team
and admins create, change and close seasons here (everyone else reads)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from app import actions, auth, charts, data, fmt, governance_ui, permissions, ui

TIERS = ("critical", "high", "medium", "low")
TRAFFIC_CLASSES = ("FLAS", "Baseline")

url = data.db_url()
user = auth.current()
manager = permissions.may_manage_seasons(user)

st.title("Season")
if not data.schema_ready(url):
    ui.empty("The database has no readiness tables yet", "readiness demo --db URL")
    st.stop()
governance_ui.flash()

seasons = data.seasons(url)
domains = sorted(data.org(url).query("level == 'domain'")["key"]) if seasons or manager else []


def _scope_text(scope: dict) -> str:
    parts = [f"{label}: {', '.join(scope[key])}" for key, label in
             (("domains", "domains"), ("tiers", "tiers"), ("traffic_classes", "traffic classes")) if scope.get(key)]
    return "; ".join(parts) if parts else "every system"


def _milestones_text(milestones: dict) -> str:
    return ", ".join(f"{key}={days // 7}w" if days % 7 == 0 else f"{key}={days}d" for key, days in milestones.items())


def _changed(change: dict) -> str:
    """What one recorded change changed, in words: "target_score: 100.0 → 95.0"."""
    before, after = change["before"] or {}, change["after"] or {}
    if not before:
        return "created"
    shown = lambda v: "none" if v in (None, {}, []) else str(v)  # noqa: E731
    return "; ".join(f"{field.replace('_', ' ')}: {shown(before.get(field))} → {shown(value)}"
                     for field, value in after.items() if before.get(field) != value) or "nothing"


def _season_form(key: str, season: dict | None) -> None:
    """The create form (``season`` None) or the update form of an open season."""
    today = date.today()
    with st.form(key):
        if season is None:
            season_key = st.text_input("Key", placeholder=f"peak-{today.year}", help="e.g. peak-2027")
        name = st.text_input("Name", value=season["name"] if season else "")
        cols = st.columns(2)
        starts = cols[0].date_input("Peak window starts", value=date.fromisoformat(season["starts_on"]) if season
                                    else today + timedelta(days=60))
        ends = cols[1].date_input("Peak window ends", value=date.fromisoformat(season["ends_on"]) if season
                                  else today + timedelta(days=90))
        target = cols[0].date_input("Target date", value=date.fromisoformat(season["target_date"]) if season
                                    else today + timedelta(days=30))
        score = cols[1].number_input("Target score", min_value=1.0, max_value=100.0, step=1.0,
                                     value=float(season["target_score"]) if season else 100.0)
        freeze = cols[0].date_input("Change freeze from (optional)",
                                    value=date.fromisoformat(season["freeze_on"]) if season and season["freeze_on"]
                                    else None)
        scope = (season or {}).get("scope") or {}
        chosen_domains = st.multiselect("Scope: domains (none: all)", domains,
                                        default=[d for d in scope.get("domains", []) if d in domains])
        chosen_tiers = cols[1].multiselect("Scope: tiers (none: all)", TIERS, default=scope.get("tiers", []))
        chosen_classes = st.multiselect("Scope: traffic classes (none: all)", TRAFFIC_CLASSES,
                                        default=scope.get("traffic_classes", []))
        milestones = st.text_input(
            "Move milestones", help="CATEGORY=OFFSET or rule:RULE_ID=OFFSET, separated by commas, e.g. "
            "capacity=-8w, rule:ddos_fire_drill=-10d; OFFSET 'default' goes back to the rule's own.",
            placeholder="capacity=-8w")
        submitted = st.form_submit_button("Create season" if season is None else "Save changes")
    if not submitted:
        return
    fields = {"name": name, "starts_on": starts, "ends_on": ends, "target_date": target, "target_score": score,
              "freeze_on": freeze, "scope": {"domains": chosen_domains, "tiers": chosen_tiers,
                                             "traffic_classes": chosen_classes}}
    if season is None:
        governance_ui.finish(actions.create_season(user, {"key": season_key.strip(), **fields}, milestones))
    else:
        governance_ui.finish(actions.update_season(user, season["key"], fields, milestones))


if not seasons:
    st.info("No season yet. A season sets the peak window, the score to reach and by when, and when each "
            "scheduled rule is due." + ("" if manager else " The readiness team creates it (here or with "
                                        "`readiness season create`)."), icon=":material/info:")
    if manager:
        st.subheader("Create a season")
        _season_form("season_create", None)
    st.stop()

by_key = {s["key"]: s for s in seasons}
default = next((s["key"] for s in seasons if s["current"]), seasons[0]["key"])
chosen = ui.query_param("key") if ui.query_param("key") in by_key else default
key = st.selectbox("Season", list(by_key), index=list(by_key).index(chosen),
                   format_func=lambda k: f"{by_key[k]['name']} ({k})" + (" · current" if by_key[k]["current"] else "")
                   + (" · closed" if by_key[k]["closed_at"] else ""))
season = by_key[key]
detail = data.season_detail(url, key)
progress = detail["progress"]

window = f"{fmt.day(season['starts_on'])} to {fmt.day(season['ends_on'])}"
freeze = f" · change freeze from {fmt.day(season['freeze_on'])}" if season["freeze_on"] else ""
closed = f" · closed on {fmt.day(season['closed_at'][:10])}" if season["closed_at"] else ""
st.caption(f"Peak window {window} · target {fmt.pct(season['target_score'], 0)} by {fmt.day(season['target_date'])}"
           f"{freeze} · scope: {_scope_text(season['scope'])}{closed}")

cols = st.columns(4)
if progress:
    cols[0].metric("Season score", ui.pct(progress["score"]), help="Criticality-weighted mean of the systems in scope")
    cols[1].metric("Gap to the target", f"{fmt.number(progress['gap'])} points")
    cols[2].metric("Days to the target", progress["days_left"], help=season["target_date"])
    cols[3].metric("Projected to reach it", progress["projected_date"] or "not at this pace",
                   delta="on track" if progress["on_track"] else "late",
                   delta_color="normal" if progress["on_track"] else "inverse",
                   help="Least-squares line through the season's runs of the last four weeks")
else:
    st.info(f"No evaluation run in season {key} yet: the next `readiness evaluate` is counted in it.",
            icon=":material/info:")

scores = detail["scores"]
if not scores.empty:
    st.subheader("Burn-up")
    st.vega_lite_chart(charts.spec(charts.burn_up(scores, season["target_score"])), width="stretch")
    st.caption(f"The season's score in each of its {len(scores)} runs, against the target.")

st.subheader("Milestones")
milestones = detail["milestones"]
if milestones.empty:
    st.caption("No scheduled rule in the pack: every rule is simply due.")
else:
    overrides = season["milestones"]
    st.caption("When each scheduled rule is due in this season: before its date a rule that is not met shows as a "
               "warning; from that date on it counts. " + (f"Moved by the readiness team: {_milestones_text(overrides)}."
                                                          if overrides else "Every rule at its own default."))
    grouped = (milestones.groupby("due").agg(rules=("rule_id", lambda r: ", ".join(r)),
                                             categories=("category", lambda c: ", ".join(sorted(set(c)))))
               .reset_index())
    grouped["when"] = [("passed" if d < date.today() else f"in {(d - date.today()).days} days") for d in grouped["due"]]
    st.dataframe(grouped.rename(columns={"due": "Due", "rules": "Rules due", "categories": "Categories",
                                         "when": "When"}), hide_index=True, width="stretch")

st.subheader("Season report")
st.caption("Final and per-milestone scores, the waivers used, and Kapacity's forecast and perftest's breaking "
           "points against the actual peak, once the peak window's history is in the folder Kapacity reads "
           "(KAPACITY_HISTORY_DIR). The same report as `readiness season report " + key + "`.")
report = data.season_report(url, key)
markdown = report["markdown"]
cols = st.columns(2)
cols[0].download_button("Download the report (Markdown)", markdown, file_name=f"season-report-{key}.md",
                        mime="text/markdown", icon=":material/download:")
cols[1].download_button("Download the report (HTML)", report["html"],
                        file_name=f"season-report-{key}.html", mime="text/html", icon=":material/download:")
with st.expander("Read the report here"):
    st.markdown(markdown)

st.subheader("Changes")
history = detail["history"]
if history:
    st.dataframe(pd.DataFrame([{"When": fmt.moment(h["at"]), "Who": h["actor"], "What": h["action"],
                                "Changed": _changed(h)} for h in history]), hide_index=True, width="stretch")
else:
    st.caption("No recorded change.")

if not manager:
    st.info("You can read the season; only the readiness team and admins create, change or close one.",
            icon=":material/visibility:")
    st.stop()

st.divider()
st.subheader("Manage seasons")
tabs = st.tabs(["Change this season", "Close this season", "Create a season"])
with tabs[0]:
    if season["closed_at"]:
        st.caption("This season is closed and can no longer change.")
    else:
        _season_form(f"season_update_{key}", season)
with tabs[1]:
    if season["closed_at"]:
        st.caption("This season is closed already.")
    else:
        st.caption("Close a season after its peak: it stops being current and can no longer change.")
        with st.form(f"season_close_{key}"):
            sure = st.checkbox(f"Close {season['name']} ({key})")
            if st.form_submit_button("Close season"):
                if sure:
                    governance_ui.finish(actions.close_season(user, key))
                else:
                    st.error("Tick the box to confirm closing the season.")
with tabs[2]:
    _season_form("season_create", None)
