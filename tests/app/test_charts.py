"""Every page's charts come from app/charts.py: one date format with the year, score colours from
the scoring policy, perftest ticks that tell runs minutes apart, labels not cut."""

from __future__ import annotations

import json

import pytest

import readiness
from tests.app.conftest import no_exceptions, open_app


def _specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _encodings(spec: dict):
    for layer in [spec, *spec.get("layer", [])]:
        yield layer.get("encoding", {})


def test_score_colours_are_red_only_up_to_the_blocker_cap(app_env, demo_db):
    app_env(demo_db)
    at = open_app("views/units.py")
    no_exceptions(at)
    scales = [e["color"]["scale"] for spec in _specs(at) for e in _encodings(spec)
              if e.get("color", {}).get("field") == "score" and "scale" in e["color"]]
    assert scales
    for scale in scales:
        stops, colours = scale["domain"], scale["range"]
        assert stops[1] == readiness.BLOCKER_CAP and stops[-1] == 100
        # 85% sits between the last two stops: light green to green, never red or amber
        below = max(i for i, stop in enumerate(stops) if stop <= 85)
        assert below == len(stops) - 2 and colours[below] in ("#a6d96a",) and colours[-1] == "#1a9850"


@pytest.mark.parametrize("page", ["views/overview.py", "views/season.py"])
def test_time_axes_write_dates_with_the_year(app_env, demo_db, page):
    """The Season page's burn-up was Streamlit's line chart ("Tue 13", "Oct 25", "November")."""
    app_env(demo_db)
    at = open_app(page)
    no_exceptions(at)
    assert not at.get("arrow_line_chart") and not [c for c in at.get("vega_lite_chart") if "line_chart" in str(c.proto)]
    formats = {e["x"]["axis"]["format"] for spec in _specs(at) for e in _encodings(spec)
               if e.get("x", {}).get("type") == "temporal" and "axis" in e["x"]}
    assert formats == {"%Y-%m-%d"}


def test_perftest_runs_minutes_apart_get_distinct_ticks(app_env, full_demo):
    app_env(full_demo[0])
    at = open_app("views/perftests.py")
    no_exceptions(at)
    axes = [e["x"]["axis"] for spec in _specs(at) for e in _encodings(spec)
            if e.get("x", {}).get("field") == "started_at"]
    assert axes and all(axis["format"] in ("%H:%M:%S", "%H:%M") and axis["title"].endswith("(UTC)") for axis in axes)


def test_the_rules_chart_shows_every_rule_name_uncut(app_env, demo_db):
    app_env(demo_db)
    at = open_app("views/rules.py")
    no_exceptions(at)
    axes = [e["y"]["axis"] for spec in _specs(at) for e in _encodings(spec) if e.get("y", {}).get("field") == "rule_id"]
    assert axes and all(axis["labelLimit"] == 0 and axis["labelOverlap"] is False for axis in axes)


def test_a_fortnight_of_minute_traffic_is_drawn_with_its_peaks_kept():
    """Two weeks of minute history and a week of minute forecast (the demo's resolution) made the
    System page raise Altair's MaxRowsError; each series is thinned, its peak drawn as observed."""
    import numpy as np
    import pandas as pd

    from app import charts

    minutes = pd.date_range("2026-11-22", periods=14 * 1440, freq="min")
    history = pd.DataFrame({"timestamp": minutes, "value": 100 + 50 * np.sin(np.arange(len(minutes)) / 229.0)})
    history.loc[9_001, "value"] = 987.6  # one busy minute
    ahead = pd.date_range(minutes[-1], periods=7 * 1440, freq="min")
    prediction = pd.DataFrame({"timestamp": ahead, "forecast": 120.0, "p90": 150.0, "p99": 180.0})
    spec = charts.spec(charts.forecast(history, prediction, lines=[("Baseline", 400.0)]))
    layers = {layer.get("name"): layer for layer in spec["layer"]}
    drawn = spec["datasets"][layers["history"]["data"]["name"]]
    assert len(drawn) <= charts.MAX_POINTS and max(row["value"] for row in drawn) == 987.6
    assert len(spec["datasets"][layers["forecast"]["data"]["name"]]) <= charts.MAX_POINTS
