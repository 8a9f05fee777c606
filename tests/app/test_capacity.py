"""The Capacity page and the System page's forecast on a real Kapacity run over synthetic histories
(the full demo): what the chart shows (now, the band, the season and its peak days, sales), the
figures in readable units, and no developer text."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

import readiness
from storage import get_engine
from tests.app.conftest import no_exceptions, open_app, texts


@pytest.fixture
def forecasts(app_env, full_demo, monkeypatch):
    url, histories = full_demo
    app_env(url)
    monkeypatch.setenv("KAPACITY_HISTORY_DIR", str(histories))
    return url


def _layers(at) -> tuple[dict[str, dict], list[dict]]:
    """The named layers of the page's forecast charts (the forecast, and from now through the
    season's peak when the forecast stops short of it), and the rows of their data."""
    import pyarrow as pa

    layers, rows = {}, []
    for element in at.get("vega_lite_chart"):
        spec = json.loads(element.proto.spec)
        layers.update({layer["name"]: layer for layer in spec.get("layer", []) if "name" in layer})
        rows += [row for dataset in element.proto.datasets
                 for row in pa.ipc.open_stream(dataset.data.data).read_pandas().to_dict("records")]
    return layers, rows


def _visible(at) -> str:
    """Text a person reads: texts, metric values and help, and every table cell."""
    cells = [str(v) for d in at.dataframe for v in d.value.astype(str).to_numpy().ravel()]
    cells += [str(c) for d in at.dataframe for c in d.value.columns]
    return texts(at) + "\n" + "\n".join(cells)


def test_the_forecast_chart_marks_now_the_band_the_season_and_capacity_lines(forecasts):
    at = open_app("views/capacity.py")
    no_exceptions(at)
    layers, rows = _layers(at)
    assert {"now", "band", "forecast", "Baseline", "FLAS", "season", "peak days"} <= set(layers)
    band = layers["band"]
    assert band["mark"]["type"] == "area" and band["mark"]["opacity"] >= 0.3  # visible, not a 1–2 px tint
    assert band["encoding"]["y"]["field"] == "forecast" and band["encoding"]["y2"]["field"] == "p99"
    assert layers["now"]["mark"]["type"] == "rule"
    # dates with their year on the time axis
    assert layers["now"]["encoding"]["x"]["axis"]["format"] in ("%Y-%m-%d", "%H:%M", "%H:%M:%S")
    # the Baseline and FLAS lines are labelled with their values in req/s
    labels = {str(row["label"]) for row in rows if "label" in row}
    assert any(re.fullmatch(r"Baseline [\d,]+(\.\d)? req/s", label) for label in labels)
    assert any(re.fullmatch(r"FLAS [\d,]+(\.\d)? req/s", label) for label in labels)
    # the season's peak days sit inside its window
    season = readiness.current_season(get_engine(forecasts))
    days = [row["day"] for row in rows if "day" in row and "name" in row]
    assert days and all(season.starts_on <= date.fromisoformat(str(d)[:10]) <= season.ends_on for d in days)


def test_the_page_says_whether_the_forecast_reaches_the_peak(forecasts):
    at = open_app("views/capacity.py")
    words = texts(at)
    assert "The stored forecast runs from" in words
    assert ("does not reach the peak" in words) or ("reaches through the season's peak" in words)
    assert "peak projection" in words


def test_figures_are_in_readable_units_with_no_developer_text(forecasts):
    at = open_app("views/capacity.py")
    no_exceptions(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Systems forecast"] == "60"
    for label in ("Peak forecast", "Baseline capacity", "FLAS capacity"):
        assert re.fullmatch(r"[\d,]+(\.\d)? req/(s|min)", metrics[label]), metrics[label]
    visible = _visible(at)
    for developer in ("nan", "None", "NaN", "spike_ratio", "wow_volume", "peak_forecast_rps", "flas_rps"):
        assert not re.search(rf"\b{developer}\b", visible), developer
    assert "Provisioned capacity below the forecast" in visible
    assert "Set KAPACITY_HISTORY_DIR" not in visible  # the history line is there


def test_the_growth_table_ranks_busy_systems_by_absolute_growth(forecasts):
    at = open_app("views/capacity.py")
    table = next(d.value for d in at.dataframe if "Peak gained in a week" in d.value.columns)
    busy = table[table["Peak forecast (req/s)"] >= 1.0]
    gained = [float(v.replace(",", "").removesuffix(" req/s")) for v in busy["Peak gained in a week"] if v != "–"]
    assert gained == sorted(gained, reverse=True)
    quiet = [position for position, value in enumerate(table["Peak forecast (req/s)"]) if value < 1.0]
    assert all(position >= len(busy) for position in quiet)
    # the peak's gain and its percentage agree in sign; volume is a column of its own
    signs = [(g[0], p[0]) for g, p in zip(table["Peak gained in a week"], table["Peak, week over week"], strict=True)
             if g != "–" and p != "–" and g[0] in "+-" and p[0] in "+-" and float(p.strip("+-%")) > 0]
    assert signs and all(g == p for g, p in signs)
    assert "Volume, week over week" in table.columns and "Week over week" not in table.columns


def test_the_system_page_shows_its_forecast(forecasts):
    at = open_app("views/system.py", query={"id": "SYS-0001"})
    no_exceptions(at)
    assert "Peak forecast" in {m.label for m in at.metric}
    assert "Breaking point" in {m.label for m in at.metric}  # the demo's k6 run on SYS-0001
    assert "No forecast yet" not in texts(at)
