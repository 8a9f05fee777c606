"""Flash sales: the request form, the queue, each sale's review figures, rate-limit overrides."""

from __future__ import annotations

import streamlit as st

from app import data, ui

url = data.db_url()
st.title("Flash sales")
if data.flashsales() is None:
    ui.empty("Flash-sale intake is not available yet", "flashsales --help")
    st.stop()
