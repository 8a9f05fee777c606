"""Altair charts (Vega-Lite ships with Streamlit): colour where it carries meaning."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd

from app.palette import STATUS_COLORS

# Charts are built fresh on every run: skip Altair's JSON-schema validation while building them
# (it costs most of a page's render time; the specs are fixed by this module and its tests).
alt.utils.schemapi.disable_debug_mode()

SCORE_SCALE = alt.Scale(domain=[0, 50, 70, 85, 100], range=["#a50026", "#f46d43", "#fdae61", "#a6d96a", "#1a9850"])
TARGET_COLOR = "#4575b4"


def spec(chart: alt.TopLevelMixin) -> dict:
    """The chart as a Vega-Lite dict with its data inline, without validating it again."""
    return chart.to_dict(validate=False)


def score_trend(history: pd.DataFrame, progress: dict | None, *, height: int = 300) -> alt.Chart:
    """Score per run, the straight target line to the deadline, and the projected date of reaching it."""
    points = history.assign(at=pd.to_datetime(history["at"]), series="score")
    layers = [
        alt.Chart(points).mark_line(point=True, color="#313695").encode(
            x=alt.X("at:T", title=None),
            y=alt.Y("score:Q", title="score (%)", scale=alt.Scale(domain=[_floor(points), 100])),
            tooltip=[alt.Tooltip("at:T", title="run at", format="%Y-%m-%d %H:%M"), "run_id:Q",
                     alt.Tooltip("score:Q", format=".1f"), alt.Tooltip("points_outstanding:Q", format=",.0f")],
        )
    ]
    if progress and not points.empty:
        last = points.iloc[-1]
        target_at = pd.Timestamp(progress["target_date"])
        target = pd.DataFrame({"at": [last["at"], target_at], "score": [last["score"], progress["target_score"]],
                               "line": "target path"})
        layers.append(alt.Chart(target).mark_line(strokeDash=[6, 4], color=TARGET_COLOR).encode(
            x="at:T", y="score:Q", tooltip=["line:N", alt.Tooltip("at:T", format="%Y-%m-%d")]))
        rules = pd.DataFrame({"at": [target_at], "label": [f"deadline {progress['target_date']}"]})
        layers.append(alt.Chart(rules).mark_rule(color=TARGET_COLOR).encode(x="at:T", tooltip=["label:N"]))
        layers.append(alt.Chart(rules).mark_text(align="right", dx=-4, dy=-6, color=TARGET_COLOR).encode(
            x="at:T", y=alt.value(10), text="label:N"))
        if progress.get("projected_date"):
            projected_at = pd.Timestamp(progress["projected_date"])
            projection = pd.DataFrame({"at": [last["at"], projected_at], "score": [last["score"], progress["target_score"]],
                                       "line": "projection at the recent pace"})
            color = "#1a9850" if progress.get("on_track") else "#d73027"
            layers.append(alt.Chart(projection).mark_line(strokeDash=[2, 3], color=color).encode(
                x="at:T", y="score:Q", tooltip=["line:N", alt.Tooltip("at:T", format="%Y-%m-%d")]))
            proj = pd.DataFrame({"at": [projected_at], "score": [progress["target_score"]],
                                 "label": [f"projected 100%: {progress['projected_date']}"]})
            layers.append(alt.Chart(proj).mark_point(shape="diamond", size=90, filled=True, color=color).encode(
                x="at:T", y="score:Q", tooltip=["label:N"]))
    return alt.layer(*layers).properties(height=height)


def _floor(points: pd.DataFrame) -> float:
    low = float(points["score"].min()) if not points.empty else 0.0
    return max(0.0, (low // 10) * 10 - 10)


def heatmap(frame: pd.DataFrame, *, unit_title: str, select: bool = True, height: int | None = None) -> alt.Chart:
    """Units x categories coloured by score; click a cell to select its unit."""
    order = (frame.groupby("name")["outstanding"].sum().sort_values(ascending=False).index.tolist())
    columns = frame.groupby("category")["outstanding"].sum().sort_values(ascending=False).index.tolist()
    base = alt.Chart(frame).encode(
        x=alt.X("category:N", title=None, sort=columns,
                axis=alt.Axis(labelAngle=0, orient="top", labelLimit=120, labelOverlap=False)),
        y=alt.Y("name:N", title=unit_title, sort=order, axis=alt.Axis(labelLimit=220)),
    )
    tooltip = [alt.Tooltip("name:N", title=unit_title), "category:N",
               alt.Tooltip("score:Q", title="score (%)", format=".1f"),
               alt.Tooltip("outstanding:Q", title="points outstanding", format=",.1f"),
               alt.Tooltip("short:Q", title="results short of full credit")]
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("score:Q", scale=SCORE_SCALE, title="score (%)"), tooltip=tooltip)
    if select:
        rect = rect.add_params(alt.selection_point(name="cell", fields=["unit", "category"], on="click"))
    text = base.mark_text(fontSize=11).encode(  # the number to chase: points outstanding (score on hover)
        text=alt.Text("outstanding:Q", format=",.0f"), tooltip=tooltip,
        color=alt.condition(alt.datum.score < 60, alt.value("white"), alt.value("black")))
    return (rect + text).properties(width=alt.Step(96), height=height or 70 + 28 * len(order))


def score_bars(frame: pd.DataFrame, *, label: str = "name", height: int | None = None,
               select: bool = False) -> alt.Chart:
    """Horizontal bars per unit, worst first, coloured by score."""
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title="score (%)"),
        y=alt.Y(f"{label}:N", sort=alt.EncodingSortField("score", order="ascending"), title=None,
                axis=alt.Axis(labelLimit=220)),
        color=alt.Color("score:Q", scale=SCORE_SCALE, legend=None),
        tooltip=[f"{label}:N", alt.Tooltip("score:Q", format=".1f"),
                 alt.Tooltip("points_outstanding:Q", format=",.1f"), "systems:Q", "failing_rules:Q"],
    )
    if select:
        chart = chart.add_params(alt.selection_point(name="bar", fields=["key"], on="click"))
    return chart.properties(height=height or 60 + 30 * len(frame))


def status_bars(frame: pd.DataFrame) -> alt.Chart:
    """Results per status as one stacked bar per rule (pass rates at a glance)."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("systems:Q", stack="normalize", title="share of systems", axis=alt.Axis(format="%")),
        y=alt.Y("rule_id:N", title=None, sort=alt.EncodingSortField("pass_rate", order="ascending")),
        color=alt.Color("status:N", scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
                        title="status"),
        tooltip=["rule_id:N", "status:N", "systems:Q"],
    ).properties(height=60 + 20 * frame["rule_id"].nunique())


