"""Known events, Baseline and FLAS capacity, ramps and growth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kapacity.capacity import (
    CapacityResult,
    CapacitySettings,
    baseline_rps,
    capacity,
    capacity_result,
    growth,
    largest_ramps,
)
from kapacity.errors import EventError, ParameterError
from kapacity.events import KnownEvent, apply_events, read_events
from kapacity.forecast import Forecast
from kapacity.history import Series, format_timestamps
from kapacity.service import forecast_series
from tests.kapacity.helpers import synthetic


def flat_forecast(h=24, step=3600, tz=None, start=1_704_067_200) -> Forecast:
    mean = np.full(h, 100.0)
    return Forecast("s", start, step, tz, mean, {0.9: mean * 1.1, 0.99: mean * 1.3}, "test")


def test_event_multiplies_only_its_window():
    f = flat_forecast()
    sale = KnownEvent("sale", "2024-01-01T05:00:00", "2024-01-01T07:00:00", 8)
    out = apply_events(f, [sale])
    assert out.mean[4] == 100 and out.mean[5] == 800 and out.mean[6] == 800 and out.mean[7] == 100
    assert out.quantiles[0.99][5] == pytest.approx(1040)
    assert out.params["events"][0]["name"] == "sale"


def test_overlapping_events_add_their_extra_traffic():
    f = flat_forecast()
    a = KnownEvent("a", "2024-01-01T05:00:00", "2024-01-01T06:00:00", 3)
    b = KnownEvent("b", "2024-01-01T05:00:00", "2024-01-01T06:00:00", 2)
    assert apply_events(f, [a, b]).mean[5] == pytest.approx(100 * (1 + 2 + 1))


def test_partial_overlap_counts_pro_rata():
    f = flat_forecast()
    half = KnownEvent("half", "2024-01-01T05:30:00", "2024-01-01T06:00:00", 3)
    assert apply_events(f, [half]).mean[5] == pytest.approx(200)


def test_event_for_another_series_does_not_apply():
    f = flat_forecast()
    other = KnownEvent("x", "2024-01-01T05:00:00", "2024-01-01T07:00:00", 8, series="other")
    assert apply_events(f, [other]) is f


def test_event_with_offset_is_an_instant_and_naive_is_wall_clock():
    # series at -05:00: 00:00 local is 05:00 UTC
    f = flat_forecast(tz="-05:00", start=1_704_085_200)
    with_offset = KnownEvent("utc", "2024-01-01T05:00:00+00:00", "2024-01-01T06:00:00+00:00", 2)
    wall = KnownEvent("wall", "2024-01-01T00:00:00", "2024-01-01T01:00:00", 2)
    assert apply_events(f, [with_offset]).mean[0] == 200
    assert apply_events(f, [wall]).mean[0] == 200


@pytest.mark.parametrize(("content", "expected"), [
    ("name,start,end,multiplier\nx,2024-01-01T00:00,2024-01-01T01:00,lots\n", "row 1: multiplier 'lots'"),
    ("name,start,end,multiplier\nx,2024-01-01T02:00,2024-01-01T01:00,3\n", "row 1: event 'x': end"),
    ("name,start,end,multiplier\nx,2024-01-01T00:00,,3\n", "row 1: missing end"),
    ("name,start,end,multiplier\nx,2024-01-01T00:00,2024-01-01T01:00,0\n", "outside"),
    ("name,start,end,multiplier\nx,someday,2024-01-01T01:00,3\n", "not an ISO 8601"),
])
def test_bad_event_files_name_the_row(tmp_path, content, expected):
    path = tmp_path / "events.csv"
    path.write_text(content)
    with pytest.raises(EventError, match=expected):
        read_events(path)


def test_events_read_from_json_and_yaml(tmp_path):
    rows = [{"name": "bf", "start": "2024-11-29T10:00:00", "end": "2024-11-29T12:00:00",
             "multiplier": 8, "series": "checkout"}]
    (tmp_path / "e.json").write_text(json.dumps(rows))
    (tmp_path / "e.yaml").write_text("events:\n  - {name: bf, start: '2024-11-29T10:00:00', "
                                     "end: '2024-11-29T12:00:00', multiplier: 8, series: checkout}\n")
    assert read_events(tmp_path / "e.json") == read_events(tmp_path / "e.yaml")
    assert read_events(tmp_path / "e.json")[0].series == "checkout"


def test_baseline_is_the_highest_chosen_quantile_per_second():
    f = flat_forecast(step=60)
    assert baseline_rps(f, CapacitySettings(quantile=0.99)) == pytest.approx(130 / 60)
    assert baseline_rps(f, CapacitySettings(quantile=0.9)) == pytest.approx(110 / 60)
    with pytest.raises(ParameterError):
        CapacitySettings(quantile=1.2)


def surge_series(ratio: float = 6.0) -> Series:
    history = synthetic(days=14, step=60, noise=0.02, level=100)
    values = history.values.copy()
    at = 10 * 1440 + 13 * 60  # day 10, 13:00, near the daily peak
    values[at:at + 2] *= ratio
    return Series(None, history.start, 60, values)


def test_largest_ramp_is_found_where_it_happened():
    series = surge_series(6.0)
    ramps, how = largest_ramps(series, CapacitySettings())
    assert ramps[0].ratio == pytest.approx(6.0, rel=0.1)
    assert ramps[0].at == series.start + (10 * 1440 + 13 * 60) * 60
    assert how["next_seconds"] == 120 and how["previous_seconds"] == 600


def test_flas_takes_the_historical_surge_at_the_forecast_peak():
    series = surge_series(6.0)
    f = forecast_series(series, 1440)
    result = capacity(series, f, CapacitySettings(safety_buffer=0.2))
    assert result["spike_ratio"] == pytest.approx(6.0, rel=0.1)
    assert result["flas_rps"] == pytest.approx(1.2 * result["spike_ratio"] * result["peak_forecast_rps"],
                                               rel=1e-4)
    assert result["assumptions"]["flas_driver"] == "historical_surge_at_peak"
    assert result["baseline_rps"] >= result["peak_forecast_rps"]


def test_the_typed_capacity_result_is_what_the_json_form_says():
    series = surge_series(6.0)
    f = forecast_series(series, 1440)
    result = capacity_result(series, f, CapacitySettings())
    assert isinstance(result, CapacityResult)
    document = capacity(series, f, CapacitySettings())
    assert document == result.as_dict()
    assert list(document)[:4] == ["series", "resolution_seconds", "from", "to"]
    assert (document["from"], document["to"]) == (result.start, result.end)
    assert document["flas_rps"] == result.flas_rps
    assert document["assumptions"]["flas_driver"] == result.assumptions.flas_driver
    assert document["assumptions"]["largest_ramps"][0] == {
        "at": result.assumptions.largest_ramps[0].at, "ratio": result.assumptions.largest_ramps[0].ratio,
        "rps": result.assumptions.largest_ramps[0].rps}


def test_declared_flash_sale_bigger_than_history_drives_flas():
    series = surge_series(3.0)
    f = forecast_series(series, 1440)
    peak_at = format_timestamps(np.array([f.start + int(np.argmax(f.mean)) * 60]), None)[0]
    end = format_timestamps(np.array([f.start + int(np.argmax(f.mean)) * 60 + 600]), None)[0]
    sale = KnownEvent("big-merchant", peak_at, end, 40)
    result = capacity(series, f, CapacitySettings(safety_buffer=0.0), [sale])
    assert result["assumptions"]["flas_driver"] == "declared_flash_sales"
    assert result["flas_rps"] == pytest.approx(40 * result["peak_forecast_rps"], rel=1e-3)
    assert result["assumptions"]["declared_events"][0]["name"] == "big-merchant"
    # the Baseline stays regular traffic: flash sales are excluded from it
    assert result["baseline_rps"] < 2 * result["peak_forecast_rps"]


def test_growth_week_over_week_and_month_over_month():
    series = synthetic(days=70, step=3600, noise=0.0, weekly_growth=0.10)
    g = growth(series)
    assert g["wow"]["volume"] == pytest.approx(0.10, abs=0.01)
    assert g["wow"]["daily_peak"] == pytest.approx(0.10, abs=0.01)
    assert g["mom"]["volume"] == pytest.approx(1.1 ** 4 - 1, abs=0.02)
    assert g["yoy"] is None  # not a year of history
