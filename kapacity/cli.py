"""The ``kapacity`` command: forecast, capacity, backtest, growth, run.

Data goes to stdout (or ``--out``), progress and errors to stderr. Exit codes:
0 ok, 1 error (unusable input, failed run), 2 usage.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clikit import EXIT_ERROR, DbOption, Format, FormatOption, cli_app, emit, open_engine, say
from clikit import run as run_app
from kapacity.errors import KapacityError, ParameterError

if TYPE_CHECKING:
    from kapacity.events import KnownEvent
    from kapacity.history import Series
    from kapacity.service import ForecastSettings

# Each command imports the forecasting stack (pandas, numpy, statsmodels) when it runs: `--help`
# and a mistyped option answer at once (benchmarks/cli_speed.py).

app = cli_app("Kapacity: traffic forecasts, Baseline and FLAS capacity, backtests.", add_completion=False)


HistoryOpt = Annotated[Path, typer.Option("--history", "-H", help="CSV or Parquet with "
                                          "timestamp,value[,series].", show_default=False)]
HorizonOpt = Annotated[str, typer.Option("--horizon", help="How far ahead: 12h, 3d, 7d, 28d.")]
SeriesOpt = Annotated[str | None, typer.Option("--series", help="Only this series of the file.")]
CountryOpt = Annotated[str, typer.Option("--country", help="Holiday calendar (ISO code, "
                                         "'none' for no public holidays).")]
SubdivOpt = Annotated[str | None, typer.Option("--subdiv", help="Holiday calendar subdivision, "
                                               "e.g. VIC, CA.")]
PeaksOpt = Annotated[bool, typer.Option("--peaks/--no-peaks", help="Treat Black Friday, Cyber "
                                        "Monday, Christmas as event days.")]
ModelOpt = Annotated[str, typer.Option("--model", help="auto (chosen per series), profile or naive.")]
EventsOpt = Annotated[Path | None, typer.Option("--events", help="Known future events "
                                                "(flash sales): CSV/JSON/YAML with "
                                                "name,start,end,multiplier[,series].")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]


def _settings(model: str, country: str, subdiv: str | None, peaks: bool,
              extra_levels: tuple[float, ...] = ()) -> ForecastSettings:
    """Forecast settings from options; a value out of range is a usage error (exit 2)."""
    from kapacity.service import ForecastSettings

    country_code = None if country.strip().lower() in {"none", ""} else country.strip().upper()
    try:
        return ForecastSettings(model=model, country=country_code, subdiv=subdiv, peaks=peaks,
                                extra_levels=extra_levels)
    except ParameterError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _horizon(text: str) -> int:
    from kapacity.history import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--horizon") from exc


def _progress(quiet: bool):
    def progress(message: str) -> None:
        if not quiet:
            say(f"kapacity: {message}")
    return progress


def _load(history: Path, series: str | None, events: Path | None) -> tuple[list[Series], list[KnownEvent]]:
    from kapacity.events import read_events
    from kapacity.history import read_history

    loaded = read_history(history, series=series)
    known = read_events(events) if events is not None else []
    return loaded, known


def _fail(exc: Exception) -> None:
    say(f"kapacity: error: {exc}")
    raise typer.Exit(EXIT_ERROR)


@app.command()
def forecast(
    history: HistoryOpt,
    horizon: HorizonOpt = "7d",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the CSV here "
                                             "(default: stdout).")] = None,
    series: SeriesOpt = None,
    events: EventsOpt = None,
    model: ModelOpt = "auto",
    country: CountryOpt = "US",
    subdiv: SubdivOpt = None,
    peaks: PeaksOpt = True,
    quiet: QuietOpt = False,
) -> None:
    """Forecast each series: timestamp,forecast,p90,p99 (+series) at the history's resolution."""
    import pandas as pd

    from kapacity.service import forecast_frame, forecast_series, horizon_intervals

    seconds = _horizon(horizon)
    progress = _progress(quiet)
    settings = _settings(model, country, subdiv, peaks)
    if out is not None and out.is_dir():  # before the work: say so at once, not after a forecast
        _fail(KapacityError(f"--out {out}: is a directory; expected a file name for the CSV"))
    try:
        loaded, known = _load(history, series, events)
        frames = []
        has_series = loaded[0].name is not None
        for i, s in enumerate(loaded, start=1):
            progress(f"forecasting {s.label} ({i}/{len(loaded)})")
            f = forecast_series(s, horizon_intervals(s, seconds), settings, known)
            frames.append(forecast_frame(f, with_series=has_series))
        text = pd.concat(frames, ignore_index=True).to_csv(index=False, float_format="%.6g",
                                                          lineterminator="\n")
    except KapacityError as exc:
        _fail(exc)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
        except OSError as exc:
            _fail(KapacityError(f"--out {out}: cannot write the CSV: {exc.strerror or exc}"))
        progress(f"wrote {sum(len(f) for f in frames)} rows to {out}")


