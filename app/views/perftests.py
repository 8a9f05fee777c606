"""Performance tests: runs per system, verdicts, breaking point against the forecast need."""

from __future__ import annotations

import streamlit as st

from app import charts, data, ui

url = data.db_url()
st.title("Performance tests")
runs = data.perf_runs(url)
if runs.empty:
    ui.empty("No performance test stored yet", "perftest run --system SYS-0001 --type load --url URL --rps N")
    st.stop()

latest = runs.sort_values("started_at").groupby(["system_id", "test_type"], dropna=False).tail(1)
cols = st.columns(4)
cols[0].metric("Runs", len(runs))
cols[1].metric("Systems tested", runs["system_id"].nunique())
cols[2].metric("Latest verdicts passing", f"{(latest['verdict'] == 'pass').mean():.0%}")
cols[3].metric("Failing now", int((latest["verdict"] == "fail").sum()))

types = st.pills("Test type", sorted(runs["test_type"].unique()), selection_mode="multi", key="perf_types")
shown = runs if not types else runs[runs["test_type"].isin(types)]
ui.chart(charts.perf_runs(shown), width="stretch")

st.subheader("Latest verdict per system and test type")
matrix = latest.pivot_table(index="system_id", columns="test_type", values="verdict", aggfunc="first").fillna("")
st.dataframe(matrix.style.map(lambda v: f"color: {ui.TEXT_COLORS.get(ui.VERDICT_BADGES.get(v, ''), '')}; "
                                        "font-weight: 600" if v in ui.VERDICT_BADGES else ""), width="stretch")

overload = latest[(latest["test_type"] == "overload") & latest["breaking_point_rps"].notna()]
if not overload.empty:
    st.subheader("Breaking point against the tested target")
    frame = overload.assign(need_rps=overload["target_rps"],
                            ratio=overload["breaking_point_rps"] / overload["target_rps"].where(overload["target_rps"] > 0))
    ui.chart(charts.breaking_vs_forecast(frame), width="stretch")
    st.caption("Bars: the highest load sustained within the SLO. Red tick: the load the test aimed at "
               "(the forecast need once Kapacity forecasts are wired in).")

st.subheader("Runs")
system = st.selectbox("System", ["all"] + sorted(runs["system_id"].dropna().unique()), key="perf_system")
table = shown if system == "all" else shown[shown["system_id"] == system]
st.dataframe(table, hide_index=True, width="stretch",
             column_order=["run_id", "started_at", "system_id", "test_type", "verdict", "target_rps", "peak_rps",
                           "achieved_rps", "p95_ms", "p99_ms", "error_rate", "breaking_point_rps", "broke_at_rps",
                           "time_to_recovery_s", "reasons"],
             column_config={"error_rate": st.column_config.NumberColumn(format="percent"),
                            "started_at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
if system != "all":
    ui.link_system(system)

