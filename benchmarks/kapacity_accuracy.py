"""Kapacity accuracy benchmark: rolling-origin backtests on every real series in ../shared/data.

The full series live beside the repository (``../shared/data``), not in it. Without
them the benchmark says so on stderr and runs on the trimmed copies the tests use
(``tests/data``, two to eight weeks each but the bikeshare year): a smoke run whose
figures do not compare with those in docs/kapacity.md.

Usage (from the repo root):

    .venv/bin/python benchmarks/kapacity_accuracy.py                 # Kapacity and seasonal naive
    .venv/bin/python benchmarks/kapacity_accuracy.py --models kapacity,prophet,mstl --jobs 2

Prints per series and overall: MAE relative to weekly seasonal naive, MASE, p90/p99
coverage, daily-peak error, the share of intervals above Baseline capacity, and
the over-provisioning ratio; with the ``bench`` extra installed, Prophet and
statsforecast's MSTL run on the same origins and print beside Kapacity.

Setup, per series: horizon 7 days (1 day when the history is shorter than five
weeks: the ELB series has two), 6 origins a horizon apart ending at the last
data, each model sees only the history before its origin. Holiday calendar US,
except Melbourne (AU, VIC). Competitors: Prophet 1.x with default seasonalities,
the same country holidays, the last two years of history, interval_width 0.98 (its
upper bound is the p99); MSTL with daily and weekly seasons on the last eight
weeks, gaps interpolated, and - because MSTL at 1- and 5-minute resolution takes
15 minutes a fit - on 30-minute sums spread evenly back over the intervals when the
resolution is finer than 30 minutes (its p99 is then that of the 30-minute sums,
spread, which understates finer-grained noise). Results of the slow competitors
are cached in ``--cache`` (keyed by file, size, horizon, origins) so re-running
Kapacity alone is quick; ``--no-cache`` recomputes.

Targets (issue 4): geometric mean of relative MAE <= 0.85, no series above 1.05,
mean p99 coverage within [0.97, 0.995].

Short-history cases (issue 12, :data:`SHORT_CASES`): a new service or a freshly
instrumented endpoint has days, not weeks, of history, often dominated by bursts.
Each case cuts a real series to ``history`` days from ``offset`` days into the file
and forecasts the next ``horizon`` days from that single origin (so the model sees
less than two weekly cycles). Targets there: geometric mean of relative MAE <= 0.6,
below Prophet's on each case, mean daily-peak error <= 0.5, p99 coverage in
[0.97, 0.995]. ``--short-only`` runs just these. Beside them it prints a hindsight
bound (:func:`hindsight_bound`): the rel MAE of the horizon's own time-of-day median,
what a smooth daily forecast that knew the future would reach, and the same profile on
each horizon day's own best level (the bound of forecasts whose level varies by day).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kapacity.backtest import backtest  # noqa: E402
from kapacity.forecast import Forecast, SeasonalNaive  # noqa: E402
from kapacity.history import DAY, WEEK, Series, read_history  # noqa: E402
from kapacity.service import ForecastSettings, forecast_series  # noqa: E402

# beside the repository; a git worktree under <repo-parent>/wt/<name> looks one level higher too
DATA = next((d for d in (REPO.parent / "shared" / "data", REPO.parents[1] / "shared" / "data")
             if d.is_dir()), REPO.parent / "shared" / "data")
TEST_DATA = REPO / "tests" / "data"
CALENDARS = {"melbourne_pedestrians_bourke_st_mall_hourly": ("AU", "VIC")}
ORIGINS = 6
TARGETS = {"geomean": 0.85, "max": 1.05, "coverage": (0.97, 0.995)}
MODELS = ("kapacity", "naive", "prophet", "mstl")
# case: (series file stem, offset days, history days, horizon days). The Twitter cuts start
# where the history is dominated by bursts (its maximum above 20x its median: 32x for
# AMZN from day 6, 30x for GOOG from day 7), the class issue 12 is about; NASA and the
# NYC taxi are regular short histories, there to show the choice does not hurt them.
SHORT_CASES: dict[str, tuple[str, int, int, int]] = {
    "short_elb_10d": ("nab_elb_request_count_5min", 0, 10, 3),
    "short_twitter_amzn_12d": ("nab_twitter_volume_amzn_5min", 6, 12, 3),
    "short_twitter_goog_11d": ("nab_twitter_volume_goog_5min", 7, 11, 3),
    "short_nasa_9d": ("nasa_http_requests_1min", 0, 9, 3),
    "short_nyc_taxi_11d": ("nab_nyc_taxi_passengers_30min", 0, 11, 3),
}
SHORT_TARGETS = {"geomean": 0.6, "peak": 0.5, "coverage": (0.97, 0.995)}


def horizon_seconds(series: Series) -> int:
    span = series.n * series.step
    return 7 * DAY if span >= 5 * WEEK else DAY


def series_name(path: Path) -> str:
    """``nasa_http_requests_1min`` for ``.../nasa_http_requests_1min.csv`` or ``.csv.gz``."""
    return path.name.removesuffix(".gz").removesuffix(".csv")


def data_folder(chosen: Path | None) -> Path:
    """The folder of series: ``--data``, else the full files, else the tests' trimmed copies."""
    if chosen is not None:
        return chosen
    if DATA.is_dir():
        return DATA
    print(f"# full series not found at {DATA} (they live beside the repository, not in it): "
          f"running on the trimmed copies in {TEST_DATA.relative_to(REPO)}; a smoke run, the "
          "figures do not compare with docs/kapacity.md", file=sys.stderr)
    return TEST_DATA