@app.command("capacity")
def capacity_cmd(
    history: HistoryOpt,
    horizon: HorizonOpt = "7d",
    series: SeriesOpt = None,
    events: EventsOpt = None,
    quantile: Annotated[float, typer.Option("--quantile", min=0.5, max=0.9999,
                                            help="Forecast quantile Baseline must hold.")] = 0.99,
    safety_buffer: Annotated[float, typer.Option("--safety-buffer", min=0.0, max=5.0,
                                                 help="Extra share on top of the FLAS need "
                                                 "(0.2 = 20%).")] = 0.2,
    model: ModelOpt = "auto",
    country: CountryOpt = "US",
    subdiv: SubdivOpt = None,
    peaks: PeaksOpt = True,
    fmt: FormatOption = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Baseline and FLAS capacity per series, with the assumptions used."""
    from kapacity.capacity import CapacitySettings, capacity
    from kapacity.service import forecast_series, horizon_intervals

    seconds = _horizon(horizon)
    progress = _progress(quiet)
    cap_settings = CapacitySettings(quantile=quantile, safety_buffer=safety_buffer)
    settings = _settings(model, country, subdiv, peaks, (quantile,))
    try:
        loaded, known = _load(history, series, events)
        results = []
        for i, s in enumerate(loaded, start=1):
            progress(f"capacity for {s.label} ({i}/{len(loaded)})")
            f = forecast_series(s, horizon_intervals(s, seconds), settings)
            results.append(capacity(s, f, cap_settings, known))
    except KapacityError as exc:
        _fail(exc)
    document = {"history": str(history), "horizon": horizon, "settings": settings.as_dict(),
                "capacity_settings": cap_settings.as_dict(), "series": results}
    columns = ["series", "baseline_rps", "flas_rps", "peak_forecast_rps", "spike_ratio"]
    rows = [{**{c: r[c] for c in columns}, "flas_driver": r["assumptions"]["flas_driver"],
             "peak_at": r["assumptions"]["peak_forecast_at"]} for r in results]
    _emit(document, rows, fmt)


@app.command("backtest")
def backtest_cmd(
    history: HistoryOpt,
    horizon: HorizonOpt = "7d",
    origins: Annotated[int, typer.Option("--origins", min=1, max=104,
                                         help="Number of rolling origins.")] = 4,
    series: SeriesOpt = None,
    quantile: Annotated[float, typer.Option("--quantile", min=0.5, max=0.9999,
                                            help="Quantile for the Baseline capacity checks.")] = 0.99,
    model: ModelOpt = "auto",
    country: CountryOpt = "US",
    subdiv: SubdivOpt = None,
    peaks: PeaksOpt = True,
    fmt: FormatOption = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Rolling-origin backtest: MAE vs weekly seasonal naive, MASE, coverage, capacity checks."""
    import numpy as np

    from kapacity.backtest import backtest as run_backtest
    from kapacity.capacity import CapacitySettings
    from kapacity.service import forecast_series, horizon_intervals

    seconds = _horizon(horizon)
    progress = _progress(quiet)
    cap_settings = CapacitySettings(quantile=quantile)
    settings = _settings(model, country, subdiv, peaks, (quantile,))
    try:
        loaded, _ = _load(history, series, None)
        summaries = []
        for s in loaded:
            h = horizon_intervals(s, seconds)
            result = run_backtest(s, lambda hist, k: forecast_series(hist, k, settings), h=h,
                                  origins=origins, levels=settings.levels, settings=cap_settings,
                                  progress=progress)
            summaries.append(result.summary())
    except KapacityError as exc:
        _fail(exc)
    rel = [s["rel_mae"] for s in summaries if s["rel_mae"]]
    p99 = [s["coverage"].get("p99") for s in summaries if s["coverage"].get("p99") is not None]
    overall = {
        "series": len(summaries),
        "geomean_rel_mae": round(math.exp(float(np.mean(np.log(rel)))), 4) if rel else None,
        "max_rel_mae": max(rel) if rel else None,
        "mean_p99_coverage": round(float(np.mean(p99)), 4) if p99 else None,
    }
    document = {"history": str(history), "horizon": horizon, "origins": origins,
                "settings": settings.as_dict(), "series": summaries, "overall": overall}
    rows = [{"series": s["series"], "origins": s["origins"], "rel_mae": s["rel_mae"],
             "mase": s["mase"], "p90_cov": s["coverage"].get("p90"),
             "p99_cov": s["coverage"].get("p99"), "daily_peak_err": s["daily_peak_error"],
             "under_share": s["under_provisioned_share"],
             "over_ratio": s["over_provisioning_ratio"]} for s in summaries]
    _emit(document, rows, fmt)


@app.command("growth")
def growth_cmd(
    history: HistoryOpt,
    series: SeriesOpt = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Week-over-week, month-over-month and year-over-year growth of volume and daily peaks."""
    from kapacity.capacity import growth

    try:
        loaded, _ = _load(history, series, None)
    except KapacityError as exc:
        _fail(exc)
    results = [{"series": s.name, **growth(s)} for s in loaded]
    rows = []
    for r in results:
        row = {"series": r["series"]}
        for key in ("wow", "mom", "yoy"):
            row[f"{key}_volume"] = (r[key] or {}).get("volume")
            row[f"{key}_daily_peak"] = (r[key] or {}).get("daily_peak")
        rows.append(row)
    _emit({"history": str(history), "series": results}, rows, fmt)


@app.command("run")
def run_cmd(
    histories: Annotated[Path | None, typer.Option(
        "--histories", help="Directory of histories: <system>.csv|.parquet or "
        "<system>/<service>.csv|.parquet (default: KAPACITY_HISTORY_DIR).")] = None,
    source: Annotated[str, typer.Option("--source", help="Where history comes from: directory "
                                        "(--histories) or prometheus (--config).")] = "directory",
    config: Annotated[Path | None, typer.Option(
        "--config", help="Prometheus history configuration, YAML (with --source prometheus; "
        "default: KAPACITY_PROMETHEUS_CONFIG).")] = None,
    db: DbOption = None,
    horizon: HorizonOpt = "7d",
    system: Annotated[list[str] | None, typer.Option("--system", help="Only these systems "
                                                     "(repeatable).")] = None,
    executor: Annotated[str, typer.Option("--executor", help="serial, processes:N, "
                                          "dask:local:N or dask:tcp://scheduler:8786.")] = "serial",
    events: EventsOpt = None,
    country: CountryOpt = "US",
    subdiv: SubdivOpt = None,
    peaks: PeaksOpt = True,
    points: Annotated[bool, typer.Option("--points/--no-points", help="Store forecast points "
                                         "(not only capacity).")] = True,
    peak_growth: Annotated[float | None, typer.Option(
        "--peak-growth", min=-0.9, max=10.0, help="Yearly growth for the peak projection when the "
        "history spans less than a year (0.15 = 15%; default: 10%).")] = None,
    fmt: FormatOption = Format.table,
    quiet: QuietOpt = False,
) -> None:
    """Forecast every catalog system and service, learn dependencies, store the run (with each
    series' peak projection for the current season's peak window)."""
    from kapacity.events import read_events
    from kapacity.runner import RunSettings, run_catalog
    from kapacity.store import system_capacity

    seconds = _horizon(horizon)
    history_source = _history_source(source, histories, config)
    progress = _progress(quiet)
    forecast_settings = _settings("auto", country, subdiv, peaks)
    try:
        settings = RunSettings(horizon_seconds=seconds, forecast=forecast_settings,
                               events=tuple(read_events(events)) if events else (),
                               store_points=points, peak_growth=peak_growth)
        engine = open_engine(db)
        report = run_catalog(engine, history_source, settings=settings,
                             systems=system or None, executor=executor, progress=progress)
    except KapacityError as exc:
        _fail(exc)
    progress(str(report))
    for problem in report.errors[:20]:
        progress(f"problem: {problem}")
    rows = [{k: r[k] for k in ("system_id", "traffic_class", "baseline_rps", "flas_rps",
                               "peak_forecast_rps", "spike_ratio", "model")}
            for r in system_capacity(engine, run_id=report.run_id)]
    _emit({"run": report.as_dict(), "systems": rows}, rows, fmt)
    if report.stored_systems == 0:
        raise typer.Exit(1)


def _history_source(kind: str, histories: Path | None, config: Path | None):
    """The run's history source from --source with --histories or --config (usage errors exit 2)."""
    from kapacity.settings import KapacityConfig
    from kapacity.sources import DirectorySource

    settings = KapacityConfig()
    if kind == "prometheus":
        if histories is not None:
            raise typer.BadParameter("--histories is for --source directory", param_hint="--histories")
        file = config or settings.prometheus_config
        if file is None:
            raise typer.BadParameter("give --config FILE or set KAPACITY_PROMETHEUS_CONFIG",
                                     param_hint="--config")
        from kapacity.sources_prometheus import load_prometheus_config

        try:
            return load_prometheus_config(file)
        except KapacityError as exc:
            _fail(exc)
    if kind != "directory":
        raise typer.BadParameter(f"{kind!r}; accepted: directory, prometheus", param_hint="--source")
    if config is not None:
        raise typer.BadParameter("--config is for --source prometheus", param_hint="--config")
    folder = histories or settings.history_dir
    if folder is None:
        hint = " (KAPACITY_PROMETHEUS_CONFIG is set: add --source prometheus)" if settings.prometheus_config else ""
        raise typer.BadParameter(f"give --histories DIR or set KAPACITY_HISTORY_DIR{hint}",
                                 param_hint="--histories")
    if not Path(folder).is_dir():
        _fail(KapacityError(f"{folder}: not a directory of histories"))
    return DirectorySource(Path(folder))


@app.command("projection")
def projection_cmd(
    system: Annotated[list[str] | None, typer.Option("--system", help="Only these systems "
                                                     "(repeatable).")] = None,
    services: Annotated[bool, typer.Option("--services/--totals", help="Each service too, or "
                                           "only system totals.")] = True,
    run_id: Annotated[int | None, typer.Option("--run", help="A stored run (default: each "
                                               "system's newest).")] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The peak projection per system and service: last season's peak event x growth on the
    coming peak days, with the forecast window and history span it rests on."""
    from kapacity.store import peak_projections

    engine = open_engine(db)
    found = peak_projections(engine, systems=system or None, run_id=run_id, services=services)
    if not found:
        what = f"for {', '.join(system)} " if system else ""
        _fail(KapacityError(f"no stored Kapacity forecast {what}yet: run `kapacity run` first"))
    unknown = sorted(set(system or ()) - {r["system_id"] for r in found})
    if unknown:
        _fail(KapacityError(f"no stored Kapacity forecast for {', '.join(unknown)}"))
    rows = [_projection_row(r) for r in found]
    _emit({"projections": found}, rows, fmt)


def _projection_row(found: dict) -> dict:
    p = found["projection"] or {}
    best = (p.get("basis") or [{}])[0]
    window = p.get("window") or {}
    history = p.get("history") or {}
    forecast_window = p.get("forecast_window") or {}
    row = {"system": found["system_id"], "service": found["service"] or "(total)",
           "peak window": f"{window.get('starts_on', '?')} to {window.get('ends_on', '?')}" if window else "",
           "last peak event": f"{best['event']} {best['observed_on']}" if best else "",
           "uplift": f"{p['uplift']:.2f}x" if p.get("uplift") else "",
           "growth a year": _percent((p.get("growth") or {}).get("yearly")),
           "projected peak rps": p.get("peak_rps"), "baseline rps": p.get("baseline_rps"),
           "flas rps": p.get("flas_rps"), "forecast baseline rps": found["baseline_rps"],
           "history": f"{history.get('from')} to {history.get('to')}" if history else "",
           "forecast window": (f"{str(forecast_window.get('from'))[:16]} to "
                               f"{str(forecast_window.get('to'))[:16]}") if forecast_window else "",
           "note": p.get("missing") or ("" if p else "no projection in this run (run it again)")}
    return {k: ("" if v is None else v) for k, v in row.items()}


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share:.0%}"


@app.command("synthesize")
def synthesize_cmd(
    out: Annotated[Path, typer.Option("--out", help="Directory to write histories into.")],
    db: DbOption = None,
    weeks: Annotated[int, typer.Option("--weeks", min=2, max=104)] = 8,
    step: Annotated[int, typer.Option("--step", help="Resolution in seconds.")] = 60,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    file_format: Annotated[str, typer.Option("--file-format", help="parquet or csv.")] = "parquet",
) -> None:
    """Write synthetic histories for every catalog system and service (demos, benchmarks)."""
    from kapacity.runner import SystemSpec
    from kapacity.synthetic import synthesize
    from readiness import active_systems

    if file_format not in {"parquet", "csv"}:
        raise typer.BadParameter("use parquet or csv", param_hint="--file-format")
    catalog = active_systems(open_engine(db))
    if not catalog:
        _fail(KapacityError("the catalog has no systems; import one first"))
    specs = [SystemSpec(s.system_id, tuple(sorted({str(x.get("name")) for x in s.services
                                                   if x.get("name")})),
                        bool(s.purchase_flow), tuple(s.dependencies)) for s in catalog]
    ratios = synthesize(specs, out, weeks=weeks, step=step, seed=seed, file_format=file_format)
    say(f"kapacity: wrote histories for {len(specs)} systems to {out} ({len(ratios)} dependencies)")


def _emit(document: dict, rows: list[dict], fmt: Format) -> None:
    """JSON prints the whole document (settings included); table and CSV its rows."""
    if fmt is Format.table and not rows:
        typer.echo("(no rows)")
        return
    emit(rows, fmt, list(rows[0]) if rows else [], document=document, rule=False,
         cell=_short if fmt is Format.table else str)


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def main() -> None:
    run_app(app, errors=(KapacityError,))


if __name__ == "__main__":  # pragma: no cover
    main()
