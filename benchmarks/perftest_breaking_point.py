"""Breaking-point accuracy and the target's own ceiling, measured with the real k6.

    .venv/bin/python benchmarks/perftest_breaking_point.py [--capacities 50,120,250] [--step-s 3]
        [--p95-ms 500] [--max-queue-ms 500]

For each configured capacity N, runs the stepped overload test against the
local target (forecast 0.8 N, steps of 6% of N) and prints the measured
breaking point, its error against N and the run's wall time. Then checks how
fast the target serves when its capacity is far above the offered load (its
overhead is what limits accuracy at high N on a small machine).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time

from perftest import SLO, Endpoint, OverloadSettings, TestSpec, run_test


@contextlib.contextmanager
def target(capacity: float, max_queue_ms: float = 1000):
    """The target in its own process, as a real service would be."""
    proc = subprocess.Popen([sys.executable, "-m", "perftest.target", "--capacity-rps", str(capacity),
                             "--max-queue-ms", str(max_queue_ms)],
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacities", default="50,120,250")
    parser.add_argument("--step-s", type=float, default=3.0)
    parser.add_argument("--p95-ms", type=float, default=500, help="SLO p95 (p99 is 3x)")
    parser.add_argument("--max-queue-ms", type=float, default=500, help="target sheds past this queueing")
    args = parser.parse_args()
    slo = SLO(p95_ms=args.p95_ms, p99_ms=3 * args.p95_ms, error_rate=0.01)
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'capacity':>8} {'breaking':>8} {'broke_at':>8} {'error':>7} {'wall_s':>7}")
    for capacity in (float(c) for c in args.capacities.split(",")):
        with target(capacity, args.max_queue_ms) as url:
            spec = TestSpec(
                test_type="overload", endpoints=[Endpoint(url=url + "/work")], rps=0.8 * capacity, slo=slo,
                overload=OverloadSettings(step_s=args.step_s, start_factor=0.75, max_factor=1.5, step_factor=0.075),
            )
            started = time.monotonic()
            result = run_test(spec)
            wall = time.monotonic() - started
        bp = result.breaking
        err = (bp.sustained_rps - capacity) / capacity if bp and bp.sustained_rps else float("nan")
        print(f"{capacity:8.0f} {bp.sustained_rps or 0:8.0f} {bp.broke_at_rps or 0:8.0f} {err:+7.1%} {wall:7.1f}")

    print("\ntarget ceiling (capacity 100000, constant load for 5 s):")
    print(f"{'offered':>8} {'achieved':>8} {'p95_ms':>7} {'p99_ms':>7} {'verdict':>8}")
    for rate in (200, 400, 800):
        with target(100000) as url:
            spec = TestSpec(test_type="load", endpoints=[Endpoint(url=url + "/work")], rps=rate, duration_s=5, slo=slo)
            r = run_test(spec)
        s = r.summary
        print(f"{rate:8d} {s.achieved_rps:8.1f} {s.p95_ms:7.1f} {s.p99_ms:7.1f} {r.verdict:>8}")


if __name__ == "__main__":
    main()
