"""Rebuild the trimmed test series in this folder from the full files (see SOURCES.md).

    python tests/data/trim.py FULL_DATA_DIR      # the folder holding the full series

Each file keeps whole rows of the original, unchanged, for the timestamp ranges below
(start inclusive, end exclusive, compared as text on the local date and time, so rows
keep their offsets), and is written gzip-compressed with no name or time in the header,
so the same input gives the same bytes.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: the kept ranges of local timestamps, [start, end)
RANGES: dict[str, list[tuple[str, str]]] = {
    # growth compares the last 28 complete days (to 31 Aug 2019) with the same days 364 days
    # earlier: from 30 July 2018 on, WoW, MoM and YoY equal those of the whole file
    "capital_bikeshare_rentals_hourly": [("2018-07-30", "2019-09-02")],
    # first 8 weeks: the rows 1100-1199 the DST test reads cross 2015-04-05 (+11:00 -> +10:00)
    "melbourne_pedestrians_bourke_st_mall_hourly": [("2015-02-17", "2015-04-14")],
    # 8 weeks with 18 real gaps and the end of US daylight saving time
    "metro_interstate_i94_traffic_hourly": [("2016-10-03", "2016-11-28")],
    # the whole file (two weeks)
    "nab_elb_request_count_5min": [("2014-04-10", "2014-04-25")],
    # first 6 weeks: the tests read the first 30 days
    "nab_nyc_taxi_passengers_30min": [("2014-07-01", "2014-08-12")],
    # first 4 weeks: the tests read the first 700 and 3,000 rows
    "nab_twitter_volume_amzn_5min": [("2015-02-26", "2015-03-26T21:42:53")],
    "nab_twitter_volume_goog_5min": [("2015-02-26", "2015-03-26T21:42:53")],
    # 1-16 July (the STS-70 launch peak on the 13th, the two weeks Prometheus backfills) and
    # 28 July-3 August (both real gaps: the log ends 28 Jul 13:33, the server is down 1-3 Aug)
    "nasa_http_requests_1min": [("1995-07-01", "1995-07-17"), ("1995-07-28", "1995-08-04")],
}


def kept(line: str, ranges: list[tuple[str, str]]) -> bool:
    local = line.split(",", 1)[0][:19]
    return any(start <= local < end for start, end in ranges)


def trim(source: Path, target: Path, ranges: list[tuple[str, str]]) -> int:
    header, *rows = source.read_text(encoding="utf-8").splitlines()
    rows = [row for row in rows if kept(row, ranges)]
    text = "\n".join([header, *rows]) + "\n"
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                 compresslevel=9, mtime=0) as out:
        out.write(text.encode("utf-8"))
    return len(rows)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tests/data/trim.py FULL_DATA_DIR (the folder holding the full series)",
              file=sys.stderr)
        return 2
    full = Path(argv[0])
    if not full.is_dir():
        print(f"trim.py: full data folder not found at {full}", file=sys.stderr)
        return 1
    for name, ranges in RANGES.items():
        target = HERE / f"{name}.csv.gz"
        rows = trim(full / f"{name}.csv", target, ranges)
        print(f"{target.name}: {rows} rows, {target.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
