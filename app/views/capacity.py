"""Capacity: forecasts per system and service, Baseline and FLAS capacity, growth, shortfalls."""

from __future__ import annotations

import streamlit as st

from app import capacity_ui, data, ui

url = data.db_url()
st.title("Capacity")
if not capacity_ui.kapacity_ready(url):
    ui.empty(*capacity_ui.NO_FORECAST)
    st.caption("Kapacity forecasts every system's and service's traffic minute by minute from its history, "
               "last year's peak and announced flash sales, and derives the Baseline and FLAS capacity to hold.")
    st.stop()
