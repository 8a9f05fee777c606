"""Prometheus metrics: readiness state read from the database, and the serve process's own.

Two sources of truth, kept apart:

- :class:`ReadinessCollector` reads the latest complete run and the governance
  tables at scrape time, so every instance sharing a database reports the same
  figures (a run stored by another instance or by the CLI shows at once). Reads
  are cached for a few seconds so frequent scrapes cost one set of queries.
- :class:`ServeMetrics` counts what this process did: cycles by outcome, run
  durations, step and source errors, the last success and the next fire time.

Labels are bounded by the catalog and the rule pack (levels, unit keys, rule ids,
categories, source names, forecast kinds); never merchants, requests or users.
Scores are ratios 0-1 (``score / 100``), times are Unix seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

import notifications
from readiness import (
    LOSING_STATUSES,
    active_systems,
    current_peak_event,
    freshness,
    get_run,
    latest_facts_of,
    latest_run_id,
    load_rules,
    rule_summary,
    scores,
    source_statuses,
)
from storage import utcnow

SCORE_LEVELS = ("company", "domain", "group", "team")  # not systems: one series per system is too many
STAGES = ("expiry", "flashsales", "forecasts", "notifications", "collect", "evaluate", "digests", "reminders",
          "milestones")


def unix(moment: datetime | None) -> float:
    """Naive UTC (as stored) to Unix seconds."""
    return moment.replace(tzinfo=UTC).timestamp() if moment is not None else 0.0


@dataclass
class Snapshot:
    """Everything the collector exposes, read in one go."""

    run: dict | None = None
    units: list[dict] = field(default_factory=list)
    rule_failures: list[tuple[str, str, int]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    waivers: dict[str, int] = field(default_factory=dict)
    reviews: dict[str, int] = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)
    capacity: list[tuple[str, str, str, float]] = field(default_factory=list)  # system, class, kind, rps
    peak: dict | None = None
    outbox: dict[str, int] = field(default_factory=dict)  # notifications by status


def read_snapshot(engine: Engine, now: datetime, categories: dict[str, str]) -> Snapshot:
    from governance import REVIEW_STATES, WAIVER_STATES, list_reviews, list_waivers

    snap = Snapshot()
    run_id = latest_run_id(engine)
    if run_id is not None:
        _read_run(snap, engine, run_id, categories)
    snap.sources = [{"source": s.source, "last_success": s.last_success_at, "last_attempt": s.last_attempt_at,
                     "ok": s.last_error is None, "systems": s.systems,
                     "freshness": freshness(s.source).total_seconds()} for s in source_statuses(engine)]
    capacity = latest_facts_of(engine, "kapacity")
    for system in active_systems(engine):
        stored = capacity.get(system.system_id)
        for kind, key in (("baseline", "baseline_rps"), ("flas", "flas_rps")):
            value = (stored.data or {}).get(key) if stored else None
            if isinstance(value, int | float):
                snap.capacity.append((system.system_id, system.traffic_class, kind, float(value)))
    snap.outbox = notifications.counts(engine)
    snap.waivers = dict.fromkeys(WAIVER_STATES, 0)
    for waiver in list_waivers(engine, now=now):
        snap.waivers[waiver["state"]] = snap.waivers.get(waiver["state"], 0) + 1
    snap.reviews = dict.fromkeys(REVIEW_STATES, 0)
    for review in list_reviews(engine, now=now):
        snap.reviews[review["state"]] = snap.reviews.get(review["state"], 0) + 1
    event = current_peak_event(engine, now.date())
    if event is not None:
        snap.peak = {"key": event.key, "active": event.starts_on <= now.date() <= event.ends_on,
                     "target_score": event.target_score, "days_left": (event.target_date - now.date()).days}
    return snap


def _read_run(snap: Snapshot, engine: Engine, run_id: int, categories: dict[str, str]) -> None:
    """The latest complete run: its figures, unit scores, and results by rule and status."""
    run = get_run(engine, run_id)
    snap.run = {"id": run.id, "started_at": run.started_at, "finished_at": run.finished_at,
                "systems": run.systems, "results": run.results, "errors": run.errors,
                "load_errors": len(run.load_errors or [])}
    snap.units = [{"level": u["level"], "key": u["key"], "name": u["name"], "score": u["score"],
                   "outstanding": u["points_outstanding"], "failing": u["failing_rules"],
                   "systems": u["systems"], "confidence": dict(u["confidence"] or {})}
                  for level in SCORE_LEVELS for u in scores(engine, level, run_id=run_id)]
    losing: dict[str, int] = {}
    for row in rule_summary(engine, run_id):
        snap.statuses[row["status"]] = snap.statuses.get(row["status"], 0) + row["results"]
        if row["status"] in LOSING_STATUSES:
            losing[row["rule_id"]] = losing.get(row["rule_id"], 0) + row["results"]
    snap.rule_failures = sorted((rule_id, categories.get(rule_id, "unknown"), count)
                                for rule_id, count in losing.items())


class ReadinessCollector(Collector):
    """Readiness figures of the latest complete run and of governance, at scrape time."""

    def __init__(self, engine: Engine, *, categories: dict[str, str] | None = None,
                 clock: Callable[[], datetime] = utcnow, cache_seconds: float = 5.0):
        self.engine = engine
        self.clock = clock
        self.cache_seconds = cache_seconds
        self._categories = categories
        self._cached: tuple[float, Snapshot] | None = None
        self._lock = threading.Lock()

    def categories(self) -> dict[str, str]:
        if self._categories is None:
            self._categories = {rule.meta.id: rule.meta.category for rule in load_rules().rules}
        return self._categories

    def snapshot(self) -> Snapshot:
        with self._lock:
            if self._cached is not None and time.monotonic() - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            snap = read_snapshot(self.engine, self.clock(), self.categories())
            self._cached = (time.monotonic(), snap)
            return snap

    def describe(self) -> Iterable:
        return []  # collected at scrape time only: registering must not query the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("readiness_database_up", "1 when the last scrape could read the database")
        try:
            snap = self.snapshot()
        except Exception:  # a scrape must answer even when the database is away
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _families(snap)


def _gauge(name: str, doc: str, labels: list[str] | None = None,
           rows: Iterable[tuple[list[str], float]] = ()) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels or [])
    for values, value in rows:
        family.add_metric(values, value)
    return family


def _families(snap: Snapshot) -> Iterator[GaugeMetricFamily]:
    unit_labels = ["level", "key", "name"]
    units = sorted(snap.units, key=lambda u: (SCORE_LEVELS.index(u["level"]), u["key"]))
    yield _gauge("readiness_score_ratio", "Readiness score of a unit in the latest run (0-1)", unit_labels,
                 (([u["level"], u["key"], u["name"]], round(u["score"] / 100.0, 6)) for u in units))
    yield _gauge("readiness_points_outstanding", "Points a unit still has to earn in the latest run", unit_labels,
                 (([u["level"], u["key"], u["name"]], u["outstanding"]) for u in units))
    yield _gauge("readiness_unit_systems", "Systems in a unit in the latest run", unit_labels,
                 (([u["level"], u["key"], u["name"]], u["systems"]) for u in units))
    company = next((u for u in units if u["level"] == "company"), None)
    yield _gauge("readiness_confidence_ratio", "Share of the company's possible points by evidence basis",
                 ["basis"], (([basis], share) for basis, share in sorted((company or {}).get("confidence", {}).items())))
    yield _gauge("readiness_rule_failures",
                 "Systems a rule needs action on in the latest run (fail, no_data, expired, pending_review, "
                 "error: the losing statuses of readiness.scoring)",
                 ["rule_id", "category"], (([rule_id, category], count)
                                           for rule_id, category, count in snap.rule_failures))
    yield _gauge("readiness_results", "Results of the latest run by status", ["status"],
                 (([status], count) for status, count in sorted(snap.statuses.items())))
    run = snap.run or {}
    yield _gauge("readiness_last_run_id", "Id of the latest complete run", rows=[([], run.get("id", 0))])
    yield _gauge("readiness_last_run_timestamp_seconds", "When the latest complete run was stored",
                 rows=[([], unix(run.get("finished_at")))])
    started, finished = run.get("started_at"), run.get("finished_at")
    yield _gauge("readiness_last_run_duration_seconds", "Evaluation time of the latest complete run",
                 rows=[([], max(0.0, (finished - started).total_seconds()) if started and finished else 0.0)])
    yield _gauge("readiness_last_run_errors", "Error results (rule crashed or failed to load) in the latest run",
                 rows=[([], run.get("errors", 0))])
    yield _gauge("readiness_last_run_systems", "Systems evaluated in the latest run", rows=[([], run.get("systems", 0))])
    yield _gauge("readiness_notifications", "Messages in the notification outbox by status (queued: pending, "
                 "skipped; sent; failed; sending: unconfirmed after a crash)", ["status"],
                 [([status], n) for status, n in sorted(snap.outbox.items())])
    queued = snap.outbox.get("pending", 0) + snap.outbox.get("skipped", 0)
    for name, value, what in (("queued", queued, "waiting to be sent (pending, or no channel yet)"),
                              ("sent", snap.outbox.get("sent", 0), "sent"),
                              ("failed", snap.outbox.get("failed", 0), "whose last attempt failed")):
        yield _gauge(f"readiness_notifications_{name}", f"Messages in the outbox {what}", rows=[([], value)])
    yield _gauge("readiness_waivers", "Waivers by state now", ["state"],
                 (([state], count) for state, count in sorted(snap.waivers.items())))
    yield _gauge("readiness_reviews", "Reviews of team-managed checks by state now", ["state"],
                 (([state], count) for state, count in sorted(snap.reviews.items())))
    yield _gauge("readiness_reviews_pending", "Reviews waiting for a decision",
                 rows=[([], snap.reviews.get("pending", 0))])
    sources = sorted(snap.sources, key=lambda s: s["source"])
    yield _gauge("readiness_source_last_success_timestamp_seconds", "Last successful collection per fact source",
                 ["source"], (([s["source"]], unix(s["last_success"])) for s in sources))
    yield _gauge("readiness_source_last_attempt_timestamp_seconds", "Last collection attempt per fact source",
                 ["source"], (([s["source"]], unix(s["last_attempt"])) for s in sources))
    yield _gauge("readiness_source_up", "1 when the last collection of a source had no error", ["source"],
                 (([s["source"]], 1 if s["ok"] else 0) for s in sources))
    yield _gauge("readiness_source_freshness_seconds", "How old a source's facts may get before rules call them stale",
                 ["source"], (([s["source"]], s["freshness"]) for s in sources))
    yield _gauge("readiness_forecast_capacity_rps",
                 "Kapacity's forecast capacity per system: Baseline and FLAS requests per second",
                 ["system_id", "traffic_class", "forecast"],
                 (([system, traffic_class, kind], rps) for system, traffic_class, kind, rps in snap.capacity))
    peak = snap.peak
    yield _gauge("readiness_peak_event_active", "1 between the peak event's start and end (the freeze)",
                 ["event"], [([peak["key"]], 1 if peak["active"] else 0)] if peak else [])
    yield _gauge("readiness_peak_target_ratio", "Company score the peak event targets (0-1)", ["event"],
                 [([peak["key"]], peak["target_score"] / 100.0)] if peak else [])
    yield _gauge("readiness_peak_days_left", "Days to the peak event's target date", ["event"],
                 [([peak["key"]], peak["days_left"])] if peak else [])


class ServeMetrics:
    """What this serve process did (counters survive only as long as the process)."""

    def __init__(self, registry: CollectorRegistry, sources: Iterable[str] = ()):
        self.cycles = Counter("readiness_serve_cycles", "Scheduled cycles by outcome", ["outcome"],
                              registry=registry)
        self.duration = Histogram("readiness_serve_run_duration_seconds", "Duration of a cycle that evaluated",
                                  buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800), registry=registry)
        self.last_duration = Gauge("readiness_serve_last_run_duration_seconds", "Duration of the last cycle",
                                   registry=registry)
        self.last_success = Gauge("readiness_serve_last_success_timestamp_seconds",
                                  "When this process last completed a run", registry=registry)
        self.errors = Counter("readiness_serve_errors", "Failed steps of a cycle, or failed jobs", ["stage"],
                              registry=registry)
        self.source_errors = Counter("readiness_serve_source_errors", "Collections that reported errors",
                                     ["source"], registry=registry)
        self.next_fire = Gauge("readiness_serve_next_run_timestamp_seconds", "When the next cycle is due",
                               registry=registry)
        for outcome in ("complete", "failed", "skipped"):
            self.cycles.labels(outcome)
        for stage in STAGES:
            self.errors.labels(stage)
        for source in sources:
            self.source_errors.labels(source)

    def observe_cycle(self, report: Any) -> None:
        self.cycles.labels(report.outcome).inc()
        if report.outcome != "skipped":
            self.duration.observe(report.duration_seconds)
            self.last_duration.set(report.duration_seconds)
        if report.outcome == "complete":
            self.last_success.set(time.time())
        for error in report.errors:
            self.errors.labels(error.split(":", 1)[0]).inc()
        for stored in report.sources:
            if stored.errors:
                self.source_errors.labels(stored.source).inc()

    def next_run(self, moment: datetime) -> None:
        self.next_fire.set(unix(moment))

    def job_failed(self, name: str) -> None:
        self.errors.labels(name).inc()


def build_registry(engine: Engine, *, sources: Iterable[str] = (), clock: Callable[[], datetime] = utcnow,
                   cache_seconds: float = 5.0) -> tuple[CollectorRegistry, ServeMetrics]:
    from prometheus_client import disable_created_metrics

    disable_created_metrics()  # process-wide: `_created` series only double the scrape
    registry = CollectorRegistry()
    registry.register(ReadinessCollector(engine, clock=clock, cache_seconds=cache_seconds))
    return registry, ServeMetrics(registry, sources)


def start_server(registry: CollectorRegistry, host: str, port: int) -> tuple[Any, int]:
    """Serve ``/metrics`` on a daemon thread; port 0 picks a free one. Returns (server, port)."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server, server.server_port
