"""Altair charts (Vega-Lite ships with Streamlit): colour where it carries meaning."""

from __future__ import annotations

from datetime import datetime

import altair as alt
import pandas as pd

from app import fmt
from app.palette import (
    SALE_COLORS,
    SCORE_COLORS,
    SERIES_COLORS,
    STATUS_COLORS,
    STATUS_LABELS,
    VERDICT_COLORS,
    score_stops,
)
from readiness import BLOCKER_CAP

# Charts are built fresh on every run: skip Altair's JSON-schema validation while building them
# (it costs most of a page's render time; the specs are fixed by this module and its tests).
alt.utils.schemapi.disable_debug_mode()

# Red up to the blocker cap of the scoring policy, green at the target: 85% reads light green.
SCORE_SCALE = alt.Scale(domain=score_stops(BLOCKER_CAP), range=list(SCORE_COLORS))
TARGET_COLOR = SERIES_COLORS["target"]
RATE_FORMAT = ",.4~r"  # 1,911 / 2.5 / 0.25: thousands separators, no repeated labels at small rates
# One way to write time on every chart, as app/fmt.py writes it in text: ISO days, the minute in tooltips.
DAY_FORMAT, MOMENT_FORMAT = "%Y-%m-%d", "%Y-%m-%d %H:%M"


def time_axis(values=None, *, title: str | None = None) -> alt.Axis:
    """An x axis of dates with their year ("2026-12-05"); within one day the times of that day
    ("21:20:05", the day in the title) so ticks of runs minutes apart stay distinct."""
    times = pd.to_datetime(pd.Series(values), errors="coerce").dropna() if values is not None else pd.Series()
    if len(times) and times.max() - times.min() < pd.Timedelta(days=1):
        span = times.max() - times.min()
        text = "%H:%M:%S" if span < pd.Timedelta(hours=1) else "%H:%M"
        return alt.Axis(format=text, labelAngle=0, labelOverlap=True,
                        title=title or f"{fmt.day(times.min())} (UTC)")
    return alt.Axis(format=DAY_FORMAT, labelAngle=0, labelOverlap=True, title=title)


def spec(chart: alt.TopLevelMixin) -> dict:
    """The chart as a Vega-Lite dict with its data inline, without validating it again."""
    return chart.to_dict(validate=False)


def score_trend(history: pd.DataFrame, progress: dict | None, *, height: int = 300) -> alt.Chart:
    """Score per run, the straight target line to the deadline, and the projected date of reaching it."""
    points = history.assign(at=pd.to_datetime(history["at"]), series="score")
    layers = [
        alt.Chart(points).mark_line(point=True, color=SERIES_COLORS["score"]).encode(
            x=alt.X("at:T", title=None, axis=time_axis()),
            y=alt.Y("score:Q", title="score (%)", scale=alt.Scale(domain=[_floor(points), 100])),
            tooltip=[alt.Tooltip("at:T", title="run at", format=MOMENT_FORMAT), alt.Tooltip("run_id:Q", title="run"),
                     alt.Tooltip("score:Q", title="score (%)", format=".1f"),
                     alt.Tooltip("points_outstanding:Q", title="points outstanding", format=",.0f")],
        )
    ]
    if progress and not points.empty:
        last = points.iloc[-1]
        target_at = pd.Timestamp(progress["target_date"])
        target = pd.DataFrame({"at": [last["at"], target_at], "score": [last["score"], progress["target_score"]],
                               "line": "target path"})
        layers.append(alt.Chart(target).mark_line(strokeDash=[6, 4], color=TARGET_COLOR).encode(
            x="at:T", y="score:Q", tooltip=["line:N", alt.Tooltip("at:T", format=DAY_FORMAT)]))
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
                x="at:T", y="score:Q", tooltip=["line:N", alt.Tooltip("at:T", format=DAY_FORMAT)]))
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
        tooltip=[alt.Tooltip(f"{label}:N", title="name"), alt.Tooltip("score:Q", title="score (%)", format=".1f"),
                 alt.Tooltip("points_outstanding:Q", title="points outstanding", format=",.1f"),
                 alt.Tooltip("systems:Q", format=","), alt.Tooltip("failing_rules:Q", title="failing rules")],
    )
    if select:
        chart = chart.add_params(alt.selection_point(name="bar", fields=["key"], on="click"))
    return chart.properties(height=height or 60 + 30 * len(frame))


