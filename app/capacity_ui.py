"""Capacity views over Kapacity's stored forecasts (empty states until ``kapacity run`` has stored some).

One series (a system's total or one service) is drawn against what matters for the
season: "now", the stored forecast with its p50–p99 band, the Baseline and FLAS
capacity to hold and the breaking point perftest measured (each labelled with its
value), announced flash sales (shaded), the season's peak window and peak days, and
Kapacity's peak projection where one is stored. When the forecast stops short of
the peak, a second chart runs from now through the peak (daily peaks) and the page
says so in words.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from app import charts, data, fmt, ui

NO_FORECAST = ("No forecast yet", "kapacity run --histories DIR")
# The shopping peak days as Kapacity's calendar names them (kapacity/calendar.py), used to mark the
# season's peak days when no projection names them.
PEAK_DAY_OFFSETS = (("Black Friday", 1), ("Cyber Monday", 4))
PEAK_DAYS_FIXED = (("Christmas Eve", 12, 24), ("Christmas Day", 12, 25), ("Boxing Day", 12, 26),
                   ("New Year's Eve", 12, 31))


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def peak_days(season: dict | None, projection: dict | None = None) -> pd.DataFrame:
    """The season's peak days (day, name) inside its peak window, as the projection names them when
    it does, else the shopping peaks of the calendar."""
    columns = ["day", "name"]
    if projection and projection.get("basis"):
        rows = {(b.get("projected_on"), b.get("event")) for b in projection["basis"]
                if b.get("projected_on") and b.get("event")}
        if rows:
            return pd.DataFrame(sorted(rows), columns=columns)
    if not season or not season.get("starts_on") or not season.get("ends_on"):
        return pd.DataFrame(columns=columns)
    starts, ends = date.fromisoformat(str(season["starts_on"])[:10]), date.fromisoformat(str(season["ends_on"])[:10])
    rows = []
    for year in range(starts.year, ends.year + 1):
        rows += [(_thanksgiving(year) + timedelta(days=offset), name) for name, offset in PEAK_DAY_OFFSETS]
        rows += [(date(year, month, day), name) for name, month, day in PEAK_DAYS_FIXED]
    return pd.DataFrame(sorted((d.isoformat(), n) for d, n in rows if starts <= d <= ends), columns=columns)


def projection_points(projection: dict | None, days: pd.DataFrame) -> pd.DataFrame:
    """The peak projection as points (day, name, rps): one per projected peak day, else the peak on
    the first peak day."""
    columns = ["day", "name", "rps"]
    if not projection or fmt.missing(projection.get("peak_rps")):
        return pd.DataFrame(columns=columns)
    basis = [b for b in projection.get("basis") or [] if b.get("projected_on") and b.get("projected_peak_rps")]
    if basis:
        return pd.DataFrame([(b["projected_on"], b.get("event") or "peak day", float(b["projected_peak_rps"]))
                             for b in basis], columns=columns)
    if days.empty:
        window = projection.get("window") or {}
        if not window.get("starts_on"):
            return pd.DataFrame(columns=columns)
        return pd.DataFrame([(window["starts_on"], "peak", float(projection["peak_rps"]))], columns=columns)
    return pd.DataFrame([(days.iloc[0]["day"], days.iloc[0]["name"], float(projection["peak_rps"]))], columns=columns)


def _daily(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Daily peaks of a series (the busiest interval of each day), stamped at noon."""
    if frame.empty:
        return frame
    grouped = frame.assign(day=pd.to_datetime(frame["timestamp"]).dt.floor("D")).groupby("day")[columns].max()
    return grouped.reset_index().assign(timestamp=lambda f: f["day"] + pd.Timedelta(hours=12)).drop(columns="day")


def _events_for(url: str, system_id: str) -> pd.DataFrame:
    events = data.sale_events(url)
    if events.empty:
        return events
    return events[events["systems"].str.split(",").apply(lambda ids: system_id in ids)]


