"""One system: why it is below 100% and what to do, then everything else known about it."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app import auth, charts, data, sections, ui

url = data.db_url()
run_id = data.latest_run(url)
user = auth.current()

st.title("System")
if run_id is None:
    ui.no_run()
    st.stop()

catalog = data.systems(url)
if catalog.empty:
    ui.empty("No systems in the catalog", "readiness import --catalog FILE")
    st.stop()
names = dict(zip(catalog["system_id"], catalog["name"], strict=True))
wanted = ui.query_param("id")
ids = catalog["system_id"].tolist()
if wanted not in names:
    worst = data.system_scores(url, run_id)
    wanted = worst.iloc[0]["system_id"] if not worst.empty else ids[0]
system_id = st.selectbox("System", ids, index=ids.index(wanted), format_func=lambda s: f"{s} · {names.get(s, '')}",
                         key=f"system_pick_{wanted}")
if system_id != wanted:
    st.query_params["id"] = system_id
entry = catalog[catalog["system_id"] == system_id].iloc[0]
report = data.explain(url, run_id, system_id)

st.header(f"{report['name']}")
units = data.org(url)
team_name = dict(zip(units["key"], units["name"], strict=False))
crumbs = st.columns([1, 1, 2])
with crumbs[0]:
    ui.link_unit("domain", entry["domain"], team_name.get(entry["domain"], entry["domain"]))
with crumbs[1]:
    ui.link_unit("team", entry["team"], team_name.get(entry["team"], entry["team"]))
crumbs[2].markdown(" ".join([
    ui.badge(system_id, "gray"), ui.badge(f"tier {entry['tier']}", "violet" if entry["tier"] == "critical" else "gray"),
    ui.badge(entry["traffic_class"], "orange" if entry["traffic_class"] == "FLAS" else "blue"),
    ui.badge("purchase flow", "red") if entry["purchase_flow"] else "", ui.badge("public", "gray") if entry["public"] else ""]))

counts = report["status_counts"]
cols = st.columns(4)
cols[0].metric("Score", ui.pct(report["score"]))
cols[1].metric("Points outstanding", "-" if report["points_outstanding"] is None else f"{report['points_outstanding']:,.1f}")
cols[2].metric("Findings", len(report["findings"]), help="Rules not fully met: failing, no data, pending, expired, errors")
cols[3].metric("Passing rules", counts.get("pass", 0) + counts.get("waived", 0),
               help=f"of {sum(v for k, v in counts.items() if k != 'not_applicable')} that apply")

findings = report["findings"]
st.subheader("What to fix" if findings else "Nothing to fix")
if not findings:
    st.success("Every rule that applies to this system is met in the latest run.")
can_request_waiver = user is not None and user.owns(entry["team"])
for finding in findings:
    lost = finding["points_lost"]
    title = f"{'⛔ ' if finding['blocker'] else ''}{finding['title']} — {lost:g} points"
    with st.container(border=True):
        head, side = st.columns([5, 2])
        head.markdown(f"**{title}**  \n{ui.status_badge(finding['status'])} "
                      f"{ui.badge(finding['category'], 'blue')} {ui.badge(finding['severity'], 'gray')}"
                      + (" " + ui.badge("blocker: caps the score at 50%", "red") if finding["blocker"] else ""))
        head.markdown(f"**Why:** {finding['message'] or '-'}")
        head.markdown(f"**How to fix:** {finding['remediation']}")
        with side:
            ui.link_rule(finding["rule_id"], "Rule page")
            if finding["link"]:
                st.link_button("Guide", finding["link"], icon=":material/open_in_new:")
        if finding["evidence"]:
            with st.expander(f"Evidence ({len(finding['evidence'])})"):
                st.dataframe(pd.DataFrame([{k: v if isinstance(v, str | int | float | bool) or v is None else
                                            json.dumps(v) for k, v in item.items()} for item in finding["evidence"]]),
                             hide_index=True, width="stretch")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Every rule")
    results = data.results_of(url, run_id, system_id)
    if results.empty:
        ui.empty("No results for this system in the latest run")
    else:
        table = results.assign(status=results["status"].map(lambda s: ui.STATUS_LABELS.get(s, s)))
        st.dataframe(table, hide_index=True, width="stretch",
                     column_order=["status", "rule_id", "title", "category", "severity", "earned", "weight", "basis",
                                   "message"],
                     column_config={"earned": st.column_config.NumberColumn("points", format="%.1f"),
                                    "weight": st.column_config.NumberColumn("of", format="%.1f")})
with right:
    st.subheader("Score over time")
    history = data.score_history(url, run_id, "system", system_id)
    if history.empty:
        ui.empty("No history yet")
    else:
        st.altair_chart(charts.unit_history(history), width="stretch")

sections.governance_for_system(url, system_id, entry, user)
sections.capacity_for_system(url, system_id)
sections.perftests_for_system(url, system_id)
