"""Sections of the System page that come from other contexts: reviews and waivers,
the capacity forecast, performance tests. Each shows an empty state saying what
to run while its package or its data is missing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import capacity_ui, charts, data, governance_ui, permissions, ui
from app.auth import User

WAIVABLE = ("fail", "no_data", "expired")


def governance_for_system(url: str, system_id: str, entry: pd.Series, user: User | None) -> None:
    st.subheader("Reviews and waivers")
    if data.governance() is None:
        ui.empty("Team-managed checks and waivers are not available yet (readiness.governance)")
        return
    governance_ui.flash()
    team, domain = entry["team"], entry["domain"]
    reviews = data.reviews(url, system_id)
    waivers = data.waivers(url, system_id)
    run_id = data.latest_run(url)
    results = data.results_of(url, run_id, system_id) if run_id else pd.DataFrame()
    catalog = data.rule_catalog().set_index("rule_id")

    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Team-managed checks**")
        governance_ui.reviews_table(reviews, show_system=False)
        pending = [r for r in reviews if permissions.may_decide_review(user, r, domain=domain)]
        for review in pending:
            governance_ui.decide_review_form(user, review, key=f"sys_review_{review['id']}")
        if permissions.may_answer(user, team=team) and not results.empty:
            managed = results[(results["rule_id"].map(lambda r: catalog.at[r, "kind"] if r in catalog.index else "")
                               == "team-managed") & (results["status"] != "not_applicable")]
            if not managed.empty:
                labels = {r.rule_id: f"{r.title} ({ui.STATUS_LABELS.get(r.status, r.status)})"
                          for r in managed.itertuples()}
                with st.expander("Answer a team-managed check", icon=":material/edit_note:"):
                    rule_id = st.selectbox("Check", list(labels), format_func=labels.get, key=f"answer_pick_{system_id}")
                    governance_ui.answer_form(user, system_id, rule_id, key=f"sys_answer_{system_id}_{rule_id}")
    with right:
        st.markdown("**Waivers**")
        governance_ui.waivers_table(waivers, show_system=False)
        for waiver in waivers:
            governance_ui.decide_waiver_form(user, waiver, domain=domain, key=f"sys_waiver_{waiver['id']}")
        if permissions.may_request_waiver(user, team=team, domain=domain) and not results.empty:
            open_rules = {w["rule_id"] for w in waivers if w["state"] in ("requested", "approved")}
            candidates = [(r.rule_id, f"{r.title} ({ui.STATUS_LABELS.get(r.status, r.status)}, "
                                      f"{r.points_lost:g} points)")
                          for r in results.itertuples()
                          if r.status in WAIVABLE and r.rule_id in catalog.index and catalog.at[r.rule_id, "waivable"]
                          and r.rule_id not in open_rules]
            if candidates:
                with st.expander("Request a waiver", icon=":material/gavel:"):
                    governance_ui.waiver_request_form(user, system_id, candidates, key=f"sys_waiver_req_{system_id}")


def capacity_for_system(url: str, system_id: str) -> None:
    st.subheader("Capacity forecast")
    capacity_ui.system_forecast(url, system_id)


def perftests_for_system(url: str, system_id: str) -> None:
    st.subheader("Performance tests")
    runs = data.perf_runs(url, system_id)
    if runs.empty:
        ui.empty("No performance test for this system yet", f"perftest run --system {system_id} ...")
        return
    latest = runs.sort_values("started_at").groupby("test_type").tail(1)
    cols = st.columns(max(1, len(latest)))
    for col, row in zip(cols, latest.itertuples(), strict=False):
        col.markdown(f"**{row.test_type}** {ui.badge(row.verdict, ui.VERDICT_BADGES.get(row.verdict, 'gray'))}  \n"
                     f"{row.started_at:%Y-%m-%d} · target {row.target_rps:,.0f} req/s"
                     + (f" · broke at {row.broke_at_rps:,.0f}" if pd.notna(row.broke_at_rps) else ""))
    st.altair_chart(charts.perf_runs(runs, height=200), width="stretch")
    st.dataframe(runs, hide_index=True, width="stretch",
                 column_order=["run_id", "started_at", "test_type", "verdict", "target_rps", "achieved_rps",
                               "p95_ms", "p99_ms", "error_rate", "breaking_point_rps", "time_to_recovery_s", "reasons"])