def unit_history(history: pd.DataFrame, *, height: int = 220) -> alt.Chart:
    points = history.assign(at=pd.to_datetime(history["at"]))
    return alt.Chart(points).mark_line(color="#313695", point=True).encode(
        x=alt.X("at:T", title=None),
        y=alt.Y("score:Q", title="score (%)", scale=alt.Scale(domain=[_floor(points), 100])),
        tooltip=[alt.Tooltip("at:T", format="%Y-%m-%d"), "run_id:Q", alt.Tooltip("score:Q", format=".1f")],
    ).properties(height=height)


def perf_runs(frame: pd.DataFrame, *, height: int = 260) -> alt.Chart:
    """Headline figure per run over time, coloured by verdict."""
    figure = pd.to_numeric(frame["breaking_point_rps"], errors="coerce")
    data = frame.assign(figure=figure.fillna(pd.to_numeric(frame["achieved_rps"], errors="coerce")))
    return alt.Chart(data).mark_circle(size=90).encode(
        x=alt.X("started_at:T", title=None, axis=alt.Axis(format="%b %d %H:%M")),
        y=alt.Y("figure:Q", title="sustained / achieved req/s"),
        color=alt.Color("verdict:N", scale=alt.Scale(domain=["pass", "fail", "invalid", "error", "timeout", "interrupted"],
                                                     range=["#1a9850", "#d73027", "#fdae61", "#762a83", "#f46d43", "#878787"])),
        shape="test_type:N",
        tooltip=["run_id:Q", "system_id:N", "test_type:N", "verdict:N", alt.Tooltip("started_at:T", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip("target_rps:Q", format=",.0f"), alt.Tooltip("achieved_rps:Q", format=",.0f"),
                 alt.Tooltip("breaking_point_rps:Q", format=",.0f"), alt.Tooltip("p95_ms:Q", format=",.0f")],
    ).properties(height=height)


def breaking_vs_forecast(frame: pd.DataFrame, *, height: int = 260) -> alt.Chart:
    """Breaking point next to the forecast need per system: bars and a tick for the need."""
    bars = alt.Chart(frame).mark_bar(color="#74add1").encode(
        y=alt.Y("system_id:N", title=None, sort=alt.EncodingSortField("ratio", order="ascending")),
        x=alt.X("breaking_point_rps:Q", title="req/s"),
        tooltip=["system_id:N", alt.Tooltip("breaking_point_rps:Q", format=",.0f"),
                 alt.Tooltip("need_rps:Q", format=",.0f"), alt.Tooltip("ratio:Q", format=".2f")],
    )
    ticks = alt.Chart(frame).mark_tick(color="#d73027", thickness=3, size=18).encode(
        y=alt.Y("system_id:N", sort=alt.EncodingSortField("ratio", order="ascending")), x="need_rps:Q")
    return (bars + ticks).properties(height=max(height, 22 * len(frame)))


SALE_COLORS = {"increase_requested": "#f4a582", "approved": "#4575b4", "scheduled": "#74add1", "live": "#762a83",
               "completed": "#bababa", "no_change_needed": "#1a9850", "rejected": "#d73027", "cancelled": "#878787"}


def timeline(frame: pd.DataFrame, *, start: str, end: str, label: str, color: str, height: int | None = None,
             now: datetime | None = None, text: str | None = None) -> alt.Chart:
    """Bars from start to end per row (rate-limit overrides, flash sales), labelled with ``text``."""
    base = alt.Chart(frame).encode(
        x=alt.X(f"{start}:T", title=None, axis=alt.Axis(format="%b %d %H:%M")), y=alt.Y(f"{label}:N", title=None))
    chart = base.mark_bar(cornerRadius=3, height=18).encode(
        x2=f"{end}:T",
        color=alt.Color(f"{color}:N", scale=alt.Scale(domain=list(SALE_COLORS), range=list(SALE_COLORS.values())),
                        title=color),
        tooltip=[alt.Tooltip(c) for c in frame.columns if not c.startswith("_")],
    )
    if text:
        chart = chart + base.mark_text(align="left", dx=4, fontSize=11).encode(x=f"{end}:T", text=f"{text}:N")
    if now is not None:
        rule = alt.Chart(pd.DataFrame({"now": [now], "label": ["now"]})).mark_rule(
            color="black", strokeDash=[3, 3]).encode(x="now:T", tooltip=["label:N"])
        chart = chart + rule
    return chart.properties(height=height or 40 + 34 * frame[label].nunique())


def forecast(history: pd.DataFrame, prediction: pd.DataFrame, *, lines: dict[str, float] | None = None,
             events: pd.DataFrame | None = None, height: int = 320) -> alt.Chart:
    """History, forecast with its p99 band, capacity lines and announced sales."""
    layers = []
    if not prediction.empty and "p99" in prediction:
        layers.append(alt.Chart(prediction).mark_area(opacity=0.25, color="#fdae61").encode(
            x=alt.X("timestamp:T", title=None), y=alt.Y("forecast:Q", title="requests per second"), y2="p99:Q",
            tooltip=[alt.Tooltip("timestamp:T", format="%Y-%m-%d %H:%M"), alt.Tooltip("forecast:Q", format=",.1f"),
                     alt.Tooltip("p99:Q", format=",.1f")]))
    if not history.empty:
        layers.append(alt.Chart(history).mark_line(color="#4575b4", strokeWidth=1).encode(
            x="timestamp:T", y="value:Q", tooltip=[alt.Tooltip("timestamp:T", format="%Y-%m-%d %H:%M"), "value:Q"]))
    if not prediction.empty:
        layers.append(alt.Chart(prediction).mark_line(color="#d73027", strokeWidth=1).encode(x="timestamp:T", y="forecast:Q"))
    if lines:
        frame = pd.DataFrame({"line": list(lines), "value": list(lines.values())})
        layers.append(alt.Chart(frame).mark_rule(strokeDash=[6, 3]).encode(
            y="value:Q", color=alt.Color("line:N", scale=alt.Scale(range=["#1a9850", "#762a83", "#313695"]), title=None),
            tooltip=["line:N", alt.Tooltip("value:Q", format=",.1f")]))
    if events is not None and not events.empty:
        layers.append(alt.Chart(events).mark_rect(opacity=0.15, color="#d73027").encode(
            x="starts_at:T", x2="ends_at:T", tooltip=[c for c in events.columns]))
    if not layers:
        layers.append(alt.Chart(pd.DataFrame({"x": []})).mark_point())
    return alt.layer(*layers).properties(height=height)