def status_bars(frame: pd.DataFrame) -> alt.Chart:
    """Results per status as one stacked bar per rule (pass rates at a glance)."""
    frame = frame.assign(status=frame["status"].map(lambda s: STATUS_LABELS.get(s, s)))
    labels = [STATUS_LABELS.get(s, s) for s in STATUS_COLORS]
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("systems:Q", stack="normalize", title="share of systems", axis=alt.Axis(format="%")),
        y=alt.Y("rule_id:N", title=None, sort=alt.EncodingSortField("pass_rate", order="ascending"),
                axis=alt.Axis(labelLimit=0, labelOverlap=False, labelFontSize=11)),  # every rule, uncut
        color=alt.Color("status:N", scale=alt.Scale(domain=labels, range=list(STATUS_COLORS.values())),
                        title="status", legend=alt.Legend(orient="top", columns=5, labelLimit=0)),
        tooltip=[alt.Tooltip("rule_id:N", title="rule"), "status:N", alt.Tooltip("systems:Q", format=",")],
    ).properties(height=80 + 22 * frame["rule_id"].nunique())


def unit_history(history: pd.DataFrame, *, height: int = 220) -> alt.Chart:
    points = history.assign(at=pd.to_datetime(history["at"]))
    return alt.Chart(points).mark_line(color=SERIES_COLORS["score"], point=True).encode(
        x=alt.X("at:T", title=None, axis=time_axis()),
        y=alt.Y("score:Q", title="score (%)", scale=alt.Scale(domain=[_floor(points), 100])),
        tooltip=[alt.Tooltip("at:T", title="run at", format=MOMENT_FORMAT), alt.Tooltip("run_id:Q", title="run"),
                 alt.Tooltip("score:Q", title="score (%)", format=".1f")],
    ).properties(height=height)


def burn_up(scores: pd.DataFrame, target: float, *, height: int = 260) -> alt.Chart:
    """A season's score per run against its target (the Season page), dates as on every chart."""
    points = scores.assign(at=pd.to_datetime(scores["at"]))
    line = alt.Chart(points).mark_line(color=SERIES_COLORS["score"], point=True).encode(
        x=alt.X("at:T", title=None, axis=time_axis(points["at"])),
        y=alt.Y("score:Q", title="score (%)", scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("at:T", title="run at", format=MOMENT_FORMAT), alt.Tooltip("run_id:Q", title="run"),
                 alt.Tooltip("score:Q", title="score (%)", format=".1f")],
    ).properties(name="score")
    goal = pd.DataFrame({"target": [float(target)], "label": [f"target {fmt.pct(target)}"]})
    rule = alt.Chart(goal).mark_rule(color=TARGET_COLOR, strokeDash=[6, 3]).encode(y="target:Q").properties(
        name="target")
    label = alt.Chart(goal).mark_text(align="left", dx=4, dy=-7, fontSize=11, color=TARGET_COLOR).encode(
        x=alt.value(0), y="target:Q", text="label:N")
    return alt.layer(line, rule, label).properties(height=height)


def perf_runs(frame: pd.DataFrame, *, height: int = 260) -> alt.Chart:
    """Headline figure per run over time, coloured by verdict."""
    figure = pd.to_numeric(frame["breaking_point_rps"], errors="coerce")
    data = frame.assign(figure=figure.fillna(pd.to_numeric(frame["achieved_rps"], errors="coerce")))
    return alt.Chart(data).mark_circle(size=90).encode(
        x=alt.X("started_at:T", title=None, axis=time_axis(data["started_at"])),
        y=alt.Y("figure:Q", title="sustained / achieved req/s", axis=alt.Axis(format=RATE_FORMAT)),
        color=alt.Color("verdict:N", scale=alt.Scale(domain=list(VERDICT_COLORS), range=list(VERDICT_COLORS.values()))),
        shape=alt.Shape("test_type:N", title="test type"),
        tooltip=[alt.Tooltip("run_id:Q", title="run"), alt.Tooltip("system_id:N", title="system"),
                 alt.Tooltip("test_type:N", title="test type"), "verdict:N",
                 alt.Tooltip("started_at:T", title="started", format=MOMENT_FORMAT),
                 alt.Tooltip("target_rps:Q", format=",.0f"), alt.Tooltip("achieved_rps:Q", format=",.0f"),
                 alt.Tooltip("breaking_point_rps:Q", format=",.0f"), alt.Tooltip("p95_ms:Q", format=",.0f")],
    ).properties(height=height)


