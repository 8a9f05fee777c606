"""The pages' charts as cached Vega-Lite dicts, keyed like the data they show.

Building an Altair chart costs tens of milliseconds per encoding, far more
than the data behind it once cached; a chart only changes when its data does,
so its spec is cached with the same key (database, run, unit).
"""

from __future__ import annotations

import streamlit as st

from app import charts, data

TTL = data.RUN_TTL  # every chart here is keyed by a run


@st.cache_data(ttl=TTL, show_spinner=False)
def score_trend(url: str, run_id: int) -> dict:
    return charts.spec(charts.score_trend(data.score_history(url, run_id), data.progress(url, run_id)))


@st.cache_data(ttl=TTL, show_spinner=False)
def domain_heatmap(url: str, run_id: int) -> dict:
    return charts.spec(charts.heatmap(data.category_heatmap(url, run_id), unit_title="domain"))


@st.cache_data(ttl=TTL, show_spinner=False)
def group_heatmap(url: str, run_id: int, domain: str) -> dict:
    return charts.spec(charts.heatmap(data.category_heatmap(url, run_id, domain), unit_title="group", select=False))


@st.cache_data(ttl=TTL, show_spinner=False)
def domain_bars(url: str, run_id: int) -> dict:
    return charts.spec(charts.score_bars(data.unit_scores(url, run_id, "domain"), select=True))


@st.cache_data(ttl=TTL, show_spinner=False)
def unit_history(url: str, run_id: int, level: str, key: str) -> dict:
    return charts.spec(charts.unit_history(data.score_history(url, run_id, level, key)))


@st.cache_data(ttl=TTL, show_spinner=False)
def rule_status(url: str, run_id: int, rule_ids: tuple[str, ...]) -> dict:
    stats = data.rule_stats(url, run_id)
    long = stats.melt(id_vars=["rule_id", "pass_rate"], value_vars=[
        "pass", "waived", "warning", "pending_review", "no_data", "fail", "expired"],
        var_name="status", value_name="systems")
    long = long[long["rule_id"].isin(set(rule_ids)) & (long["systems"] > 0)]
    return charts.spec(charts.status_bars(long))
