"""Loading history: every class of messy data gets the documented behaviour."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from kapacity.errors import HistoryError
from kapacity.history import parse_duration, read_history
from tests.kapacity.helpers import write_csv


def hourly_rows(n: int, start: str = "2024-03-01T00:00:00", suffix: str = "", value=10):
    t0 = pd.Timestamp(start)
    return [((t0 + pd.Timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S") + suffix,
             value if not callable(value) else value(i)) for i in range(n)]


def test_gaps_stay_gaps_and_are_noted(tmp_path):
    rows = hourly_rows(72)
    del rows[30:35]
    [s] = read_history(write_csv(tmp_path / "h.csv", rows))
    assert s.step == 3600 and s.n == 72
    assert np.isnan(s.values[30:35]).all() and s.observed == 67
    assert any("5 missing intervals" in note for note in s.notes)


def test_zeros_are_data_not_gaps(tmp_path):
    [s] = read_history(write_csv(tmp_path / "h.csv", hourly_rows(72, value=lambda i: i % 3 * 0)))
    assert s.observed == 72 and (s.values == 0).all()


def test_fixed_offset_history_keeps_its_offset(tmp_path):
    [s] = read_history(write_csv(tmp_path / "h.csv", hourly_rows(72, suffix="-04:00")))
    assert s.tz == "-04:00"
    assert s.format_times(s.times()[:1])[0] == "2024-03-01T00:00:00-04:00"
    # the instant is UTC: 00:00 at -04:00 is 04:00 UTC
    assert s.start == int(pd.Timestamp("2024-03-01T04:00:00Z").value // 10**9)


def test_dst_offsets_infer_a_zone_that_continues_the_convention(slice_of):
    # Melbourne leaves DST on 2015-04-05: +11:00 then +10:00 in the same file
    [s] = read_history(slice_of("melbourne_pedestrians_bourke_st_mall_hourly.csv.gz", 1100, 100))
    assert s.tz is not None and "/" in s.tz
    text = s.format_times(s.times())
    assert text[0].endswith("+11:00") and text[-1].endswith("+10:00")
    assert s.step == 3600 and s.observed == 100  # no repeats, no gaps: instants are continuous


def test_naive_history_stays_naive(slice_of):
    [s] = read_history(slice_of("nab_nyc_taxi_passengers_30min.csv.gz", 0, 200))
    assert s.tz is None and s.step == 1800
    assert s.format_times(s.times()[:1])[0] == "2014-07-01T00:00:00"


def test_irregular_alignment_is_kept(slice_of):
    [s] = read_history(slice_of("nab_twitter_volume_amzn_5min.csv.gz", 0, 700))
    assert s.step == 300
    assert s.format_times(s.times()[:2]).tolist() == ["2015-02-26T21:42:53", "2015-02-26T21:47:53"]


def test_jittered_timestamps_snap_to_the_grid(tmp_path):
    rows = hourly_rows(72)
    rows[10] = ("2024-03-01T10:00:07", 10)
    [s] = read_history(write_csv(tmp_path / "h.csv", rows))
    assert s.n == 72 and s.observed == 72
    assert any("snapped" in note for note in s.notes)


def test_duplicate_rows_are_dropped(tmp_path):
    rows = hourly_rows(72)
    rows.insert(20, rows[20])
    [s] = read_history(write_csv(tmp_path / "h.csv", rows))
    assert s.n == 72 and any("1 duplicate rows dropped" in note for note in s.notes)


def test_dst_repeat_in_wall_clock_time_is_averaged(tmp_path):
    # a fall-back hour written twice in local time, with different counts
    rows = hourly_rows(72, start="2014-11-01T00:00:00", value=10)
    rows.insert(26, ("2014-11-02T01:00:00", 30))
    [s] = read_history(write_csv(tmp_path / "h.csv", rows))
    assert s.n == 72
    assert s.values[25] == pytest.approx(20.0)
    assert any("averaged" in note for note in s.notes)


def test_series_column_splits_series(tmp_path):
    rows = [(t, v, name) for name in ("b", "a") for t, v in hourly_rows(72)]
    [a, b] = read_history(write_csv(tmp_path / "h.csv", rows, "timestamp,value,series"))
    assert (a.name, b.name) == ("a", "b")
    [only] = read_history(tmp_path / "h.csv", series="b")
    assert only.name == "b"


def test_parquet_with_timezone_aware_column(tmp_path):
    times = pd.date_range("2024-03-29", periods=96, freq="h", tz="Europe/Berlin")
    pd.DataFrame({"timestamp": times, "value": np.arange(96.0)}).to_parquet(tmp_path / "h.parquet")
    [s] = read_history(tmp_path / "h.parquet")
    assert s.step == 3600 and s.observed == 96
    text = s.format_times(s.times())
    assert text[0].endswith("+01:00") and text[-1].endswith("+02:00")  # DST starts 31 March


def test_gzip_compressed_csv_reads_like_the_plain_file(tmp_path):
    rows = hourly_rows(72, suffix="-04:00")
    del rows[30:35]
    plain = write_csv(tmp_path / "h.csv", rows)
    packed = tmp_path / "h.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    [a], [b] = read_history(plain), read_history(packed)
    assert (b.start, b.step, b.n, b.tz) == (a.start, a.step, a.n, a.tz) == (a.start, 3600, 72, "-04:00")
    np.testing.assert_array_equal(b.values, a.values)
    assert b.format_times(b.times()).tolist() == a.format_times(a.times()).tolist()


def test_gzip_compressed_csv_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(gzip.compress(b"timestamp,value\n2024-01-01T00:00:00,1\n2024-01-01T01:00:00,abc\n"))
    with pytest.raises(HistoryError, match="line 3: value 'abc' is not a number") as raised:
        read_history(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(("content", "expected"), [
    ("timestamp,value\n2024-01-01T00:00:00,1\n2024-01-01T01:00:00,2\n", "too short"),
    ("time,count\n2024-01-01T00:00:00,1\n", "no 'timestamp' column"),
    ("timestamp,value\n", "no rows with timestamps"),
    ("timestamp,value\nyesterday,1\nnoon,2\n", "no timestamps"),
    ("timestamp,value\n2024-01-01T00:00:00,1\n2024-01-01T01:00:00,abc\n", "line 3: value 'abc' is not a number"),
    ("timestamp,value\n2024-01-01T00:00:00,1\n2024-13-45T01:00:00,2\n", "line 3: timestamp"),
    ("timestamp,value\n2024-01-01T00:00:00,1\n2024-01-01T01:00:00,-5\n", "line 3: value -5 is negative"),
    ("timestamp,value\n2024-01-01T00:00:00+01:00,1\n2024-01-01T01:00:00,2\n", "line 3"),
    ("", "cannot read file"),
])
def test_unusable_files_raise_errors_naming_the_problem(tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(HistoryError) as raised:
        read_history(path)
    assert expected in str(raised.value)
    assert str(path) in str(raised.value)


def test_non_numeric_value_deep_in_a_long_file_names_its_line(tmp_path):
    rows = hourly_rows(200)
    rows[150] = (rows[150][0], "n/a!")
    with pytest.raises(HistoryError, match="line 152: value 'n/a!'"):
        read_history(write_csv(tmp_path / "h.csv", rows))


def test_blank_values_are_gaps(tmp_path):
    rows = hourly_rows(72)
    rows[5] = (rows[5][0], "")
    [s] = read_history(write_csv(tmp_path / "h.csv", rows))
    assert np.isnan(s.values[5]) and s.observed == 71


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(HistoryError, match="file not found"):
        read_history(tmp_path / "nope.csv")


@pytest.mark.parametrize(("text", "seconds"), [("12h", 43200), ("3d", 259200), ("7d", 604800),
                                                ("28d", 2419200), ("2w", 1209600), ("90min", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["7", "d7", "-3d", "0h", "7 days"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_date_only_timestamps_are_naive_days(tmp_path):
    rows = [(f"2024-01-{d:02d}", d) for d in range(1, 29)]
    [s] = read_history(write_csv(tmp_path / "d.csv", rows))
    assert s.tz is None and s.step == 86_400
    assert s.format_times(s.times()[:1])[0] == "2024-01-01T00:00:00"


def test_z_suffix_and_space_separator_are_utc(tmp_path):
    rows = [(t.replace("T", " ")[:16] + "Z", v) for t, v in hourly_rows(72)]
    [s] = read_history(write_csv(tmp_path / "z.csv", rows))
    assert s.tz == "+00:00" and s.observed == 72


def test_exactly_two_days_is_enough(tmp_path):
    [s] = read_history(write_csv(tmp_path / "h.csv", hourly_rows(48)))
    assert s.n == 48
    with pytest.raises(HistoryError, match="47h"):
        read_history(write_csv(tmp_path / "short.csv", hourly_rows(47)))