def breaking_vs_forecast(frame: pd.DataFrame, *, height: int = 260) -> alt.Chart:
    """Breaking point next to the forecast need per system: bars and a tick for the need."""
    bars = alt.Chart(frame).mark_bar(color=SERIES_COLORS["history"]).encode(
        y=alt.Y("system_id:N", title=None, sort=alt.EncodingSortField("ratio", order="ascending")),
        x=alt.X("breaking_point_rps:Q", title="req/s"),
        tooltip=[alt.Tooltip("system_id:N", title="system"),
                 alt.Tooltip("breaking_point_rps:Q", title="breaking point (req/s)", format=",.0f"),
                 alt.Tooltip("need_rps:Q", title="forecast need (req/s)", format=",.0f"),
                 alt.Tooltip("ratio:Q", title="breaking point / need", format=".2f")],
    )
    ticks = alt.Chart(frame).mark_tick(color=SERIES_COLORS["forecast"], thickness=3, size=18).encode(
        y=alt.Y("system_id:N", sort=alt.EncodingSortField("ratio", order="ascending")), x="need_rps:Q")
    return (bars + ticks).properties(height=max(height, 22 * len(frame)))


def timeline(frame: pd.DataFrame, *, start: str, end: str, label: str, color: str, height: int | None = None,
             now: datetime | None = None, text: str | None = None) -> alt.Chart:
    """Bars from start to end per row (rate-limit overrides, flash sales), labelled with ``text``."""
    base = alt.Chart(frame).encode(
        x=alt.X(f"{start}:T", title=None, axis=time_axis(pd.concat([frame[start], frame[end]]))),
        y=alt.Y(f"{label}:N", title=None, axis=alt.Axis(labelLimit=260)))
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
            color=SERIES_COLORS["now"], strokeDash=[3, 3]).encode(x="now:T", tooltip=["label:N"])
        chart = chart + rule
    return chart.properties(height=height or max(160, 60 + 36 * frame[label].nunique()))  # readable with one row


def _when(value) -> alt.DateTime:
    stamp = pd.Timestamp(value)
    return alt.DateTime(year=stamp.year, month=stamp.month, date=stamp.day, hours=stamp.hour, minutes=stamp.minute)


MAX_POINTS = 1_500  # rows per drawn series: more than a chart's width in pixels; Altair refuses over 5,000