def calendar_for(stem: str) -> tuple[str, str | None]:
    return CALENDARS.get(stem, ("US", None))


# -- models --------------------------------------------------------------------------------

def kapacity_model(stem: str):
    country, subdiv = calendar_for(stem)
    settings = ForecastSettings(country=country, subdiv=subdiv)
    return (lambda hist, h: forecast_series(hist, h, settings)), settings.levels


def naive_model(stem: str):
    return (lambda hist, h: SeasonalNaive().fit(hist).predict(h)), (0.9, 0.99)


def prophet_model(stem: str):
    country, _ = calendar_for(stem)

    def run(hist: Series, h: int) -> Forecast:
        import pandas as pd
        from prophet import Prophet

        logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
        logging.getLogger("prophet").setLevel(logging.WARNING)
        keep = min(hist.n, int(730 * DAY // hist.step))
        times = hist.times()[-keep:]
        frame = pd.DataFrame({"ds": pd.to_datetime(hist.wall_seconds(times), unit="s"),
                              "y": hist.values[-keep:]}).dropna()
        model = Prophet(interval_width=0.98, uncertainty_samples=300)
        model.add_country_holidays(country_name=country)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(frame)
        future = hist.times(hist.end + hist.step, h)
        np.random.seed(0)
        out = model.predict(pd.DataFrame({"ds": pd.to_datetime(hist.wall_seconds(future),
                                                               unit="s")}))
        mean = np.maximum(out["yhat"].to_numpy(), 0)
        upper = np.maximum(out["yhat_upper"].to_numpy(), mean)
        return Forecast(hist.name, int(future[0]), hist.step, hist.tz, mean, {0.99: upper},
                        "Prophet")

    return run, (0.99,)


def mstl_model(stem: str):
    def run(hist: Series, h: int) -> Forecast:
        import pandas as pd
        from statsforecast.models import MSTL

        k = max(1, 1800 // hist.step) if hist.step < 1800 else 1
        keep = min(hist.n, 8 * hist.per_week)
        keep -= keep % k
        y = pd.Series(hist.values[-keep:]).interpolate(limit_direction="both").to_numpy()
        agg = y.reshape(-1, k).sum(axis=1)
        seasons = [hist.per_day // k, hist.per_week // k]
        if agg.size < 2 * seasons[1]:  # MSTL needs two full weeks for the weekly season
            seasons = seasons[:1]
        model = MSTL(season_length=seasons)
        model.fit(agg)
        hk = math.ceil(h / k)
        out = model.predict(hk, level=[98])
        mean = np.maximum(np.repeat(out["mean"] / k, k)[:h], 0)
        upper = np.maximum(np.repeat(out["hi-98"] / k, k)[:h], mean)
        return Forecast(hist.name, hist.end + hist.step, hist.step, hist.tz, mean,
                        {0.99: upper}, "MSTL")

    return run, (0.99,)


FACTORIES = {"kapacity": kapacity_model, "naive": naive_model, "prophet": prophet_model,
             "mstl": mstl_model}


# -- running -------------------------------------------------------------------------------

def run_one(task: tuple[str, str, int, str | None]) -> dict:
    try:
        return _run_one(task)
    except Exception as exc:  # one model failing on one series must not lose the others
        path, model_name, _, case = task
        return {"series": case or series_name(Path(path)), "error": f"{type(exc).__name__}: {exc}"}


def short_window(series: Series, case: str) -> tuple[Series, int]:
    """The case's cut of ``series`` (history then horizon) and the horizon in intervals."""
    _, offset, history_days, horizon_days = SHORT_CASES[case]
    lo = offset * series.per_day
    n = (history_days + horizon_days) * series.per_day
    if lo + n > series.n:
        raise ValueError(f"{case}: the series has {series.n} intervals, the cut needs {lo + n}")
    cut = replace(series, start=series.start + lo * series.step, values=series.values[lo:lo + n])
    return cut, horizon_days * series.per_day


def _run_one(task: tuple[str, str, int, str | None]) -> dict:
    path, model_name, origins, case = task
    path = Path(path)
    [series] = read_history(path)
    if case is None:
        h = horizon_seconds(series) // series.step
    else:
        series, h = short_window(series, case)
        origins = 1
    model, levels = FACTORIES[model_name](series_name(path))
    cpu, wall = time.process_time(), time.perf_counter()
    result = backtest(series, model, h=h, origins=origins, levels=levels)
    summary = result.summary()
    summary["cpu_per_forecast_s"] = round((time.process_time() - cpu) / max(1, len(result.origins)), 3)
    summary["wall_per_forecast_s"] = round((time.perf_counter() - wall) / max(1, len(result.origins)), 3)
    summary["horizon"] = f"{h * series.step // DAY}d"
    summary["series"] = case or series_name(path)
    summary["cpu_total_s"] = round(time.process_time() - cpu, 3)
    return summary


def hindsight_bound(path: Path, case: str, day_level: bool = False) -> float:
    """Relative MAE (vs weekly seasonal naive) of a forecast no model can make: the horizon's own
    time-of-day median over its days, smoothed over an hour. A smooth daily-profile forecast
    that knew the future profile and level gets this far; what is left is interval noise.

    With ``day_level``, that profile's shape gets each horizon day's own best level (the
    weighted median ratio, which minimises the day's absolute error): the bound of forecasts
    whose level varies by day (day-of-week effects, drift, per-day levels), known in hindsight.
    """
    [series] = read_history(path)
    cut, h = short_window(series, case)
    n, D = cut.n - h, cut.per_day
    actual = cut.values[n:]
    naive = SeasonalNaive().fit(cut.head(n)).predict(h).mean
    days = actual[:h - h % D].reshape(-1, D)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-gap slot
        profile = np.nanmedian(days, axis=0)
    profile = np.where(np.isnan(profile), np.nanmedian(days), profile)
    width = max(1, round(3600 / cut.step))
    if width > 1:
        padded = np.concatenate([profile[-(width // 2):], profile, profile[:width - 1 - width // 2]])
        profile = np.convolve(padded, np.ones(width) / width, mode="valid")
    bound = np.resize(profile, h)
    if day_level:
        bound = np.concatenate([_best_level(day, profile) * profile for day in days])
        bound = np.resize(bound, h)
    ok = ~np.isnan(actual)
    return float(np.mean(np.abs(actual[ok] - bound[ok])) / np.mean(np.abs(actual[ok] - naive[ok])))


def _best_level(actual: np.ndarray, shape: np.ndarray) -> float:
    """The ``c`` minimising ``sum |actual - c * shape|``: the shape-weighted median of the ratios."""
    ok = ~np.isnan(actual) & (shape > 0)
    if not ok.any():
        return 1.0
    ratios, weights = actual[ok] / shape[ok], shape[ok]
    order = np.argsort(ratios, kind="stable")
    cum = np.cumsum(weights[order])
    return float(ratios[order][np.searchsorted(cum, cum[-1] / 2)])


def cache_key(path: Path, model: str, origins: int, case: str | None = None) -> str:
    key = f"{model}|{path.name}|{path.stat().st_size}|{origins}"
    return key if case is None else f"{key}|{case}|{SHORT_CASES[case]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help=f"folder of <series>.csv[.gz] (default: {DATA} if present, else "
                        f"{TEST_DATA.relative_to(REPO)})")
    parser.add_argument("--models", default="kapacity,naive",
                        help=f"comma list of {', '.join(MODELS)}")
    parser.add_argument("--origins", type=int, default=ORIGINS)
    parser.add_argument("--series", default="", help="only files whose name contains this")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/kapacity-accuracy-cache.json"))
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--json", type=Path, help="also write all figures here")
    parser.add_argument("--short-only", action="store_true",
                        help="only the short-history cases (SHORT_CASES)")
    args = parser.parse_args(argv)

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = set(models) - set(MODELS)
    if unknown:
        parser.error(f"unknown models: {', '.join(sorted(unknown))}")
    for slow in ("prophet", "mstl"):
        if slow in models:
            try:
                __import__("prophet" if slow == "prophet" else "statsforecast")
            except ImportError:
                print(f"# {slow}: not installed (pip install '.[bench]'); skipped", file=sys.stderr)
                models.remove(slow)
    data = data_folder(args.data)
    files = sorted(p for p in [*data.glob("*.csv"), *data.glob("*.csv.gz")] if args.series in p.name)
    if not files:
        print(f"# no series (*.csv, *.csv.gz) in {data}"
              + (f" matching {args.series!r}" if args.series else "") + ": nothing to do",
              file=sys.stderr)
        return 2
    cache = {}
    if args.cache.exists() and not args.no_cache:
        cache = json.loads(args.cache.read_text())
    by_stem = {series_name(p): p for p in files}
    jobs = [] if args.short_only else [(path, None) for path in files]
    cases = [c for c, (stem, *_) in SHORT_CASES.items() if stem in by_stem]
    jobs += [(by_stem[SHORT_CASES[c][0]], c) for c in cases]
    tasks, results = [], {}
    for path, case in jobs:
        for model in models:
            key = cache_key(path, model, args.origins, case)
            if model in ("prophet", "mstl") and key in cache:
                results[(case or series_name(path), model)] = cache[key]
            else:
                tasks.append((str(path), model, args.origins, case))
    started = time.perf_counter()

    def record(task: tuple[str, str, int, str | None], summary: dict) -> None:
        stem = task[3] or series_name(Path(task[0]))
        print(f"# {stem} {task[1]}: " + (summary["error"] if "error" in summary else
              f"rel MAE {summary['rel_mae']}, {summary['cpu_per_forecast_s']} s/forecast"),
              file=sys.stderr, flush=True)
        if "error" in summary:
            return
        results[(stem, task[1])] = summary
        if task[1] in ("prophet", "mstl") and not args.no_cache:
            cache[cache_key(Path(task[0]), task[1], args.origins, task[3])] = summary
            args.cache.write_text(json.dumps(cache, indent=1, sort_keys=True))

    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(run_one, task): task for task in tasks}
            for future in as_completed(futures):
                record(futures[future], future.result())
    else:
        for task in tasks:
            record(task, run_one(task))

    stems = [] if args.short_only else [series_name(p) for p in files]
    if stems:
        print(report(stems, models, results))
    if cases:
        print("\nShort-history cases (one origin each: history days -> horizon days)")
        print(report(cases, models, results, targets=False))
        print(short_targets(cases, models, results))
        bounds = {c: hindsight_bound(by_stem[SHORT_CASES[c][0]], c) for c in cases}
        print("hindsight bound (the horizon's own time-of-day median, smoothed an hour; no model "
              "can know it): " + ", ".join(f"{c} {v:.3f}" for c, v in bounds.items())
              + f"; geomean {math.exp(np.mean(np.log(list(bounds.values())))):.3f}")
        bounds = {c: hindsight_bound(by_stem[SHORT_CASES[c][0]], c, day_level=True) for c in cases}
        print("hindsight bound with each horizon day's own best level (a level varying by day, "
              "known in hindsight): " + ", ".join(f"{c} {v:.3f}" for c, v in bounds.items())
              + f"; geomean {math.exp(np.mean(np.log(list(bounds.values())))):.3f}")
    kapacity_cpu = sum(r.get("cpu_total_s", 0.0) for (_, m), r in results.items()
                       if m == "kapacity")
    print(f"\n(ran {len(tasks)} backtests in {time.perf_counter() - started:.0f} s wall; "
          f"{args.origins} origins per series; Kapacity runs {kapacity_cpu:.1f} s CPU in all)")
    if args.json:
        args.json.write_text(json.dumps({f"{s}|{m}": r for (s, m), r in results.items()},
                                        indent=1, sort_keys=True))
    ok = overall(stems, "kapacity", results)["pass"] if "kapacity" in models and stems else True
    return 0 if ok else 3


def short_targets(cases: list[str], models: list[str], results: dict) -> str:
    """Issue 12's targets on the short cases: geomean, Prophet on each, daily peak, coverage."""
    o = overall(cases, "kapacity", results)
    peaks = [results[(c, "kapacity")]["daily_peak_error"] for c in cases
             if (c, "kapacity") in results]
    peaks = [p for p in peaks if p is not None]
    peak = float(np.mean(peaks)) if peaks else math.nan
    covs = [results[(c, "kapacity")]["coverage"].get("p99") for c in cases
            if (c, "kapacity") in results]
    lo, hi = SHORT_TARGETS["coverage"]
    bad_cov = [c for c, v in zip(cases, covs, strict=False) if v is None or not lo <= v <= hi]
    parts = [f"geomean rel MAE {o['geomean']:.3f} <= {SHORT_TARGETS['geomean']}: "
             f"{'ok' if o['geomean'] <= SHORT_TARGETS['geomean'] else 'MISSED'}",
             f"mean daily-peak error {peak:.3f} <= {SHORT_TARGETS['peak']}: "
             f"{'ok' if peak <= SHORT_TARGETS['peak'] else 'MISSED'}",
             f"p99 coverage in [{lo}, {hi}] on each: "
             + ("ok" if not bad_cov else "MISSED on " + ", ".join(bad_cov))]
    if "prophet" in models:
        worse = [c for c in cases if (c, "prophet") in results and (c, "kapacity") in results
                 and results[(c, "kapacity")]["rel_mae"] >= results[(c, "prophet")]["rel_mae"]]
        parts.append("below Prophet's MAE on each: " + ("ok" if not worse else
                                                         "MISSED on " + ", ".join(worse)))
    return "short targets: " + "; ".join(parts)


def overall(stems: list[str], model: str, results: dict) -> dict:
    rel = [results[(s, model)]["rel_mae"] for s in stems if (s, model) in results]
    cov = [results[(s, model)]["coverage"].get("p99") for s in stems if (s, model) in results]
    rel = [r for r in rel if r]
    cov = [c for c in cov if c is not None]
    geo = math.exp(float(np.mean(np.log(rel)))) if rel else math.nan
    worst = max(rel) if rel else math.nan
    mean_cov = float(np.mean(cov)) if cov else math.nan
    lo, hi = TARGETS["coverage"]
    peaks = [results[(s, model)]["daily_peak_error"] for s in stems if (s, model) in results]
    peaks = [p for p in peaks if p is not None]
    return {"geomean": geo, "max": worst, "coverage": mean_cov,
            "peak": float(np.mean(peaks)) if peaks else math.nan,
            "pass": geo <= TARGETS["geomean"] and worst <= TARGETS["max"] and lo <= mean_cov <= hi}


def report(stems: list[str], models: list[str], results: dict, targets: bool = True) -> str:
    def fmt(x, spec=".3f"):
        return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)

    lines = []
    short = {s: s.replace("_hourly", "").replace("_rentals", "")[:30] for s in stems}
    head = f"{'series':30s} {'h':>3s}"
    for m in models:
        head += f" | {m[:8]:>8s} rel  p99cov  peakerr  s/fc"
    lines.append("Relative MAE (vs weekly seasonal naive), p99 coverage, daily-peak error, "
                 "wall seconds per forecast (Prophet fits in a child process)")
    lines.append(head)
    lines.append("-" * len(head))
    for s in stems:
        any_result = next((results[(s, m)] for m in models if (s, m) in results), None)
        row = f"{short[s]:30s} {any_result['horizon'] if any_result else '-':>3s}"
        for m in models:
            r = results.get((s, m))
            if r is None:
                row += " |" + " " * 34
                continue
            row += (f" | {fmt(r['rel_mae']):>12s} {fmt(r['coverage'].get('p99')):>7s} "
                    f"{fmt(r['daily_peak_error']):>8s} {fmt(r['wall_per_forecast_s'], '.2f'):>5s}")
        lines.append(row)
    lines.append("-" * len(head))
    for label, key in (("geomean rel MAE", "geomean"), ("max rel MAE", "max"),
                       ("mean p99 coverage", "coverage"), ("mean daily-peak error", "peak")):
        row = f"{label:34s}"
        for m in models:
            row += f" | {fmt(overall(stems, m, results)[key]):>12s}" + " " * 22
        lines.append(row)

    if "kapacity" in models:
        lines.append("")
        lines.append("Kapacity detail: MASE, coverage, capacity (Baseline at p99) and models chosen")
        head2 = (f"{'series':30s} {'origins':>7s} {'rel':>6s} {'mase':>6s} {'p90cov':>6s} "
                 f"{'p99cov':>6s} {'peakerr':>7s} {'under':>7s} {'over':>6s}  models")
        lines.append(head2)
        lines.append("-" * len(head2))
        for s in stems:
            r = results.get((s, "kapacity"))
            if not r:
                continue
            lines.append(
                f"{short[s]:30s} {r['origins']:>7d} {fmt(r['rel_mae']):>6s} {fmt(r['mase']):>6s} "
                f"{fmt(r['coverage'].get('p90')):>6s} {fmt(r['coverage'].get('p99')):>6s} "
                f"{fmt(r['daily_peak_error']):>7s} {fmt(r['under_provisioned_share'], '.4f'):>7s} "
                f"{fmt(r['over_provisioning_ratio']):>6s}  "
                + ", ".join(f"{k} x{v}" for k, v in sorted(r["models"].items())))
        if not targets:
            return "\n".join(lines)
        o = overall(stems, "kapacity", results)
        lo, hi = TARGETS["coverage"]
        lines.append("")
        lines.append(f"targets: geomean rel MAE {fmt(o['geomean'])} <= {TARGETS['geomean']}: "
                     f"{'ok' if o['geomean'] <= TARGETS['geomean'] else 'MISSED'}; "
                     f"worst {fmt(o['max'])} <= {TARGETS['max']}: "
                     f"{'ok' if o['max'] <= TARGETS['max'] else 'MISSED'}; "
                     f"mean p99 coverage {fmt(o['coverage'])} in [{lo}, {hi}]: "
                     f"{'ok' if lo <= o['coverage'] <= hi else 'MISSED'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
