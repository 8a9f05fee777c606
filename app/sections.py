"""Sections of the System page that come from other contexts: reviews and waivers,
the capacity forecast, performance tests. Each shows an empty state saying what
to run while its package or its data is missing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import readiness
from app import capacity_ui, charts, data, fmt, governance_ui, permissions, ui
from app.auth import User

WAIVABLE = readiness.WAIVABLE_STATUSES


def governance_for_system(url: str, system_id: str, entry: pd.Series, user: User | None) -> None:
    st.subheader("Reviews and waivers")
    domain = entry["domain"]
    reviews = data.reviews(url, system_id)
    waivers = data.waivers(url, system_id)

    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Team-managed checks**")
        governance_ui.reviews_table(reviews, show_system=False)
        pending = [r for r in reviews if permissions.may_decide_review(user, r, domain=domain)]
        for review in pending:
            governance_ui.decide_review_form(user, review, key=f"sys_review_{review['id']}")
    with right:
        st.markdown("**Waivers**")
        governance_ui.waivers_table(waivers, show_system=False)
        for waiver in waivers:
            governance_ui.decide_waiver_form(user, waiver, domain=domain, key=f"sys_waiver_{waiver['id']}")


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
                     f"{fmt.day(row.started_at)} · target {fmt.rate(row.target_rps)}"
                     + (f" · broke at {fmt.rate(row.broke_at_rps)}" if pd.notna(row.broke_at_rps) else ""))
    ui.chart(charts.perf_runs(runs, height=200), width="stretch")
    st.dataframe(runs, hide_index=True, width="stretch",
                 column_order=["run_id", "started_at", "test_type", "verdict", "target_rps", "achieved_rps",
                               "p95_ms", "p99_ms", "error_rate", "breaking_point_rps", "time_to_recovery_s", "reasons"],
                 column_config={
                     "run_id": "run", "started_at": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm"),
                     "test_type": "type", "target_rps": st.column_config.NumberColumn("target (req/s)", format="localized"),
                     "achieved_rps": st.column_config.NumberColumn("achieved (req/s)", format="localized"),
                     "p95_ms": st.column_config.NumberColumn("p95 (ms)", format="localized"),
                     "p99_ms": st.column_config.NumberColumn("p99 (ms)", format="localized"),
                     "error_rate": st.column_config.NumberColumn("errors", format="percent"),
                     "breaking_point_rps": st.column_config.NumberColumn("breaking point (req/s)", format="localized"),
                     "time_to_recovery_s": st.column_config.NumberColumn("recovery (s)", format="localized")})