def context(url: str, kap_run: int, system_id: str, service: str | None) -> dict:
    """What the charts and the words about one series need, read once."""
    season = data.season(url)
    projection = data.peak_projection(url, kap_run, system_id, service)
    days = peak_days(season, projection)
    return {"season": season, "projection": projection, "peak_days": days,
            "points": projection_points(projection, days), "breaking": data.breaking_point(url, system_id),
            "events": _events_for(url, system_id), "now": data.now()}


def lines(row: pd.Series, breaking: dict | None) -> list[tuple[str, float]]:
    out = [("Baseline", row.get("baseline_rps")), ("FLAS", row.get("flas_rps"))]
    if breaking is not None:
        out.append((f"breaking point ({breaking['test_type']} test {fmt.day(breaking['at'])})", breaking["rps"]))
    return [(name, float(value)) for name, value in out if not fmt.missing(value)]


def forecast_chart(url: str, kap_run: int, system_id: str, service: str | None, row: pd.Series,
                   *, height: int = 340) -> None:
    """The forecast chart of one series, the words about how far it reaches, and the season chart
    when the forecast stops short of the peak."""
    if data.forecast(url, kap_run, system_id, service).empty:
        ui.empty("This forecast was stored without its points", "kapacity run --points")
        return
    capacity = tuple((name, value) for name, value in (("Baseline", row.get("baseline_rps")),
                                                        ("FLAS", row.get("flas_rps"))) if not fmt.missing(value))
    minute = pd.Timestamp(data.now()).floor("min").isoformat()
    detail, season, sentences, history = figures(url, kap_run, system_id, service, capacity, minute, height)
    st.vega_lite_chart(detail, width="stretch")
    st.caption("Blue: observed traffic; dark red: the forecast (p50) with its p50–p99 band (shaded orange); "
               "dashed: Baseline and FLAS capacity to hold and the breaking point perftest measured, each with its "
               "value; black: now; red shading: announced flash sales going ahead; purple: the season's peak "
               "window and peak days; diamonds: Kapacity's peak projection."
               + ("" if history else " Set KAPACITY_HISTORY_DIR to show the observed traffic."))
    for sentence in sentences:
        st.markdown(sentence)
    if season is not None:
        st.markdown("**From now through the season's peak** (daily peaks)")
        st.vega_lite_chart(season, width="stretch")


@st.cache_data(ttl=data.TTL, show_spinner=False)  # sales and perftest runs may change; "now" keys it per minute
def figures(url: str, kap_run: int, system_id: str, service: str | None, capacity: tuple, minute: str,
            height: int) -> tuple[dict, dict | None, list[str], bool]:
    """The detail chart, the chart through the season's peak (None when the forecast reaches it),
    the sentences about the forecast's reach, and whether the observed history is there."""
    prediction = data.forecast(url, kap_run, system_id, service)
    ctx = context(url, kap_run, system_id, service)
    history = data.traffic_history(url, system_id, service)
    now, first, last = pd.Timestamp(minute), prediction["timestamp"].min(), prediction["timestamp"].max()
    drawn = lines(pd.Series(dict(capacity)).rename({"Baseline": "baseline_rps", "FLAS": "flas_rps"}), ctx["breaking"])
    start = min([first, *([history["timestamp"].min()] if not history.empty else [])])
    near = start - pd.Timedelta(days=3) <= now <= last + pd.Timedelta(days=7)  # else the forecast shrinks to a sliver
    start, end = (min(start, now), max(last, now)) if near else (start, last)
    detail = charts.spec(charts.forecast(history, prediction, lines=drawn, events=ctx["events"],
                                         now=now if near else None, season=ctx["season"], peak_days=ctx["peak_days"],
                                         projection=ctx["points"], start=start, end=end, height=height))
    season = ctx["season"]
    sentences = reach(first, last, now, season, ctx["projection"], ctx["peak_days"])
    through = None
    if season and pd.Timestamp(season["ends_on"]) > last:
        daily = _daily(prediction, [c for c in ("forecast", "p90", "p99") if c in prediction])
        observed = _daily(history, ["value"]) if not history.empty else history
        through = charts.spec(charts.forecast(
            observed, daily, lines=drawn, events=ctx["events"], now=now, season=season, peak_days=ctx["peak_days"],
            projection=ctx["points"], start=min(start, now), end=pd.Timestamp(season["ends_on"]) + pd.Timedelta(days=2),
            height=280))
    return detail, through, sentences, not history.empty


