"""``kapacity run``: forecast every system and service of the catalog, learn dependencies, store.

The work per system is one pure function, :func:`forecast_system`, of picklable
inputs (the system's spec, the history source, the settings). It runs in this
process (``serial``), in a local process pool (``processes:N``), or on a
``dask.distributed`` cluster (``dask:ADDRESS`` or ``dask:local:N`` for a
LocalCluster); the results are the same bytes whichever runs it, and are
written in system order by this process only (one writer, as SQLite wants).
After all systems: call ratios are learned from the systems' hourly volumes,
the purchase-flow surge is propagated through synchronous dependencies, and
each system total gets its traffic class and propagated FLAS need.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

import numpy as np

from kapacity.capacity import CapacityResult, CapacitySettings, capacity_result
from kapacity.dependencies import CallRatio, Edge, binned_volume, classify, propagate, sync_graph
from kapacity.errors import KapacityError, ParameterError
from kapacity.events import KnownEvent, apply_events
from kapacity.history import DAY, Series
from kapacity.points import encode_points, points_rows
from kapacity.projection import PeakWindow, project_peak
from kapacity.service import ForecastSettings, forecast_series, horizon_intervals, inputs_hash
from kapacity.sources import HistorySource
from kapacity.subset import StoredGraph, TotalFigures, call_ratios

VERSION = "kapacity-1"


@dataclass(frozen=True)
class SystemSpec:
    system_id: str
    services: tuple[str, ...] = ()
    purchase_flow: bool = False
    dependencies: tuple[tuple[str, str], ...] = ()  # (callee system id, sync|async)


@dataclass(frozen=True)
class RunSettings:
    horizon_seconds: int = 7 * DAY
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    capacity: CapacitySettings = field(default_factory=CapacitySettings)
    events: tuple[KnownEvent, ...] = ()
    store_points: bool = True
    peak: PeakWindow | None = None  # the peak projection's window (run_catalog: the season's)
    peak_growth: float | None = None  # declared yearly growth for the projection (0.15 = 15%)

    def __post_init__(self) -> None:
        if self.peak_growth is not None and not -0.9 <= self.peak_growth <= 10:
            raise ParameterError(f"peak growth {self.peak_growth} outside -0.9 to 10 (0.15 means 15% a year)")
        if self.horizon_seconds <= 0 or self.horizon_seconds > 366 * DAY:
            raise ParameterError(f"horizon {self.horizon_seconds}s outside 1 s to 366 days")
        levels = set(self.forecast.levels)
        if self.capacity.quantile not in levels:
            raise ParameterError(f"capacity quantile {self.capacity.quantile} is not among the "
                                 f"forecast levels {sorted(levels)}")

    def as_dict(self) -> dict:
        return {"horizon_seconds": self.horizon_seconds, "forecast": self.forecast.as_dict(),
                "capacity": self.capacity.as_dict(),
                "events": [e.as_dict() for e in self.events], "store_points": self.store_points,
                "peak": self.peak.as_dict() if self.peak else None, "peak_growth": self.peak_growth}


@dataclass
class SeriesResult:
    service: str | None
    series_key: str
    inputs_hash: str
    model: str
    params: dict
    start: int
    step: int
    intervals: int
    tz: str | None
    capacity: CapacityResult
    points: bytes
    surge_rps: float
    points_rows: list[str]   # what each encoded row of ``points`` holds
    projection: dict | None = None  # the peak projection (kapacity/projection.py)

    def stored_capacity(self) -> dict:
        """The capacity as stored with the forecast: its JSON form, with the points' rows and
        the peak projection."""
        stored = self.capacity.as_dict()
        stored["assumptions"]["points_rows"] = self.points_rows
        if self.projection is not None:
            stored["projection"] = self.projection
        return stored


@dataclass
class SystemResult:
    system_id: str
    series: list[SeriesResult] = field(default_factory=list)
    volume: tuple[int, int, np.ndarray] | None = None
    problems: list[str] = field(default_factory=list)
    worker_peak_mb: float = 0.0  # peak resident memory of the process that computed it
    cpu_seconds: float = 0.0     # CPU time the forecast took in that process


def forecast_system(spec: SystemSpec, source: HistorySource, settings: RunSettings) -> SystemResult:
    """Forecast one system's total and each of its services; problems are returned, not raised."""
    started = time.process_time()
    result = _forecast_system(spec, source, settings)
    result.cpu_seconds = round(time.process_time() - started, 4)
    result.worker_peak_mb = _peak_mb()
    return result


