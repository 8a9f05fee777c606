"""Speed of reading k6's compressed --out json (the windowed-metrics path).

    .venv/bin/python benchmarks/perftest_parse.py [--requests 200000]

Writes a synthetic gzip JSON-lines file shaped like k6's (13 points per
request, as k6 v1.1 emits for an HTTP request) and times ``parse_points``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from perftest.analysis import parse_points

METRICS = ["http_reqs", "http_req_duration", "http_req_blocked", "http_req_connecting", "http_req_tls_handshaking",
           "http_req_sending", "http_req_waiting", "http_req_receiving", "http_req_failed", "data_sent",
           "data_received", "iteration_duration", "iterations"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200_000)
    args = parser.parse_args()
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "points.json.gz"
        with gzip.open(path, "wt") as out:
            for i in range(args.requests):
                stamp = (t0 + timedelta(seconds=i / 100)).isoformat().replace("+00:00", "Z")
                tags = {"expected_response": "true", "phase": f"step_{i // 1000}", "status": "200", "method": "GET",
                        "name": "default", "scenario": "main", "url": "default", "endpoint": "default", "proto": "HTTP/1.1"}
                for m in METRICS:
                    out.write(json.dumps({"metric": m, "type": "Point", "data": {"time": stamp, "value": 12.5, "tags": tags}}) + "\n")
        size = path.stat().st_size
        started = time.perf_counter()
        reqs = parse_points(path)
        elapsed = time.perf_counter() - started
    lines = args.requests * len(METRICS)
    print(f"requests={len(reqs)} lines={lines} gz_bytes={size} seconds={elapsed:.2f} "
          f"requests_per_s={len(reqs) / elapsed:,.0f} lines_per_s={lines / elapsed:,.0f}")


if __name__ == "__main__":
    main()
