"""Kapacity speed benchmark: per-series forecast time (vs Prophet) and the 450-system run.

Usage (from the repo root):

    .venv/bin/python benchmarks/kapacity_speed.py series            # per series, vs Prophet
    .venv/bin/python benchmarks/kapacity_speed.py run --workdir /tmp/kapacity-speed
    .venv/bin/python benchmarks/kapacity_speed.py run --executor dask:local:2

``series``: 8 weeks of minute history to a 7-day minute forecast (10,080
intervals with p90 and p99), on the real NASA minute series (8-week windows
ending on different days; the full file lives beside the repository in
``../shared/data``: without it, said on stderr, synthetic series only, since the
tests' trimmed copy is shorter than 8 weeks) and on synthetic minute series; Kapacity's median
CPU and wall seconds per series on one core (BLAS threads pinned to 1), and
Prophet's on the first ``--prophet`` of the same series, side by side.
Target: median at most 0.5 s, at least 40x faster than Prophet.

``run``: a catalog of 450 systems with 3 services each (a random dependency
DAG, 20 purchase-flow entry points), 8 weeks of synthetic minute history per
service (Parquet, written once into ``--workdir``), then ``kapacity run``
forecasts all 1,800 series (450 totals and 1,350 services), learns the call
ratios, propagates the surge and stores everything in SQLite. Reports wall
time and the peak memory of each worker. Target: under 5 minutes on 2 cores,
under 300 MB per worker.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kapacity.history import DAY, WEEK, Series, read_history  # noqa: E402
from kapacity.service import ForecastSettings, forecast_series  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def nasa_windows(count: int, span: int) -> list[tuple[str, Series]]:
    """Up to half of ``count`` windows of ``span`` minutes of the full NASA file, latest first."""
    path = DATA / "nasa_http_requests_1min.csv"
    if not path.is_file():
        print(f"# {path} not found (the full series lives beside the repository, not in it): "
              "timing synthetic minute series only", file=sys.stderr)
        return []
    out: list[tuple[str, Series]] = []
    [nasa] = read_history(path)
    for end_day in range(nasa.n // 1440, 0, -1):
        end = end_day * 1440
        if end - span < 0 or len(out) >= max(1, count // 2):
            break
        window = nasa.values[end - span:end]
        if np.isnan(window).mean() < 0.2:
            out.append((f"nasa-to-day-{end_day}", Series("nasa", nasa.start + (end - span) * 60, 60,
                                                          window, nasa.tz)))
    return out


def minute_series(count: int) -> list[tuple[str, Series]]:
    """8-week minute windows of the NASA series (when the full file is there), then synthetic ones."""
    span = 8 * WEEK // 60
    out = nasa_windows(count, span)
    rng = np.random.default_rng(0)
    t0 = 1_725_235_200  # 2024-09-02 00:00 UTC, a Monday
    times = t0 + 60 * np.arange(span)
    hour = (times % DAY) / 3600
    weekday = ((times // DAY) + 3) % 7
    while len(out) < count:
        i = len(out)
        level = rng.uniform(5, 500)
        peak = rng.uniform(11, 15)
        shape = (0.15 + np.exp(-((hour - peak) ** 2) / 14)) * np.where(weekday >= 5, 0.7, 1.0)
        values = rng.poisson(level * shape).astype(float)
        out.append((f"synthetic-{i}", Series(f"s{i}", t0, 60, values)))
    return out


def time_kapacity(series: Series) -> tuple[float, float]:
    settings = ForecastSettings()
    cpu, wall = time.process_time(), time.perf_counter()
    forecast_series(series, 7 * DAY // 60, settings)
    return time.process_time() - cpu, time.perf_counter() - wall


def time_prophet(series: Series) -> float:
    import logging

    import pandas as pd
    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    frame = pd.DataFrame({"ds": pd.to_datetime(series.wall_seconds(series.times()), unit="s"),
                          "y": series.values}).dropna()
    wall = time.perf_counter()
    model = Prophet(interval_width=0.98, uncertainty_samples=300)
    model.fit(frame)
    future = series.times(series.end + 60, 7 * DAY // 60)
    model.predict(pd.DataFrame({"ds": pd.to_datetime(series.wall_seconds(future), unit="s")}))
    return time.perf_counter() - wall  # wall: Prophet's Stan fit runs in a child process


def bench_series(args: argparse.Namespace) -> int:
    cases = minute_series(args.count)
    time_kapacity(cases[0][1])  # warm-up: imports, holiday tables
    rows = []
    for name, series in cases:
        cpu, wall = min((time_kapacity(series) for _ in range(args.repeat)), key=lambda t: t[0])
        rows.append([name, cpu, wall, None])
    prophet_ok = True
    try:
        __import__("prophet")
    except ImportError:
        prophet_ok = False
        print("# prophet not installed (pip install '.[bench]'): Kapacity only", file=sys.stderr)
    if prophet_ok:
        for row, (name, series) in zip(rows[:args.prophet], cases[:args.prophet], strict=False):
            print(f"# prophet on {name} ...", file=sys.stderr, flush=True)
            row[3] = time_prophet(series)
    print("8 weeks of minute history -> 7-day minute forecast (10,080 intervals, p90/p99)")
    print(f"{'series':26s} {'kapacity cpu s':>14s} {'wall s':>7s} {'prophet wall s':>15s} {'speed-up':>9s}")
    for name, cpu, wall, prophet in rows:
        ratio = f"{prophet / wall:8.0f}x" if prophet else "-"
        print(f"{name:26s} {cpu:14.3f} {wall:7.3f} {prophet if prophet else float('nan'):15.1f} {ratio:>9s}")
    cpus = [r[1] for r in rows]
    walls = [r[2] for r in rows]
    median_cpu, median_wall = statistics.median(cpus), statistics.median(walls)
    print(f"\nKapacity: median {median_cpu:.3f} s CPU, {median_wall:.3f} s wall per series "
          f"(max {max(cpus):.3f} s CPU) over {len(rows)} series")
    ok = median_cpu <= 0.5
    timed = [(r[3], r[2]) for r in rows if r[3]]
    if timed:
        speedup = statistics.median([p / w for p, w in timed])
        print(f"Prophet: median {statistics.median([p for p, _ in timed]):.1f} s wall per series "
              f"over {len(timed)} series; Kapacity is {speedup:.0f}x faster (target >= 40x)")
        ok = ok and speedup >= 40
    print(f"target median <= 0.5 s: {'ok' if median_cpu <= 0.5 else 'MISSED'}")
    return 0 if ok else 3


# -- the 450-system run --------------------------------------------------------------------

def catalog_yaml(systems: int, services: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    lines = ["company: Speed", "domains: [{key: d, name: Domain}]", "groups:"]
    lines += [f"  - {{key: g{g}, name: Group {g}, domain: d}}" for g in range(10)]
    lines.append("teams:")
    lines += [f"  - {{key: t{t}, name: Team {t}, group: g{t % 10}}}" for t in range(45)]
    lines.append("systems:")
    entry = set(rng.choice(systems, size=min(20, systems), replace=False).tolist())
    for i in range(systems):
        deps = []
        later = list(range(i + 1, systems))
        for j in rng.choice(later, size=min(len(later), int(rng.integers(0, 3))), replace=False) \
                if later else []:
            kind = "sync" if rng.random() < 0.7 else "async"
            deps.append(f"{{system: SYS-{int(j):04d}, kind: {kind}}}")
        svc = ", ".join(f"{{name: svc{k}}}" for k in range(services))
        lines.append(f"  - {{id: SYS-{i:04d}, name: system {i}, team: t{i % 45}, tier: medium, "
                     f"purchase_flow: {'true' if i in entry else 'false'}, services: [{svc}], "
                     f"dependencies: [{', '.join(deps)}]}}")
    return "\n".join(lines) + "\n"


def bench_run(args: argparse.Namespace) -> int:
    from kapacity.runner import RunSettings, SystemSpec, run_catalog
    from kapacity.sources import DirectorySource
    from kapacity.synthetic import synthesize
    from readiness import active_systems, import_catalog_file, open_database
    from storage import get_engine

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    db = work / "speed.db"
    for stale in work.glob("speed.db*"):
        stale.unlink()
    (work / "catalog.yaml").write_text(catalog_yaml(args.systems, args.services))
    engine = open_database(get_engine(f"sqlite:///{db}"))
    import_catalog_file(engine, work / "catalog.yaml")
    histories = work / f"histories-{args.systems}x{args.services}-{args.weeks}w"
    if not (histories / "done").exists():
        print(f"# writing synthetic histories to {histories} (once) ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        specs = [SystemSpec(s.system_id, tuple(str(x["name"]) for x in s.services),
                            s.purchase_flow, s.dependencies) for s in active_systems(engine)]
        synthesize(specs, histories, weeks=args.weeks, step=60, seed=0)
        (histories / "done").write_text("ok\n")
        print(f"# wrote them in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    settings = RunSettings(horizon_seconds=7 * DAY)
    print(f"# kapacity run on {args.executor} ...", file=sys.stderr, flush=True)
    usage_before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    report = run_catalog(engine, DirectorySource(histories), settings=settings,
                         executor=args.executor,
                         progress=lambda m: print(f"#   {m} ({time.perf_counter() - started:.0f} s)",
                                                  file=sys.stderr, flush=True))
    seconds = time.perf_counter() - started
    usage_after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = report.executor
    print(f"{args.systems} systems x {args.services} services, {args.weeks} weeks of minute "
          f"history, 7-day minute forecasts")
    print(f"  {report}")
    print(f"  wall time {seconds:.0f} s ({seconds / 60:.1f} min) on {workers}; "
          f"{seconds / max(1, report.series):.3f} s per series")
    cpu = report.worker_cpu_seconds + (usage_after[0].ru_utime + usage_after[0].ru_stime
                                       - usage_before[0].ru_utime - usage_before[0].ru_stime)
    print(f"  CPU {cpu:.0f} s (forecasting {report.worker_cpu_seconds:.0f} s in the workers, the "
          f"rest storing and learning dependencies here): {cpu / max(1, report.series):.3f} s per "
          f"series, {cpu / 2:.0f} s if spread over 2 free cores; load average {load_before:.1f} "
          f"at start, {os.getloadavg()[0]:.1f} at end (other work on the machine slows the wall time)")
    worker_mb = report.worker_peak_mb
    print(f"  peak memory: worker {worker_mb:.0f} MB (as each worker measured itself), main process "
          f"{self_mb:.0f} MB")
    print(f"  database {db.stat().st_size / 1e6:.0f} MB")
    ok = seconds <= 300 and worker_mb <= 300
    print(f"target < 5 min and < 300 MB per worker: {'ok' if ok else 'MISSED'}")
    return 0 if ok else 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    series = sub.add_parser("series", help="per-series time vs Prophet")
    series.add_argument("--count", type=int, default=12)
    series.add_argument("--repeat", type=int, default=3)
    series.add_argument("--prophet", type=int, default=3, help="series to time Prophet on")
    run = sub.add_parser("run", help="the 450 systems x 3 services run")
    run.add_argument("--workdir", default="/tmp/kapacity-speed")
    run.add_argument("--systems", type=int, default=450)
    run.add_argument("--services", type=int, default=3)
    run.add_argument("--weeks", type=int, default=8)
    run.add_argument("--executor", default="processes:2")
    args = parser.parse_args(argv)
    return bench_series(args) if args.what == "series" else bench_run(args)


if __name__ == "__main__":
    sys.exit(main())