def _forecast_system(spec: SystemSpec, source: HistorySource, settings: RunSettings) -> SystemResult:
    result = SystemResult(spec.system_id)
    try:
        history = source.fetch(spec.system_id, spec.services)
    except KapacityError as exc:
        result.problems.append(f"{spec.system_id}: {exc}")
        return result
    result.problems.extend(history.problems)
    if history.total is None:
        result.problems.append(f"{spec.system_id}: no history in {source.describe()}")
        return result
    parts: list[tuple[str | None, Series]] = [(None, history.total)]
    parts += [(name, history.services[name]) for name in sorted(history.services)]
    levels = settings.forecast.levels
    for service, series in parts:
        key = spec.system_id if service is None else f"{spec.system_id}/{service}"
        try:
            h = horizon_intervals(series, settings.horizon_seconds)
            regular = forecast_series(series, h, settings.forecast)
            cap = capacity_result(series, regular, settings.capacity, settings.events)
            projection = (project_peak(series, cap, settings.peak, settings.capacity, settings.events)
                          if settings.peak is not None else None)
        except KapacityError as exc:
            result.problems.append(f"{key}: {exc}")
            result.series = []  # bad input stores nothing for the system
            return result
        shown = apply_events(regular, settings.events)
        raw_flas = max(cap.assumptions.flas_candidates_rps.values())
        result.series.append(SeriesResult(
            service, key, inputs_hash(series, settings.forecast, h, settings.events),
            shown.model, shown.params, regular.start, regular.step, h, regular.tz, cap,
            encode_points(shown, levels) if settings.store_points else b"",
            max(0.0, raw_flas - cap.peak_forecast_rps), points_rows(levels), projection))
    result.volume = binned_volume(history.total)
    return result


def _peak_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# -- executors ---------------------------------------------------------------------------

Task = tuple[SystemSpec, HistorySource, RunSettings]


def _call(task: Task) -> SystemResult:
    return forecast_system(*task)


class SerialExecutor:
    name = "serial"

    def map(self, tasks: Iterable[Task]) -> Iterator[SystemResult]:
        for task in tasks:
            yield _call(task)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A local process pool; at most ``2 * workers`` systems in flight, results in order."""

    def __init__(self, workers: int) -> None:
        if not 1 <= workers <= 256:
            raise ParameterError(f"workers={workers} outside 1 to 256")
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        self.name = f"processes:{workers}"
        # forkserver: workers start clean (no copy of this process's database session and
        # imports) and load only what forecasting needs
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))

    def map(self, tasks: Iterable[Task]) -> Iterator[SystemResult]:
        return _windowed(lambda t: self._pool.submit(_call, t), tasks, 2 * self.workers,
                         lambda f: f.result())

    def close(self) -> None:
        self._pool.shutdown()


class DaskExecutor:
    """A dask.distributed cluster: ``address`` of a scheduler, or a LocalCluster of ``workers``."""

    def __init__(self, address: str | None = None, *, workers: int = 2,
                 memory_limit: str | None = None) -> None:
        from dask.distributed import Client, LocalCluster

        self._cluster = None
        if address:
            self.client = Client(address)
            self.name = f"dask:{address}"
        else:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                         processes=True, memory_limit=memory_limit or 0,
                                         dashboard_address=None)
            self.client = Client(self._cluster)
            self.name = f"dask:local:{workers}"
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or workers)

    def map(self, tasks: Iterable[Task]) -> Iterator[SystemResult]:
        return _windowed(lambda t: self.client.submit(_call, t, pure=False), tasks,
                         4 * self.workers, lambda f: f.result())

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def _windowed(submit: Callable, tasks: Iterable[Task], window: int,
              result: Callable) -> Iterator[SystemResult]:
    pending: deque = deque()
    for task in tasks:
        pending.append(submit(task))
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())


def make_executor(spec: str) -> SerialExecutor | ProcessExecutor | DaskExecutor:
    """``serial``, ``processes:N``, ``dask:local:N`` or ``dask:tcp://host:8786``."""
    spec = spec.strip()
    if spec == "serial":
        return SerialExecutor()
    if spec.startswith("processes:"):
        return ProcessExecutor(_count(spec.split(":", 1)[1], spec))
    if spec.startswith("dask:local"):
        rest = spec[len("dask:local"):].lstrip(":")
        return DaskExecutor(workers=_count(rest or "2", spec))
    if spec.startswith("dask:"):
        return DaskExecutor(spec[len("dask:"):])
    raise ParameterError(f"executor {spec!r} not understood; use serial, processes:N, "
                         "dask:local:N or dask:tcp://scheduler:8786")


