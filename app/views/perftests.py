"""Performance tests: runs per system, verdicts, breaking point against the forecast need."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts, data, fmt, ui

url = data.db_url()
st.title("Performance tests")
runs = data.perf_runs(url)
if runs.empty:
    ui.empty("No performance test stored yet", "perftest run --system SYS-0001 --type load --url URL --rps N")
    st.stop()

latest = runs.sort_values("started_at").groupby(["system_id", "test_type"], dropna=False).tail(1)
cols = st.columns(4)
cols[0].metric("Runs", fmt.number(len(runs)))
cols[1].metric("Systems tested", fmt.number(runs["system_id"].nunique()))
cols[2].metric("Latest verdicts passing", f"{(latest['verdict'] == 'pass').mean():.0%}")
cols[3].metric("Failing now", int((latest["verdict"] == "fail").sum()))

types = st.pills("Test type", sorted(runs["test_type"].unique()), selection_mode="multi", key="perf_types")
shown = runs if not types else runs[runs["test_type"].isin(types)]
ui.chart(charts.perf_runs(shown), width="stretch")

st.subheader("Latest verdict per system and test type")
matrix = latest.pivot_table(index="system_id", columns="test_type", values="verdict", aggfunc="first").fillna("")
matrix.index.name, matrix.columns.name = "system", None
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


def _reasons(value) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value) or fmt.MISSING
    return fmt.MISSING if fmt.missing(value) or value == "" else str(value)


view = pd.DataFrame({
    "Run": table["run_id"], "Started": table["started_at"].map(fmt.moment), "System": table["system_id"],
    "Test type": table["test_type"], "Verdict": table["verdict"],
    "Target": table["target_rps"].map(fmt.rate), "Achieved": table["achieved_rps"].map(fmt.rate),
    "p95": table["p95_ms"].map(lambda v: fmt.MISSING if fmt.missing(v) else f"{fmt.number(v)} ms"),
    "p99": table["p99_ms"].map(lambda v: fmt.MISSING if fmt.missing(v) else f"{fmt.number(v)} ms"),
    "Errors": table["error_rate"].map(lambda v: fmt.MISSING if fmt.missing(v) else fmt.pct(100 * float(v), 2)),
    "Breaking point": table["breaking_point_rps"].map(fmt.rate), "Broke at": table["broke_at_rps"].map(fmt.rate),
    "Recovery": table["time_to_recovery_s"].map(lambda v: fmt.MISSING if fmt.missing(v) else f"{fmt.number(v)} s"),
    "Why": table["reasons"].map(_reasons),
})
st.dataframe(view, hide_index=True, width="stretch")
if system != "all":
    ui.link_system(system)