def reach(first, last, now, season: dict | None, projection: dict | None, days: pd.DataFrame) -> list[str]:
    """In words: what the forecast covers, whether it reaches the season's peak, and the projection."""
    out = [f"The stored forecast runs from {fmt.moment(first)} to {fmt.moment(last)}"
           + (f" (it starts {fmt.count((pd.Timestamp(now) - pd.Timestamp(first)).days, 'day')} before now)."
              if pd.Timestamp(first) < pd.Timestamp(now) - pd.Timedelta(days=1) else ".")]
    if pd.Timestamp(last) < pd.Timestamp(now):
        out.append("**This forecast lies entirely in the past**: run `kapacity run` again for one from now on.")
    if not season:
        out.append("No peak season is set (`readiness season create`), so no peak days are marked.")
        return out
    peak_start = pd.Timestamp(season["starts_on"])
    first_day = (f"{days.iloc[0]['name']}, {fmt.day(days.iloc[0]['day'])}" if not days.empty
                 else fmt.day(season["starts_on"]))
    if pd.Timestamp(last) >= pd.Timestamp(season["ends_on"]):
        out.append(f"It reaches through the season's peak ({season.get('name')}, {fmt.day(season['starts_on'])} to "
                   f"{fmt.day(season['ends_on'])}).")
    else:
        gap = (peak_start - pd.Timestamp(last)).days
        where = (f"ends {fmt.count(gap, 'day')} before the season's peak starts ({first_day})" if gap > 0
                 else f"ends inside the season's peak window, before its last day ({fmt.day(season['ends_on'])})")
        out.append(f"**The forecast does not reach the peak**: it {where}.")
    if projection and not fmt.missing(projection.get("peak_rps")):
        out.append(f"Kapacity's peak projection for the season: {fmt.rate(projection['peak_rps'])} at peak; "
                   f"Baseline {fmt.rate(projection.get('baseline_rps'))}, FLAS {fmt.rate(projection.get('flas_rps'))}.")
    elif projection and projection.get("missing"):
        out.append(f"No peak projection: {projection['missing']}.")
    else:
        out.append("No peak projection is stored for this series: a Kapacity run with the season's history "
                   "projects one.")
    return out


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
    metrics(row, data.breaking_point(url, system_id))
    forecast_chart(url, kap_run, system_id, None, row, height=280)


def metrics(row: pd.Series, breaking: dict | None) -> None:
    """The series' figures, whole req/s so they fit (the exact value on hover)."""
    cols = st.columns(4)
    cols[0].metric("Peak forecast", rate(row.get("peak_forecast_rps")), help=exact(row.get("peak_forecast_rps")))
    cols[1].metric("Baseline capacity", rate(row.get("baseline_rps")), help=exact(row.get("baseline_rps")))
    driver = row.get("flas_driver")
    cols[2].metric("FLAS capacity", rate(row.get("flas_rps")),
                   help=exact(row.get("flas_rps")) + (f"; set by {str(driver).replace('_', ' ')}"
                                                      if not fmt.missing(driver) else ""))
    if breaking is not None:
        cols[3].metric("Breaking point", rate(breaking["rps"]),
                       help=f"{breaking['test_type']} test run {breaking['run_id']}, {fmt.moment(breaking['at'])}")
    else:
        cols[3].metric("Breaking point", "not measured", help="No perftest run of this system found its breaking point")


def rate(value) -> str:
    """A rate short enough for a metric: "1,911 req/s", "2.4 req/s" (per minute below 1 req/s: "36 req/min")."""
    if fmt.missing(value):
        return fmt.MISSING
    value = float(value)
    if 0 < value < 1:
        return f"{fmt.number(value * 60)} req/min"
    return f"{fmt.number(value, 1 if value < 100 else 0)} req/s"


def exact(value) -> str:
    return fmt.MISSING if fmt.missing(value) else f"{fmt.number(value, 2)} req/s ({fmt.number(float(value) * 60)} req/min)"
