"""Capacity: forecasts per system and service, Baseline and FLAS capacity, growth, shortfalls."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import capacity_ui, data, ui

url = data.db_url()
st.title("Capacity")
kap_run = data.kapacity_run(url)
if kap_run is None:
    ui.empty(*capacity_ui.NO_FORECAST)
    st.caption("Kapacity forecasts every system's and service's traffic from its history, last year's peak and "
               "announced flash sales, and derives the Baseline and FLAS capacity to hold.")
    st.stop()

table = data.capacity_table(url, kap_run)
services = data.capacity_table(url, kap_run, services=True)
catalog = data.systems(url)
names = dict(zip(catalog["system_id"], catalog["name"], strict=True))
run_id = data.latest_run(url)

short = []
if run_id is not None:
    for rule_id, label in (("flas_preprovisioned", "running capacity below the FLAS forecast"),
                           ("autoscaling_covers_baseline", "autoscaling ceiling below the Baseline forecast")):
        if data.rule_meta(rule_id) is None:
            continue
        failing = data.failing_systems(url, run_id, rule_id)
        for item in failing[failing["status"] == "fail"].itertuples():
            first = (item.evidence or [{}])[0] if isinstance(item.evidence, list) else {}
            short.append({"system_id": item.system_id, "name": item.name, "shortfall": label,
                          "provisioned_rps": first.get("provisioned_rps"),
                          "needed_rps": first.get("flas_rps") or first.get("baseline_rps"),
                          "ratio": first.get("ratio"), "message": item.message})
shortfalls = pd.DataFrame(short, columns=["system_id", "name", "shortfall", "provisioned_rps", "needed_rps", "ratio",
                                          "message"])

cols = st.columns(4)
cols[0].metric("Systems forecast", len(table), help=f"Kapacity run {kap_run}")
cols[1].metric("FLAS systems", int((table["traffic_class"] == "FLAS").sum()),
               help="Reached synchronously from the purchase flow: they must absorb a surge without autoscaling")
cols[2].metric("Below forecast", shortfalls["system_id"].nunique(),
               help="Systems whose provisioned capacity is below the forecast (capacity rules of the latest run)")
cols[3].metric("Median week-over-week growth", ui.pct(100 * table["wow_volume"].median())
               if table["wow_volume"].notna().any() else "-")

st.subheader("Forecast")
ids = table["system_id"].tolist()
wanted = ui.query_param("id")
default = ids.index(wanted) if wanted in ids else (ids.index(shortfalls.iloc[0]["system_id"])
                                                    if not shortfalls.empty and shortfalls.iloc[0]["system_id"] in ids else 0)
left, right = st.columns([2, 2])
system_id = left.selectbox("System", ids, index=default, format_func=lambda s: f"{s} · {names.get(s, '')}",
                           key="capacity_system")
own = services[(services["system_id"] == system_id) & services["service"].notna()]
service = right.selectbox("Series", [None] + own["service"].tolist(), key=f"capacity_service_{system_id}",
                          format_func=lambda s: "system total" if s is None else s)
row = (table[table["system_id"] == system_id] if service is None else own[own["service"] == service]).iloc[0]
figures = st.columns(5)
figures[0].metric("Peak forecast", f"{row['peak_forecast_rps']:,.1f} req/s")
figures[1].metric("Baseline capacity", f"{row['baseline_rps']:,.1f} req/s")
figures[2].metric("FLAS capacity", f"{row['flas_rps']:,.1f} req/s")
figures[3].metric("Spike ratio", f"{row['spike_ratio']:.2f}×")
figures[4].metric("Traffic class", row.get("traffic_class") or "-")
capacity_ui.forecast_chart(url, kap_run, system_id, service, row)
ui.link_system(system_id, names.get(system_id))

st.subheader("Provisioned capacity below the forecast")
if shortfalls.empty:
    st.success("No system is below its forecast capacity in the latest readiness run.")
else:
    st.dataframe(shortfalls, hide_index=True, width="stretch",
                 column_config={"provisioned_rps": st.column_config.NumberColumn("provisioned req/s", format="%.0f"),
                                "needed_rps": st.column_config.NumberColumn("needed req/s", format="%.0f"),
                                "ratio": st.column_config.ProgressColumn("covered", min_value=0, max_value=1.5,
                                                                         format="%.2f")})

st.subheader("Growth and capacity per system")
growth = table.assign(name=table["system_id"].map(names))
st.dataframe(growth.sort_values("wow_volume", ascending=False, na_position="last"), hide_index=True, width="stretch",
             column_order=["system_id", "name", "traffic_class", "peak_forecast_rps", "baseline_rps", "flas_rps",
                           "spike_ratio", "wow_volume", "wow_peak", "mom_volume", "yoy_volume", "model"],
             column_config={c: st.column_config.NumberColumn(format="%.1f") for c in
                            ("peak_forecast_rps", "baseline_rps", "flas_rps")} |
             {c: st.column_config.NumberColumn(format="percent") for c in
              ("wow_volume", "wow_peak", "mom_volume", "yoy_volume")})
