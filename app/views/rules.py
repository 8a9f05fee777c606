"""Rules: the catalog with each rule's documentation and how many systems pass it."""

from __future__ import annotations

import streamlit as st

from app import data, figures, fmt, ui

url = data.db_url()
run_id = data.latest_run(url)

st.title("Rules")
catalog = data.rule_catalog()
if catalog.empty:
    ui.empty("No rules loaded", "readiness rules list")
    st.stop()

stats = data.rule_stats(url, run_id) if run_id else None
table = catalog if stats is None else catalog.merge(
    stats[["rule_id", "pass", "fail", "no_data", "waived", "pending_review", "expired", "warning", "applicable",
           "pass_rate"]], on="rule_id", how="left")
if stats is not None:
    table["pass_rate"] = table["pass_rate"] * 100

wanted = ui.query_param("rule")
if wanted in set(catalog["rule_id"]):
    meta = data.rule_meta(wanted)
    st.page_link(ui.RULES, label="All rules", icon=":material/arrow_upward:")
    st.header(meta.title)
    st.markdown(" ".join([ui.badge(meta.id, "gray"), ui.badge(meta.category, "blue"), ui.badge(meta.severity, "violet"),
                          ui.badge(meta.kind, "orange" if meta.kind == "team-managed" else "gray"),
                          ui.badge("blocker", "red") if meta.blocker else "",
                          ui.badge("not waivable", "gray") if not meta.waivable else "",
                          ui.badge(f"due {data.due_text(meta)}", "orange") if meta.due is not None else ""]))
    row = table[table["rule_id"] == wanted].iloc[0]
    if stats is not None:
        cols = st.columns(4)
        cols[0].metric("Pass rate", ui.pct(row["pass_rate"]))
        cols[1].metric("Failing", int(row["fail"] or 0))
        cols[2].metric("No data", int(row["no_data"] or 0))
        cols[3].metric("Points each", fmt.points(meta.points))
    doc = data.rule_doc(meta.id)
    left, right = st.columns([3, 2], gap="large")
    with left:
        if doc:
            st.markdown(doc)
        else:
            st.markdown(f"**Why it matters.** {meta.rationale}\n\n**How to fix.** {meta.remediation}")
            applies = meta.applies_to
            scope = [f"tiers: {', '.join(applies.tiers)}" if applies.tiers else "",
                     f"traffic: {', '.join(applies.traffic_classes)}" if applies.traffic_classes else "",
                     "public systems only" if applies.public_only else "",
                     "purchase flow only" if applies.purchase_flow_only else ""]
            st.markdown(f"**Applies to.** {'; '.join(s for s in scope if s) or 'every system'}")
            if meta.bands:
                st.markdown("**Partial credit.** " + ", ".join(f"≥ {b.at_least:g}: {b.credit:.0%}" for b in meta.bands))
            if meta.questions:
                st.markdown("**Questions the owner answers.**\n" + "\n".join(f"1. {q}" for q in meta.questions))
            if meta.facts:
                st.markdown(f"**Reads facts from.** {', '.join(meta.facts)}")
            st.caption("Generated pages appear here after `readiness rules docs`.")
        if meta.link:
            st.link_button("Guide", meta.link, icon=":material/open_in_new:")
    with right:
        st.subheader("Systems not meeting it")
        if run_id is None:
            ui.no_run()
        else:
            failing = data.failing_systems(url, run_id, meta.id)
            if failing.empty:
                st.success("Every system it applies to meets it.")
            for item in failing.head(15).itertuples():
                ui.link_system(item.system_id, item.name)
                st.caption(f"{ui.STATUS_LABELS.get(item.status, item.status)} · {fmt.points(item.points_lost)} points · "
                           f"{item.message[:160]}")
            if len(failing) > 15:
                st.caption(f"... and {len(failing) - 15} more")
    st.stop()

category = st.pills("Category", sorted(catalog["category"].unique()), selection_mode="single", key="rule_category")
shown = table if not category else table[table["category"] == category]
st.caption(f"{len(shown)} rules. Pick a rule (row) for its documentation and the systems not meeting it.")
with st.container():
    event = st.dataframe(
        shown.sort_values(["pass_rate", "rule_id"] if stats is not None else ["rule_id"]),
        hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row", key="rules_table",
        column_order=["rule_id", "title", "category", "severity", "kind", "blocker", "pass_rate", "fail", "no_data",
                      "applicable"],
        column_config={"pass_rate": st.column_config.ProgressColumn("pass rate", min_value=0, max_value=100,
                                                                    format="%.0f%%"),
                       "rule_id": "rule", "no_data": "no data", "applicable": "systems"})
    rows = event.selection.rows if event else []
    if rows:
        st.switch_page(ui.RULES, query_params={"rule": shown.sort_values(
            ["pass_rate", "rule_id"] if stats is not None else ["rule_id"]).iloc[rows[0]]["rule_id"]})
if stats is not None:  # full width below the table, so every rule's name fits beside its bar
    st.subheader("Results per rule")
    st.vega_lite_chart(figures.rule_status(url, run_id, tuple(shown["rule_id"])), width="stretch")