def thin(frame: pd.DataFrame | None, limit: int = MAX_POINTS) -> pd.DataFrame | None:
    """At most ``limit`` rows of a time series: runs of consecutive rows merged into one, at the
    run's first timestamp with the largest of each value, so peaks stay as high as observed
    (two weeks of minute traffic are 20,160 rows)."""
    if frame is None or len(frame) <= limit:
        return frame
    size = -(-len(frame) // limit)
    ordered = frame.sort_values("timestamp").reset_index(drop=True)
    values = [c for c in ordered.columns if c != "timestamp" and pd.api.types.is_numeric_dtype(ordered[c])]
    return ordered.groupby(ordered.index // size).agg({"timestamp": "first", **dict.fromkeys(values, "max")}
                                                      ).reset_index(drop=True)


def forecast(history: pd.DataFrame, prediction: pd.DataFrame, *, lines: list[tuple[str, float]] | None = None,
             events: pd.DataFrame | None = None, now: datetime | None = None, season: dict | None = None,
             peak_days: pd.DataFrame | None = None, projection: pd.DataFrame | None = None,
             start=None, end=None, height: int = 340) -> alt.Chart:
    """Traffic in req/s over time: history, the forecast (p50) with its p50–p99 band, Baseline,
    FLAS and breaking-point lines labelled with their values, the "now" line, the season's peak
    window and peak days, announced flash sales (shaded) and the peak projection's points.

    Every layer is named (``band``, ``now``, ``season``, ``peak days``, ``flash sales``, ...),
    so readers of the spec (tests, the browser tour) find each. ``start``/``end`` fix the axis.
    Long series are thinned to ``MAX_POINTS`` rows each, keeping their peaks (:func:`thin`).
    """
    history, prediction = thin(history), thin(prediction)
    times = [t for frame, column in ((history, "timestamp"), (prediction, "timestamp"))
             if frame is not None and not frame.empty for t in (frame[column].min(), frame[column].max())]
    times += [t for t in (now, start, end) if t is not None]
    left = pd.Timestamp(start) if start is not None else (min(times) if times else None)
    right = pd.Timestamp(end) if end is not None else (max(times) if times else None)
    scale = alt.Scale(domain=[_when(left), _when(right)]) if left is not None and right is not None else alt.Undefined
    axis = time_axis([left, right] if left is not None else None)

    def x(field: str) -> alt.X:
        return alt.X(f"{field}:T", title=None, scale=scale, axis=axis)

    y_title = "requests per second (req/s)"
    layers = []
    if season and season.get("starts_on") and season.get("ends_on"):
        window = pd.DataFrame({"starts": [pd.Timestamp(season["starts_on"])],
                               "ends": [pd.Timestamp(season["ends_on"]) + pd.Timedelta(days=1)],
                               "label": [f"{season.get('name') or 'peak season'}: {fmt.day(season['starts_on'])} "
                                         f"to {fmt.day(season['ends_on'])}"]})
        layers.append(alt.Chart(window).mark_rect(opacity=0.12, color=SERIES_COLORS["season"], clip=True).encode(
            x=x("starts"), x2="ends:T", tooltip=[alt.Tooltip("label:N", title="peak window")]
        ).properties(name="season"))
        layers.append(alt.Chart(window).mark_text(align="right", dx=-4, dy=10, fontSize=11, clip=True,
                                                  color=SERIES_COLORS["season"]).encode(
            x=x("ends"), y=alt.value(0), text="label:N"))
    if events is not None and not events.empty:
        sales = events.assign(label="flash sale: " + events["name"].astype(str))
        layers.append(alt.Chart(sales).mark_rect(opacity=0.25, color=SERIES_COLORS["sale"], clip=True).encode(
            x=x("starts_at"), x2="ends_at:T",
            tooltip=[alt.Tooltip("name:N", title="flash sale"), alt.Tooltip("merchant_name:N", title="merchant"),
                     alt.Tooltip("starts_at:T", title="starts", format=MOMENT_FORMAT),
                     alt.Tooltip("ends_at:T", title="ends", format=MOMENT_FORMAT),
                     alt.Tooltip("multiplier:Q", title="expected multiplier", format=".1f")]
        ).properties(name="flash sales"))
        layers.append(alt.Chart(sales).mark_text(align="left", dx=3, dy=24, fontSize=11, clip=True,
                                                 color=SERIES_COLORS["sale"]).encode(
            x=x("starts_at"), y=alt.value(0), text="label:N"))
    if peak_days is not None and not peak_days.empty:
        days = peak_days.assign(day=pd.to_datetime(peak_days["day"]))
        layers.append(alt.Chart(days).mark_rule(color=SERIES_COLORS["season"], strokeDash=[2, 2], clip=True).encode(
            x=x("day"), tooltip=[alt.Tooltip("name:N", title="peak day"), alt.Tooltip("day:T", format=DAY_FORMAT)]
        ).properties(name="peak days"))
        layers.append(alt.Chart(days.head(1)).mark_text(angle=270, align="right", baseline="bottom", dy=-2, dx=-30,
                                                        fontSize=10, clip=True, color=SERIES_COLORS["season"]).encode(
            x=x("day"), y=alt.value(0), text="name:N"))  # the first peak day named; the others on hover
    if not prediction.empty and "p99" in prediction:
        band = prediction.assign(band="p50–p99")
        layers.append(alt.Chart(band).mark_area(opacity=0.45, color=SERIES_COLORS["band"], clip=True).encode(
            x=x("timestamp"), y=alt.Y("forecast:Q", title=y_title, axis=alt.Axis(format=RATE_FORMAT)), y2="p99:Q",
            tooltip=[alt.Tooltip("timestamp:T", title="at", format=MOMENT_FORMAT),
                     alt.Tooltip("forecast:Q", title="forecast p50 (req/s)", format=",.1f"),
                     alt.Tooltip("p99:Q", title="p99 (req/s)", format=",.1f")]
        ).properties(name="band"))
    if not history.empty:
        layers.append(alt.Chart(history).mark_line(color=SERIES_COLORS["history"], strokeWidth=1.2, clip=True).encode(
            x=x("timestamp"), y=alt.Y("value:Q", title=y_title),
            tooltip=[alt.Tooltip("timestamp:T", title="at", format=MOMENT_FORMAT),
                     alt.Tooltip("value:Q", title="observed (req/s)", format=",.1f")]
        ).properties(name="history"))
    if not prediction.empty:
        layers.append(alt.Chart(prediction).mark_line(color=SERIES_COLORS["forecast"], strokeWidth=1.8,
                                                      clip=True).encode(
            x=x("timestamp"), y=alt.Y("forecast:Q", title=y_title),
            tooltip=[alt.Tooltip("timestamp:T", title="at", format=MOMENT_FORMAT),
                     alt.Tooltip("forecast:Q", title="forecast p50 (req/s)", format=",.1f")]
        ).properties(name="forecast"))
    for name, value in lines or []:
        if fmt.missing(value):
            continue
        color = SERIES_COLORS.get(name.split(" ")[0], SERIES_COLORS.get(name, "#555555"))
        label = f"{name} {fmt.rate(value)}"
        frame = pd.DataFrame({"value": [float(value)], "label": [label], "at": [left]})
        layers.append(alt.Chart(frame).mark_rule(strokeDash=[6, 3], strokeWidth=1.5, color=color).encode(
            y=alt.Y("value:Q", title=y_title), tooltip=[alt.Tooltip("label:N", title="line")]).properties(name=name))
        layers.append(alt.Chart(frame).mark_text(align="left", dx=4, dy=-7, fontSize=11, fontWeight="bold",
                                                 color=color).encode(x=x("at"), y="value:Q", text="label:N"))
    if projection is not None and not projection.empty:
        points = projection.assign(day=pd.to_datetime(projection["day"]))
        points["label"] = [f"{n}: {fmt.rate(v)} projected" for n, v in zip(points["name"], points["rps"], strict=True)]
        layers.append(alt.Chart(points).mark_point(shape="diamond", size=120, filled=True,
                                                   color=SERIES_COLORS["projection"], clip=True).encode(
            x=x("day"), y=alt.Y("rps:Q", title=y_title), tooltip=[alt.Tooltip("label:N", title="peak projection")]
        ).properties(name="projection"))
        # below and left of its diamond: above it runs the season's label along the chart's top
        layers.append(alt.Chart(points.head(1)).mark_text(align="right", dx=-8, dy=16, fontSize=11, clip=True,
                                                          color=SERIES_COLORS["projection"]).encode(
            x=x("day"), y="rps:Q", text="label:N"))
    if now is not None:
        frame = pd.DataFrame({"now": [pd.Timestamp(now)], "label": [f"now {fmt.moment(now)}"]})
        layers.append(alt.Chart(frame).mark_rule(color=SERIES_COLORS["now"], strokeWidth=1.5, clip=True).encode(
            x=x("now"), tooltip=[alt.Tooltip("label:N", title="now")]).properties(name="now"))
        layers.append(alt.Chart(frame.assign(text="now")).mark_text(align="left", baseline="top", dx=4, dy=2,
                                                                    fontWeight="bold", clip=True,
                                                                    color=SERIES_COLORS["now"]).encode(
            x=x("now"), y=alt.value(0), text="text:N"))
    if not layers:
        layers.append(alt.Chart(pd.DataFrame({"x": []})).mark_point())
    return alt.layer(*layers).properties(height=height)
