"""One system: why it is below 100% and what to do, then everything else known about it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import auth, data, figures, fmt, governance_ui, permissions, sections, ui, words

PICKER_LIMIT = 2000  # above this many systems the picker searches instead of listing all
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
if wanted not in names:  # no system asked for: the user's own worst system, else the company's
    worst = data.system_scores(url, run_id)
    own = worst[worst["team"].isin(user.teams)] if user is not None and user.teams else worst.iloc[0:0]
    wanted = (own if not own.empty else worst).iloc[0]["system_id"] if not worst.empty else ids[0]
if len(ids) > PICKER_LIMIT:  # a large estate: search first, then pick among the matches
    search = st.text_input("Find a system (id or part of its name)", key="system_search").strip().lower()
    if search:
        hits = catalog[catalog["system_id"].str.lower().str.contains(search, regex=False)
                       | catalog["name"].str.lower().str.contains(search, regex=False)]["system_id"].tolist()
    else:
        hits = data.system_scores(url, run_id)["system_id"].head(PICKER_LIMIT // 4).tolist()
    ids = [wanted] + [s for s in hits[:PICKER_LIMIT] if s != wanted]
system_id = st.selectbox("System", ids, index=0 if wanted not in ids else ids.index(wanted),
                         format_func=lambda s: f"{s} · {names.get(s, '')}", key=f"system_pick_{wanted}")
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
cols[1].metric("Points outstanding", fmt.points(report["points_outstanding"]))
cols[2].metric("Findings", len(report["findings"]), help="Rules not fully met: failing, no data, pending, expired, errors")
cols[3].metric("Passing rules", counts.get("pass", 0) + counts.get("waived", 0),
               help=f"of {sum(v for k, v in counts.items() if k != 'not_applicable')} that apply")

findings = report["findings"]
st.subheader("What to fix" if findings else "Nothing to fix")
if not findings:
    st.success("Every rule that applies to this system is met in the latest run.")
else:
    st.caption("Blockers first (each caps the score at 50%), then by points lost. Fix these and the score "
               "rises at the next evaluation run.")
governance_ui.flash()
may_answer = permissions.may_answer(user, team=entry["team"])
may_waive = permissions.may_request_waiver(user, team=entry["team"], domain=entry["domain"])
covered = {w["rule_id"] for w in data.waivers(url, system_id) if w["state"] in ("requested", "approved")}
ICONS = {"fail": ":material/cancel:", "no_data": ":material/help:", "pending_review": ":material/hourglass_top:",
         "expired": ":material/event_busy:", "error": ":material/bug_report:", "warning": ":material/schedule:"}
for index, finding in enumerate(findings):
    meta = data.rule_meta(finding["rule_id"])
    status = ui.STATUS_LABELS.get(finding["status"], finding["status"])
    label = f"{finding['title']} — {fmt.points(finding['points_lost'])} points · {status}"
    icon = ":material/block:" if finding["blocker"] else ICONS.get(finding["status"], ":material/error:")
    with st.expander(label, expanded=index < 3, icon=icon):
        st.markdown(" ".join([ui.status_badge(finding["status"]), ui.badge(finding["category"], "blue"),
                              ui.badge(finding["severity"], "gray")]
                             + ([ui.badge("blocker: caps the score at 50%", "red")] if finding["blocker"] else [])
                             + ([ui.badge("team-managed", "orange")] if meta and meta.kind == "team-managed" else [])))
        st.markdown(f"**Why:** {words.plain(finding['message']) if finding['message'] else '-'}")
        st.markdown(f"**How to fix:** {finding['remediation']}")
        if finding["evidence"]:
            st.dataframe(pd.DataFrame(words.evidence_rows(finding["evidence"])), hide_index=True, width="stretch")
        links = st.columns([1, 1, 3])
        with links[0]:
            ui.link_rule(finding["rule_id"], "Rule page")
        if finding["link"]:
            links[1].link_button("Guide", finding["link"], icon=":material/open_in_new:")
        if may_answer and meta is not None and meta.kind == "team-managed":
            if st.toggle("Answer this check", key=f"answer_toggle_{system_id}_{meta.id}"):
                governance_ui.answer_form(user, system_id, meta.id, key=f"sys_answer_{system_id}_{meta.id}")
        if may_waive and meta is not None and meta.waivable and finding["status"] in sections.WAIVABLE \
                and meta.id not in covered:
            if st.toggle("Request a waiver", key=f"waiver_toggle_{system_id}_{meta.id}"):
                governance_ui.waiver_request_form(user, system_id, [(meta.id, meta.title)],
                                                  key=f"sys_waiver_{system_id}_{meta.id}")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Every rule")
    results = data.results_of(url, run_id, system_id)
    if results.empty:
        ui.empty("No results for this system in the latest run")
    else:
        table = results.assign(status=results["status"].map(lambda s: ui.STATUS_LABELS.get(s, s)))
        st.dataframe(ui.colour_column(table, "status", ui.STATUS_BADGES), hide_index=True, width="stretch",
                     column_order=["status", "rule_id", "title", "category", "severity", "earned", "weight", "basis",
                                   "message"],
                     column_config={"rule_id": "rule", "earned": st.column_config.NumberColumn("points", format="%.1f"),
                                    "weight": st.column_config.NumberColumn("of", format="%.1f")})
with right:
    st.subheader("Score over time")
    history = data.score_history(url, run_id, "system", system_id)
    if history.empty:
        ui.empty("No history yet")
    else:
        st.vega_lite_chart(figures.unit_history(url, run_id, "system", system_id), width="stretch")

sections.governance_for_system(url, system_id, entry, user)
sections.capacity_for_system(url, system_id)
sections.perftests_for_system(url, system_id)
