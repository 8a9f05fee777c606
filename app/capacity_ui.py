"""Capacity views over Kapacity's stored forecasts (empty states until ``kapacity run`` has stored some)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import data, figures, ui

NO_FORECAST = ("No forecast yet", "kapacity run --histories DIR")


def forecast_chart(url: str, kap_run: int, system_id: str, service: str | None, row: pd.Series,
                   *, height: int = 320) -> None:
    if data.forecast(url, kap_run, system_id, service).empty:
        ui.empty("This forecast was stored without its points", "kapacity run --points")
        return
    st.vega_lite_chart(figures.forecast(url, kap_run, system_id, service, float(row["baseline_rps"]),
                                        float(row["flas_rps"]), height), width="stretch")
    history = data.traffic_history(url, system_id, service)
    st.caption("Blue: history; red: forecast with its p99 band (orange); dashed: Baseline and FLAS capacity "
               "to hold; red shading: announced flash sales going ahead."
               + ("" if not history.empty else " Set KAPACITY_HISTORY_DIR to show the history line."))


def system_forecast(url: str, system_id: str) -> None:
    kap_run = data.kapacity_run(url)
    if kap_run is None:
        ui.empty(*NO_FORECAST)
        return
    table = data.capacity_table(url, kap_run)
    match = table[table["system_id"] == system_id]
    if match.empty:
        ui.empty("No forecast for this system in the latest Kapacity run", f"kapacity run --system {system_id}")
        return
    row = match.iloc[0]
    cols = st.columns(4)
    cols[0].metric("Peak forecast", f"{row['peak_forecast_rps']:,.1f} req/s")
    cols[1].metric("Baseline capacity", f"{row['baseline_rps']:,.1f} req/s")
    cols[2].metric("FLAS capacity", f"{row['flas_rps']:,.1f} req/s", help=f"driven by {row.get('flas_driver') or '-'}")
    cols[3].metric("Week over week", ui.pct(100 * row["wow_volume"]) if pd.notna(row.get("wow_volume")) else "-")
    forecast_chart(url, kap_run, system_id, None, row, height=260)