def _count(text: str, spec: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ParameterError(f"executor {spec!r}: {text!r} is not a number of workers") from exc


# -- the run -----------------------------------------------------------------------------

@dataclass
class RunReport:
    run_id: int | None
    systems: int
    stored_systems: int
    series: int
    errors: list[str]
    seconds: float
    executor: str
    call_ratios: int = 0
    flas_systems: int = 0
    worker_peak_mb: float = 0.0
    worker_cpu_seconds: float = 0.0

    def __str__(self) -> str:
        return (f"run {self.run_id}: {self.stored_systems}/{self.systems} systems, {self.series} "
                f"series stored, {len(self.errors)} problems, {self.call_ratios} call ratios, "
                f"{self.flas_systems} FLAS systems, {self.seconds:.1f} s on {self.executor}, "
                f"worker peak {self.worker_peak_mb:.0f} MB")

    def as_dict(self) -> dict:
        return asdict(self)


def compute(specs: Sequence[SystemSpec], source: HistorySource, settings: RunSettings,
            executor, *, on_result: Callable[[SystemResult], None] | None = None,
            progress: Callable[[str], None] | None = None,
            graph: Sequence[SystemSpec] | None = None,
            stored: StoredGraph | None = None) -> tuple[list[SystemResult], dict]:
    """Forecast every system (in id order), then learn ratios and propagate; no database.

    A subset run passes the whole catalog as ``graph`` and the ``stored`` figures that stand
    in for the systems it does not forecast (see kapacity/subset.py).
    """
    specs = sorted(specs, key=lambda s: s.system_id)
    results: list[SystemResult] = []
    tasks = ((spec, source, settings) for spec in specs)
    step = max(1, len(specs) // 20)
    for i, result in enumerate(executor.map(tasks), start=1):
        if on_result is not None:
            on_result(result)
        # keep only what the dependency step needs once a result is stored
        results.append(result)
        if progress and (i % step == 0 or i == len(specs)):
            progress(f"forecast {i}/{len(specs)} systems")
    return results, dependency_step(specs, results, settings, graph=graph, stored=stored)


def dependency_step(specs: Sequence[SystemSpec], results: Sequence[SystemResult],
                    settings: RunSettings, *, graph: Sequence[SystemSpec] | None = None,
                    stored: StoredGraph | None = None) -> dict:
    """Learn call ratios, propagate the entry-point surge, classify; per system totals.

    Propagation covers ``graph`` (default: ``specs``); systems of the graph that were not
    forecast now take part with their ``stored`` totals, and only the forecast ones are returned.
    """
    every = sorted(graph or specs, key=lambda s: s.system_id)
    ids = [s.system_id for s in every]
    rerun = {s.system_id for s in specs}
    edges = [Edge(s.system_id, callee, kind) for s in every for callee, kind in s.dependencies
             if callee in set(ids)]
    volumes = {r.system_id: r.volume for r in results if r.volume is not None}
    ratios = call_ratios(volumes, edges, rerun, stored)
    totals = {r.system_id: _figures(r.series[0]) for r in results if r.series}
    for system_id, figures in (stored.totals if stored else {}).items():
        if system_id in ids and system_id not in rerun:
            totals[system_id] = figures
    entries = [s.system_id for s in every if s.purchase_flow]
    surges = {e: totals[e].surge_rps for e in entries if e in totals}
    propagation = propagate(sync_graph(ids, ratios), surges)
    classes = classify(ids, entries, edges)
    buffer = settings.capacity.safety_buffer
    per_system = {}
    stale = []
    for system_id, total in totals.items():
        extra = propagation.extra_rps.get(system_id, 0.0)
        own = total.own_flas_rps
        need = (total.peak_forecast_rps + extra) * (1 + buffer)
        entry = system_id in surges
        propagated = round(need, 6) if extra > 0 and not entry else None
        if system_id not in rerun:
            if total.flas_rps is not None and abs(max(own, propagated or 0.0) - total.flas_rps) > 1e-6:
                stale.append(f"{system_id}: propagated FLAS need is now {max(own, propagated or 0.0):.1f} rps "
                             f"(stored {total.flas_rps:.1f}); rerun it to store the new figure")
            continue
        per_system[system_id] = {
            "traffic_class": classes.get(system_id, "Baseline"),
            "flas_rps": round(max(own, propagated or 0.0), 6),
            "propagation": {
                "received_surge_rps": extra if not entry else 0.0,
                "from_entry_points": propagation.paths.get(system_id, []),
                "propagated_flas_rps": propagated,
                "own_flas_rps": own,
                "entry_point": entry,
                "entry_surge_rps": round(surges[system_id], 6) if entry else None,
            },
        }
    return {"ratios": ratios, "systems": per_system, "stale": stale,
            "dropped_edges": [list(e) for e in propagation.dropped_edges]}


def _figures(total: SeriesResult) -> TotalFigures:
    return TotalFigures(total.surge_rps, total.capacity.flas_rps, total.capacity.peak_forecast_rps)


def run_catalog(engine, source: HistorySource, *, settings: RunSettings | None = None,
                systems: Sequence[str] | None = None, executor: str = "serial",
                now: datetime | None = None,
                progress: Callable[[str], None] | None = None) -> RunReport:
    """Forecast every active catalog system (or ``systems``) from ``source`` and store a run."""
    # here, not at the top: forecast workers import this module, and need no database layer
    from kapacity import store
    from kapacity.subset import stored_graph
    from readiness import active_systems

    settings = settings or RunSettings()
    if settings.peak is None:
        settings = replace(settings, peak=peak_window(engine, now, settings.peak_growth))
    started = time.perf_counter()
    catalog = active_systems(engine)
    if not catalog:
        raise KapacityError("the catalog has no systems; import one with "
                            "`readiness import --catalog FILE` first")
    known = {s.system_id for s in catalog}
    if systems:
        unknown = sorted(set(systems) - known)
        if unknown:
            raise KapacityError(f"unknown systems: {', '.join(unknown[:10])}")
    wanted = set(systems) if systems else known
    graph = [SystemSpec(s.system_id, tuple(sorted({str(svc.get("name")) for svc in s.services
                                                   if svc.get("name")})),
                        bool(s.purchase_flow), tuple(s.dependencies))
             for s in catalog]
    specs = [s for s in graph if s.system_id in wanted]
    stored = stored_graph(engine) if wanted != known else None  # a subset propagates over the whole graph
    runner = make_executor(executor)
    run_id = store.start_run(engine, source=source.describe(), settings=settings,
                             executor=runner.name, version=VERSION, now=now)
    errors: list[str] = []
    writer = store.RunWriter(engine, run_id, settings, now=now)
    try:
        results, deps = compute(specs, source, settings, runner, on_result=writer.add,
                                progress=progress, graph=graph, stored=stored)
        writer.flush()
        for r in results:
            errors.extend(r.problems)
        errors.extend(deps["stale"])
        store.finish_run(engine, run_id, deps, errors=errors, systems=len(specs),
                         series=writer.series, now=now)
    except BaseException as exc:
        store.fail_run(engine, run_id, f"{type(exc).__name__}: {exc}", now=now)
        raise
    finally:
        runner.close()
    stored = sum(1 for r in results if r.series)
    return RunReport(run_id, len(specs), stored, writer.series, errors,
                     time.perf_counter() - started, runner.name, len(deps["ratios"]),
                     sum(1 for v in deps["systems"].values() if v["traffic_class"] == "FLAS"),
                     max([0.0, *[r.worker_peak_mb for r in results]]),
                     round(sum(r.cpu_seconds for r in results), 2))


def peak_window(engine, now: datetime | None = None, growth: float | None = None) -> PeakWindow:
    """The window the peak projection is for: the current season's peak (``readiness season``),
    else the calendar's next Black Friday to 31 December."""
    from kapacity.projection import next_peak_window
    from readiness import current_season
    from storage import utcnow

    today = (now or utcnow()).date()
    season = current_season(engine, today)
    if season is not None and season.ends_on >= today:
        return PeakWindow(season.starts_on, season.ends_on, season.key, growth)
    return next_peak_window(today, growth)


def ratios_as_rows(ratios: Iterable[CallRatio]) -> list[dict]:
    return [r.as_dict() for r in ratios]
