"""Domain, group and team drill-down: the same figures per unit, the worst systems first."""

from __future__ import annotations

import streamlit as st

from app import data, figures, fmt, ui

url = data.db_url()
run_id = data.latest_run(url)

if run_id is None:
    st.title("Domains, groups, teams")
    ui.no_run()
    st.stop()

level = ui.query_param("level")
key = ui.query_param("key")
units = data.org(url)
known = {(r.level, r.key) for r in units.itertuples()}
if level not in ("domain", "group", "team") or (level, key) not in known:
    level, key = None, None

if level is None:
    st.title("Domains, groups, teams")
    domains = data.unit_scores(url, run_id, "domain")
    if domains.empty:
        ui.empty("No domains in the catalog", "readiness import --catalog FILE")
        st.stop()
    st.caption("Every domain, worst first. Pick one to see its groups, teams and worst systems.")
    left, right = st.columns([3, 2], gap="large")
    with left:
        event = st.vega_lite_chart(figures.domain_bars(url, run_id), width="stretch",
                                on_select="rerun", key="domain_bars", selection_mode="bar")
        picked = (event.selection.get("bar") or []) if event else []
        if picked:
            st.switch_page(ui.UNITS, query_params={"level": "domain", "key": picked[0]["key"]})
    with right:
        for row in domains.itertuples():
            ui.link_unit("domain", row.key, row.name, score=row.score)
    st.dataframe(domains.assign(automated=100 * domains["automated"]), hide_index=True, width="stretch",
                 column_order=["name", "score", "points_outstanding", "systems", "failing_rules", "automated"],
                 column_config={"score": ui.score_column(), "points_outstanding": st.column_config.NumberColumn(
                     "points outstanding", format="%.0f"), "failing_rules": "rules short of full credit",
                     "automated": st.column_config.NumberColumn("automated evidence", format="%.0f%%")})
    st.stop()

snapshots = data.unit_scores(url, run_id, level)
match = snapshots[snapshots["key"] == key]
unit = match.iloc[0] if not match.empty else None
name = unit["name"] if unit is not None else units[(units["level"] == level) & (units["key"] == key)].iloc[0]["name"]

# Breadcrumb: company > domain > group(s) > team
crumbs = st.columns(6)
with crumbs[0]:
    st.page_link(ui.UNITS, label="All domains", icon=":material/arrow_upward:")
for i, (lvl, k, n) in enumerate(data.ancestors(url, level, key)[:-1]):
    with crumbs[min(i + 1, 5)]:
        ui.link_unit(lvl, k, n)

st.title(name)
st.caption(f"{level} `{key}` · run {run_id}")
if unit is None:
    ui.empty("This unit has no systems scored in the latest run")
    st.stop()

history = data.score_history(url, run_id, level, key)
previous = history.iloc[-2] if len(history) >= 2 else None
cols = st.columns(4)
cols[0].metric("Score", ui.pct(unit["score"]),
               delta=None if previous is None else f"{fmt.signed(unit['score'] - previous['score'])} pts")
cols[1].metric("Points outstanding", fmt.number(unit["points_outstanding"]))
cols[2].metric("Systems", int(unit["systems"]))
cols[3].metric("Automated evidence", ui.pct(100 * unit["automated"], 0),
               help="Share of the points judged from collected facts rather than attestations or waivers")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Worst systems")
    worst = data.worst_systems(url, run_id, level, key)
    below = worst[worst["score"] < 100]
    if below.empty:
        st.success("Every system here is at 100%.")
    for row in below.head(5).itertuples():
        ui.link_system(row.system_id, row.name, score=row.score)
    shown = worst.head(500)
    table = st.dataframe(
        shown, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
        key="systems_table",
        column_order=["system_id", "name", "score", "points_outstanding", "failing_rules", "tier", "traffic_class",
                      "team"],
        column_config={"score": ui.score_column(), "points_outstanding": st.column_config.NumberColumn(
            "points outstanding", format="%.1f"), "failing_rules": "failing rules", "traffic_class": "traffic"})
    rows = table.selection.rows if table else []
    if rows:
        st.switch_page(ui.SYSTEM, query_params={"id": shown.iloc[rows[0]]["system_id"]})
    if len(worst) > len(shown):
        st.caption(f"The {len(shown)} worst of {len(worst)} systems.")
with right:
    st.subheader("Score over time")
    if not history.empty:
        st.vega_lite_chart(figures.unit_history(url, run_id, level, key), width="stretch")
    children = units[(units["parent"] == key) &
                     (units["parent_level"] == level)]
    for child_level, title in (("group", "Groups"), ("team", "Teams")):
        keys = set(children.loc[children["level"] == child_level, "key"])
        if not keys:
            continue
        st.subheader(title)
        scored = data.unit_scores(url, run_id, child_level)
        for row in scored[scored["key"].isin(keys)].itertuples():
            ui.link_unit(child_level, row.key, row.name, score=row.score)

if level == "domain":
    st.subheader("Groups × category")
    heat = data.category_heatmap(url, run_id, domain=key)
    if not heat.empty:
        st.vega_lite_chart(figures.group_heatmap(url, run_id, key), width="content")
        st.caption("Share of rule points earned per group and rule category.")
