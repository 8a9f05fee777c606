"""The Streamlit dashboard (`streamlit run app/main.py`): the top layer.

It reads and writes every context only through that context's public surface
(`readiness`, `governance`, `kapacity`, `perftest`, `flashsales`); nothing imports it.
"""
