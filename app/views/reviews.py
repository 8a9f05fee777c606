"""Reviews and waivers: checks to answer (owners), reviews and waivers to decide (architects,
readiness team), and the audit log. Forms show only for writes the user may do."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import readiness
from app import auth, data, fmt, governance_ui, permissions, review_queue, ui

url = data.db_url()
user = auth.current()
run_id = data.latest_run(url)

st.title("Reviews and waivers")
if not data.schema_ready(url):
    ui.empty("The database has no readiness tables yet", "readiness demo --db URL")
    st.stop()
governance_ui.flash()

catalog = data.systems(url)
domain_of = dict(zip(catalog["system_id"], catalog["domain"], strict=True))
team_of = dict(zip(catalog["system_id"], catalog["team"], strict=True))
names = dict(zip(catalog["system_id"], catalog["name"], strict=True))
reviews = data.reviews(url)
waivers = data.waivers(url)
to_decide = [r for r in reviews if permissions.may_decide_review(user, r, domain=domain_of.get(r["system_id"]))]
waivers_to_decide = [w for w in waivers if permissions.may_approve_waiver(user, w, domain=domain_of.get(w["system_id"]))]
own_systems = sorted(s for s, t in team_of.items() if user is not None and user.owns(t))

cols = st.columns(4)
cols[0].metric("Reviews pending", sum(r["state"] == "pending" for r in reviews))
cols[1].metric("For you to decide", len(to_decide) + len(waivers_to_decide))
cols[2].metric("Waivers in force", sum(w["state"] == "approved" for w in waivers))
cols[3].metric("Waivers requested", sum(w["state"] == "requested" for w in waivers))

if user is None or not user.roles:
    st.info("You are a viewer: you can read reviews and waivers, but not answer or decide them. "
            "System owners answer checks; domain architects and the readiness team decide.",
            icon=":material/visibility:")
elif not to_decide and not waivers_to_decide:
    st.success("Nothing waits for your decision.")

tabs = st.tabs([f"Review queue ({len(to_decide)} for you)", f"Waivers ({len(waivers_to_decide)} for you)",
                "Checks for your systems", "Audit log"])
with tabs[0]:
    review_queue.show(user, url)
with tabs[1]:
    if waivers_to_decide:
        st.subheader(f"Waivers for you to decide ({len(waivers_to_decide)})")
        shown, label = review_queue.page_of(waivers_to_decide, review_queue.pager(len(waivers_to_decide), "waiver_page"))
        st.caption(f"Waivers {label}")
        for waiver in shown:
            governance_ui.decide_waiver_form(user, waiver, domain=domain_of.get(waiver["system_id"]),
                                             key=f"wai_{waiver['id']}")
    st.subheader("All waivers")
    governance_ui.waivers_table(waivers)
    requestable = [s for s in catalog["system_id"]
                   if permissions.may_request_waiver(user, team=team_of[s], domain=domain_of[s])]
    if requestable and run_id is not None:
        st.subheader("Request a waiver")
        system_id = st.selectbox("System", requestable[:2000], format_func=lambda s: f"{s} · {names[s]}",
                                 key="waiver_system")
        results = data.results_of(url, run_id, system_id)
        rules = data.rule_catalog().set_index("rule_id")
        taken = {w["rule_id"] for w in waivers if w["system_id"] == system_id and w["state"] in ("requested", "approved")}
        candidates = [(r.rule_id, f"{r.title} ({ui.STATUS_LABELS.get(r.status, r.status)}, {fmt.points(r.points_lost)} points)")
                      for r in results.itertuples()
                      if r.status in readiness.WAIVABLE_STATUSES and r.rule_id in rules.index
                      and rules.at[r.rule_id, "waivable"] and r.rule_id not in taken]
        if candidates:
            governance_ui.waiver_request_form(user, system_id, candidates, key=f"req_{system_id}")
        else:
            st.caption("This system fails no waivable rule without a waiver already.")
with tabs[2]:
    if not own_systems or run_id is None:
        st.caption("You own no system: checks are answered by the systems' teams.")
    else:
        managed = set(data.rule_catalog().query("kind == 'team-managed'")["rule_id"])
        rows = []
        for system_id in own_systems:
            results = data.results_of(url, run_id, system_id)
            for r in results[results["rule_id"].isin(managed) & (results["status"] != "not_applicable")].itertuples():
                rows.append({"system": system_id, "name": names[system_id], "rule": r.rule_id, "check": r.title,
                             "status": ui.STATUS_LABELS.get(r.status, r.status), "message": r.message})
        todo = pd.DataFrame(rows, columns=["system", "name", "rule", "check", "status", "message"])
        open_items = todo[todo["status"] != "pass"]
        if open_items.empty:
            st.success("Every team-managed check of your systems is approved.")
        else:
            st.dataframe(ui.colour_column(open_items, "status", ui.STATUS_BADGES), hide_index=True, width="stretch")
            pick = st.selectbox("Answer", list(range(len(open_items))), key="answer_pick",
                                format_func=lambda i: f"{open_items.iloc[i]['system']} · {open_items.iloc[i]['check']} "
                                                      f"({open_items.iloc[i]['status']})")
            item = open_items.iloc[pick]
            if permissions.may_answer(user, team=team_of[item["system"]]):
                governance_ui.answer_form(user, item["system"], item["rule"], key=f"ans_{item['system']}_{item['rule']}")
with tabs[3]:
    entries = data.audit(url, limit=300)
    if not entries:
        st.caption("No entries yet.")
    else:
        frame = pd.DataFrame(entries)[["at", "actor", "action", "entity", "system_id", "rule_id"]]
        st.dataframe(frame.iloc[::-1], hide_index=True, width="stretch")
