"""Capacity: forecasts per system and service against the season's peak, Baseline and FLAS capacity,
shortfalls, growth."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import capacity_ui, data, fmt, ui

GROWTH_FLOOR_RPS = 1.0  # systems busier than this at peak are ranked by growth; quieter ones are listed last

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
season = data.season(url)

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
                          "provisioned": first.get("provisioned_rps"),
                          "needed": first.get("flas_rps") or first.get("baseline_rps"),
                          "ratio": first.get("ratio"), "message": item.message})
shortfalls = pd.DataFrame(short, columns=["system_id", "name", "shortfall", "provisioned", "needed", "ratio", "message"])

st.caption(f"Kapacity run {kap_run} · now {fmt.moment(data.now())}"
           + (f" · {season['name']}: peak {fmt.day(season['starts_on'])} to {fmt.day(season['ends_on'])}"
              if season else " · no peak season set"))
cols = st.columns(4)
cols[0].metric("Systems forecast", fmt.number(len(table)), help=f"Kapacity run {kap_run}")
cols[1].metric("FLAS systems", fmt.number(int((table["traffic_class"] == "FLAS").sum())),
               help="Reached synchronously from the purchase flow: they must absorb a surge without autoscaling")
cols[2].metric("Below forecast", fmt.number(shortfalls["system_id"].nunique()),
               help="Systems whose provisioned capacity is below the forecast (capacity rules of the latest run)")
wow = pd.to_numeric(table["wow_volume"], errors="coerce")
cols[3].metric("Volume week over week", fmt.signed(100 * wow.median(), 1, "%") if wow.notna().any() else fmt.MISSING,
               help="Median change of weekly traffic volume (all requests) over the systems forecast; a system's "
                    "daily peak can rise while its volume falls (see the growth table)")

st.subheader("Forecast against the season")
ids = table["system_id"].tolist()
wanted = ui.query_param("id")
default = ids.index(wanted) if wanted in ids else (ids.index(shortfalls.iloc[0]["system_id"])
                                                    if not shortfalls.empty and shortfalls.iloc[0]["system_id"] in ids else 0)
left, right = st.columns([2, 2])
system_id = left.selectbox("System", ids, index=default, format_func=lambda s: f"{s} · {names.get(s, '')}",
                           key="capacity_system")
own = services[(services["system_id"] == system_id) & services["service"].notna()]
service = right.selectbox("Series", [None] + own["service"].tolist(), key=f"capacity_service_{system_id}",
                          format_func=lambda s: "system total" if s is None else f"service {s}")
system_row = table[table["system_id"] == system_id].iloc[0]
row = system_row if service is None else own[own["service"] == service].iloc[0]
capacity_ui.metrics(row, data.breaking_point(url, system_id))
traffic_class = row.get("traffic_class")
if fmt.missing(traffic_class):
    traffic_class = system_row.get("traffic_class")
spike = row.get("spike_ratio")
st.caption(f"Traffic class: {traffic_class if not fmt.missing(traffic_class) else 'not classified'}"
           + (f" · the busiest surges run at {fmt.number(spike, 2)}× the normal daily peak" if not fmt.missing(spike)
              else "")
           + (f" · model: {row.get('model')}" if not fmt.missing(row.get("model")) else ""))
capacity_ui.forecast_chart(url, kap_run, system_id, service, row)
ui.link_system(system_id, names.get(system_id))

st.subheader("Provisioned capacity below the forecast")
if shortfalls.empty:
    st.success("No system is below its forecast capacity in the latest readiness run.")
else:
    shown = shortfalls.assign(
        provisioned=shortfalls["provisioned"].map(capacity_ui.rate), needed=shortfalls["needed"].map(capacity_ui.rate),
        ratio=shortfalls["ratio"].map(lambda r: fmt.pct(100 * float(r), 0) if not fmt.missing(r) else fmt.MISSING))
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={"system_id": "System", "name": "Name", "shortfall": "Shortfall",
                                "provisioned": "Provisioned", "needed": "Needed",
                                "ratio": st.column_config.TextColumn("Covered", help="provisioned ÷ needed"),
                                "message": "Finding"})

st.subheader("Growth and capacity per system")
growth = table.assign(name=table["system_id"].map(names))
peak = pd.to_numeric(growth["peak_forecast_rps"], errors="coerce")
wow_peak = pd.to_numeric(growth["wow_peak"], errors="coerce")
growth["added"] = (peak * wow_peak / (1 + wow_peak)).where(wow_peak > -1)  # req/s the daily peak gained in a week
busy = peak >= GROWTH_FLOOR_RPS
growth = pd.concat([growth[busy].sort_values("added", ascending=False, na_position="last"),
                    growth[~busy].sort_values("added", ascending=False, na_position="last")]).reset_index(drop=True)
peak = pd.to_numeric(growth["peak_forecast_rps"], errors="coerce")
st.caption("Ranked by how many requests per second the daily peak gained week over week (absolute growth, not "
           f"percentage); the {fmt.count(int((~busy).sum()), 'system')} under {fmt.number(GROWTH_FLOOR_RPS)} req/s "
           "at peak are listed last, whatever their percentage. Volume is all requests in the period: it can fall "
           "while the daily peak rises.")


def _share(value) -> str:
    return fmt.MISSING if fmt.missing(value) else fmt.signed(100 * float(value), 1, "%")


view = pd.DataFrame({
    "System": growth["system_id"], "Name": growth["name"].fillna(fmt.MISSING),
    "Traffic class": growth["traffic_class"].map(lambda v: fmt.MISSING if fmt.missing(v) else v),
    "Peak forecast (req/s)": peak.round(1),
    "Baseline (req/s)": pd.to_numeric(growth["baseline_rps"], errors="coerce").round(1),
    "FLAS (req/s)": pd.to_numeric(growth["flas_rps"], errors="coerce").round(1),
    "Peak gained in a week": growth["added"].map(lambda v: fmt.MISSING if fmt.missing(v) else fmt.signed(v, 1, " req/s")),
    "Peak, week over week": growth["wow_peak"].map(_share),
    # volume (all requests in the period) can fall while the daily peak rises: named apart
    "Volume, week over week": growth["wow_volume"].map(_share),
    "Volume, month over month": growth["mom_volume"].map(_share) if "mom_volume" in growth else fmt.MISSING,
    "Volume, year over year": growth["yoy_volume"].map(_share) if "yoy_volume" in growth else fmt.MISSING,
})
st.dataframe(view, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(c, format="localized") for c in
                            ("Peak forecast (req/s)", "Baseline (req/s)", "FLAS (req/s)")})
