"""Overview: the company score against the deadline, where the points are, what moved."""

from __future__ import annotations

import streamlit as st

from app import changes, chase, data, figures, fmt, ui

url = data.db_url()
run_id = data.latest_run(url)

st.title("Peak readiness")
if not data.schema_ready(url):
    ui.empty("The database has no readiness tables yet", "readiness demo --db URL")
    st.stop()
if run_id is None:
    ui.no_run()
    st.stop()

history = data.score_history(url, run_id)
progress = data.progress(url, run_id)
if progress:
    st.caption(f"{progress['event']} · target {fmt.pct(progress['target_score'], 0)} by {fmt.day(progress['target_date'])} · "
               f"as of run {run_id}, {ui.as_of(history['at'].iloc[-1])}")
previous = changes.pick(url, run_id)  # the run to compare with: yesterday's, last week's or a chosen one
data.warm((data.category_heatmap, url, run_id), (data.system_scores, url, run_id),
          (chase.failing_rules, url, run_id),
          *([(data.movers, url, run_id, previous)] if previous else []))
company = data.company(url, run_id)
match = history[history["run_id"] == previous] if previous is not None else history.iloc[0:0]
before = match.iloc[0] if not match.empty else None
since = "" if previous is None else f" since {changes.label(url, run_id, previous)}"

capped = chase.capped_systems(url, run_id)
cols = st.columns([1, 1, 1, 1.3, 1])
cols[0].metric("Company score", ui.pct(company["score"]),
               delta=None if before is None else f"{fmt.signed(company['score'] - before['score'])} pts",
               help="Criticality-weighted mean of system scores (docs/scoring.md)")
cols[1].metric("Points outstanding", fmt.number(company["points_outstanding"]),
               delta=None if before is None else fmt.signed(company["points_outstanding"] - before["points_outstanding"], 0),
               delta_color="inverse", help="Rule points still to earn across all systems")
if progress:
    cols[2].metric("Days to the deadline", progress["days_left"], help=f"{progress['target_date']}")
    cols[3].metric("Projected 100%", progress["projected_date"] or "not at this pace",
                   delta="on track" if progress["on_track"] else "late",
                   delta_color="normal" if progress["on_track"] else "inverse",
                   help="Least-squares line through the last four weeks of runs")
else:
    cols[2].metric("Deadline", "none set")
    cols[3].metric("Projected 100%", "-")
cols[4].metric("Capped by blockers", fmt.number(len(capped)),
               delta=f"of {fmt.number(company['systems'])} systems", delta_color="off", delta_arrow="off",
               help="Systems in service missing a blocker rule: their score is capped at 50%")

chase.show(url, run_id, systems_total=company["systems"], target=progress["target_score"] if progress else None)
changes.show(url, run_id, previous)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Score over time")
    st.vega_lite_chart(figures.score_trend(url, run_id), width="stretch")
    st.caption("Solid: company score per run. Dashed blue: the straight path to the target by the deadline. "
               "Dotted: the projection at the recent pace, ending at the projected date.")
with right:
    st.subheader("Worst domains")
    domains = data.unit_scores(url, run_id, "domain")
    for row in domains.head(5).itertuples():
        ui.link_unit("domain", row.key, row.name, score=row.score)
    st.page_link(ui.UNITS, label="All domains", icon=":material/arrow_forward:")
    st.subheader("Worst systems")
    st.caption("Lowest score first; ties broken by points outstanding.")
    worst = data.system_scores(url, run_id)
    for row in worst.head(5).itertuples():
        ui.link_system(row.system_id, row.name, score=row.score,
                       detail=f"{fmt.points(row.points_outstanding)} pts")

st.subheader("Where the points are: points outstanding by domain × category")
heat = data.category_heatmap(url, run_id)
if heat.empty:
    ui.empty("No scored results in this run")
else:
    event = st.vega_lite_chart(figures.domain_heatmap(url, run_id), width="content",
                               on_select="rerun", key="heat", selection_mode="cell")
    picked = (event.selection.get("cell") or []) if event else []
    if picked:
        st.switch_page(ui.UNITS, query_params={"level": "domain", "key": picked[0]["unit"]})
    st.caption("Points outstanding per domain and rule category, the domain and category with most first; "
               "the colour is the share earned (hover for the percentage; empty: no rule of that category "
               "applies there). Click a cell to open the domain.")

st.subheader("Biggest movers")
if previous is None:
    ui.empty("No earlier run in the chosen period: movers show once there is one to compare with")
else:
    moved = data.movers(url, run_id, previous)
    st.caption(f"Units whose score moved most{since}, whatever the cause (see What changed for the split "
               "between team work and data refreshes).")
    if moved.empty:
        st.caption("No unit's score changed.")
    else:
        styled = moved.style.map(lambda v: f"color: {'#1a9850' if v > 0 else '#d73027'}; font-weight: 600",
                                 subset=["delta"]).format({"before": "{:.1f}", "after": "{:.1f}", "delta": "{:+.1f}"})
        st.dataframe(
            styled, hide_index=True, width="stretch",
            column_order=["level", "name", "key", "before", "after", "delta"],
            column_config={"before": st.column_config.NumberColumn(format="%.1f"),
                           "after": st.column_config.NumberColumn(format="%.1f"),
                           "delta": st.column_config.NumberColumn("change", format="%+.1f")})
