"""`readiness serve`: the platform as a long-lived process.

Configured by a YAML file (:mod:`operations.config`). On a cron schedule (UTC) one *cycle* does, in order:

1. records expiries of approvals and waivers (``governance.expire_due``);
2. runs the other contexts' cycle hooks (:func:`cycle_hooks`): flash sales end the
   rate-limit overrides whose time is up, Kapacity refreshes its forecasts;
3. collects facts from the configured sources (a failing source is recorded and
   its facts go stale; the rules say so, the others are still collected);
4. evaluates and stores a run (``readiness.run_evaluation``).

A step that fails is logged and counted; later steps still run. Only the
evaluation decides whether the cycle succeeded.

Two evaluations never overlap: a cycle runs under ``readiness.evaluation_lock`` (a
PostgreSQL session advisory lock, or an exclusive file lock beside an SQLite
database), so any number of ``serve`` processes may share one database; the one
that finds the lock taken skips its cycle.

A run is stored in one transaction (run row, results and scores commit together),
so a process killed mid-run leaves no partial run. SIGTERM or SIGINT lets the
current cycle finish and then stops; a second signal interrupts it, and the
open transaction rolls back. On start, a cycle runs at once when the last
scheduled one was missed (no complete run since the previous fire time), then
the schedule continues.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from sqlalchemy.engine import Engine

from operations.config import ServeConfig, build_sources
from readiness import (
    FactSource,
    StoreReport,
    collect,
    evaluation_lock,
    get_run,
    latest_run_id,
    load_rules,
    run_evaluation,
)
from storage import utcnow

log = logging.getLogger("readiness.serve")  # the logger name operators filter on: kept



CYCLE_HOOKS = "peak_readiness.cycle_hooks"


def cycle_hooks() -> list[tuple[str, Callable]]:
    """Steps other contexts run in each cycle before collection, called ``hook(engine, now=now)``
    in name order: ``flashsales`` ends overrides whose time is up, ``forecasts`` refreshes Kapacity.

    Registered under the entry-point group ``peak_readiness.cycle_hooks`` (pyproject.toml),
    so readiness never imports the contexts downstream of it.
    """
    from importlib.metadata import entry_points

    return [(ep.name, ep.load()) for ep in sorted(entry_points(group=CYCLE_HOOKS), key=lambda e: e.name)]


# ---------------------------------------------------------------- one cycle


@dataclass
class CycleReport:
    started_at: datetime
    outcome: str = "skipped"  # complete | failed | skipped
    run_id: int | None = None
    company_score: float | None = None
    duration_seconds: float = 0.0
    sources: list[StoreReport] = field(default_factory=list)
    expired: dict[str, list[int]] = field(default_factory=dict)
    hooks: dict[str, Any] = field(default_factory=dict)  # what each cycle hook returned, in short
    notifications: dict[str, int] = field(default_factory=dict)  # outbox retries: sent, failed, skipped
    errors: list[str] = field(default_factory=list)  # step failures (stage: message)

    def as_dict(self) -> dict:
        return {"started_at": self.started_at.isoformat(), "outcome": self.outcome, "run_id": self.run_id,
                "company_score": self.company_score, "duration_seconds": round(self.duration_seconds, 3),
                "sources": [{"source": s.source, "systems": s.systems, "changed": s.changed,
                             "errors": s.errors[:5]} for s in self.sources],
                "expired": self.expired, "hooks": self.hooks, "notifications": self.notifications,
                "errors": self.errors}


def _summary(value: Any) -> Any:
    """A short JSON-able account of what a hook returned (a list's length, a report's fields)."""
    if isinstance(value, list | tuple):
        return len(value)
    if isinstance(value, int | float | str | bool):
        return value if not isinstance(value, str) else value[:300]
    fields = getattr(value, "__dataclass_fields__", None)
    if fields:
        return {k: getattr(value, k) for k in fields
                if isinstance(getattr(value, k), int | float | str | bool | type(None))}
    return str(value)[:300]


class Service:
    """What one ``serve`` process does; tests drive it with an injected clock."""

    def __init__(self, engine: Engine, config: ServeConfig, *, metrics: Any = None,
                 clock: Callable[[], datetime] = utcnow, sources: Sequence[FactSource] | None = None):
        self.engine = engine
        self.config = config
        self.metrics = metrics
        self.clock = clock
        self.sources = list(sources) if sources is not None else build_sources(config)

    def run_cycle(self, now: datetime | None = None) -> CycleReport:
        """Expire, end overrides, refresh forecasts, collect, evaluate: once, under the lock."""
        now = now or self.clock()
        report = CycleReport(started_at=now)
        started = time.monotonic()
        try:
            with evaluation_lock(self.engine) as taken:
                if not taken:
                    log.warning("another evaluation holds the lock; this cycle is skipped")
                    self._observe(report)
                    return report
                self._steps(report, now)
        except Exception as exc:  # e.g. the database went away: the next cycle tries again
            report.outcome = "failed"
            report.errors.append(f"evaluate: {type(exc).__name__}: {exc}")
            log.exception("cycle failed")
        report.duration_seconds = time.monotonic() - started
        self._observe(report)
        return report

    def _steps(self, report: CycleReport, now: datetime) -> None:
        from governance import expire_due

        expiry = self._step(report, "expiry", lambda: expire_due(self.engine, now))
        if expiry is not None:
            report.expired = {"reviews": expiry.reviews, "waivers": expiry.waivers}
        for name, hook in cycle_hooks():
            outcome = self._step(report, name, lambda hook=hook: hook(self.engine, now=now))
            report.hooks[name] = None if outcome is None else _summary(outcome)
        retried = self._step(report, "notifications", lambda: self.retry_notifications(now))
        if retried is not None:
            report.notifications = {"sent": retried.sent, "failed": retried.failed, "skipped": retried.skipped}
        stored = self._step(report, "collect", lambda: collect(self.engine, self.sources, now=now))
        report.sources = stored or []
        for item in report.sources:
            for error in item.errors[:20]:
                log.warning("source %s: %s", item.source, error)
        try:
            ruleset = load_rules(self.config.rules_dirs)
            run = run_evaluation(self.engine, ruleset=ruleset, now=now)
        except Exception as exc:  # the process survives; the next cycle tries again
            report.outcome = "failed"
            report.errors.append(f"evaluate: {type(exc).__name__}: {exc}")
            log.exception("evaluation failed")
            return
        report.outcome, report.run_id, report.company_score = "complete", run.run_id, run.company.score
        log.info("run %s: %d systems, company score %.2f", run.run_id, run.systems, run.company.score)

    def _step(self, report: CycleReport, stage: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as exc:  # one failing step must not stop the evaluation
            report.errors.append(f"{stage}: {type(exc).__name__}: {exc}")
            log.exception("step %s failed", stage)
            return None

    def _observe(self, report: CycleReport) -> None:
        if self.metrics is not None:
            self.metrics.observe_cycle(report)

    # -------------------------------------------------- digests and reminders

    def send_digests(self, now: datetime | None = None, *, since: datetime | None = None) -> list:
        from operations.channel import Channel
        from operations.digests import build_digests

        now = now or self.clock()
        since = since or _previous_fire(self.config.notify.digest_schedule, now) or now - timedelta(days=7)
        messages = build_digests(self.engine, now=now, since=since, rules_dirs=self.config.rules_dirs)
        return Channel.from_config(self.config.notify, engine=self.engine).send(messages)

    def retry_notifications(self, now: datetime):
        """Each cycle: send the outbox's skipped messages whose audience has a channel now, and the failed
        ones whose backoff is over (one try each: the backoff lives in the outbox, not in a sleep)."""
        import notifications
        from operations.channel import Channel

        channel = Channel.from_config(self.config.notify, engine=self.engine)
        return notifications.deliver(self.engine, channel.routing, due_only=True, now=now, attempts=1)

    def send_milestones(self, now: datetime | None = None) -> list:
        """Nudges before the season's milestones and overdue lists after them (each stored once)."""
        from operations.channel import Channel
        from operations.milestones import build_milestone_nudges

        now = now or self.clock()
        notify = self.config.notify
        messages = build_milestone_nudges(self.engine, now=now, app_url=notify.app_address(),
                                          rules_dirs=self.config.rules_dirs, lead_days=notify.milestone_lead_days)
        return Channel.from_config(notify, engine=self.engine).send(messages)

    def send_reminders(self, now: datetime | None = None, *, since: datetime | None = None) -> list:
        from operations.channel import Channel
        from operations.reminders import build_reminders

        now = now or self.clock()
        since = since or _previous_fire(self.config.notify.reminder_schedule, now) or now - timedelta(days=1)
        messages = build_reminders(self.engine, since=since, until=now, days=self.config.notify.reminder_days)
        return Channel.from_config(self.config.notify, engine=self.engine).send(messages)


# ---------------------------------------------------------------- the schedule


def next_fire(schedule: str, after: datetime) -> datetime:
    """The first fire time strictly after ``after`` (naive UTC in, naive UTC out)."""
    return croniter(schedule, after).get_next(datetime)


def _previous_fire(schedule: str | None, at: datetime) -> datetime | None:
    if not schedule:
        return None
    return croniter(schedule, at).get_prev(datetime)


def missed_run(engine: Engine, schedule: str, now: datetime) -> bool:
    """True when no complete run started at or after the previous fire time."""
    previous = croniter(schedule, now).get_prev(datetime)
    run_id = latest_run_id(engine)
    return run_id is None or get_run(engine, run_id).started_at < previous


@dataclass
class Job:
    name: str
    schedule: str
    action: Callable[[datetime], Any]
    due: datetime | None = None


class Stopper:
    """SIGTERM/SIGINT: the first asks to stop after the current cycle, the second interrupts it."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signals = 0

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        self.signals += 1
        if self.signals == 1:
            log.warning("%s: finishing the current cycle, then stopping (send again to interrupt)",
                        signal.Signals(signum).name)
            self.event.set()
            return
        log.warning("%s again: interrupting; the current run rolls back", signal.Signals(signum).name)
        raise KeyboardInterrupt

    def sleep_until(self, moment: datetime, clock: Callable[[], datetime]) -> bool:
        """Sleep until ``moment``; False when asked to stop first."""
        while not self.event.is_set():
            remaining = (moment - clock()).total_seconds()
            if remaining <= 0:
                return True
            self.event.wait(min(remaining, 1.0))
        return False


def serve_forever(service: Service, *, stopper: Stopper, catch_up: bool = True,
                  on_cycle: Callable[[CycleReport], None] | None = None) -> None:
    """Run the jobs on their schedules until the stopper fires."""
    config = service.config
    # a run is stamped with the time it really starts; digests and reminders with their fire time,
    # so their windows (previous fire time, this one] tile without gaps or overlaps
    jobs = [Job("evaluate", config.schedule, lambda _fired: _evaluate(service, service.clock(), on_cycle))]
    if config.notify.digest_schedule:
        jobs.append(Job("digests", config.notify.digest_schedule, lambda now: service.send_digests(now)))
    if config.notify.reminder_schedule:
        jobs.append(Job("reminders", config.notify.reminder_schedule, lambda now: service.send_reminders(now)))
    if config.notify.milestone_schedule:
        jobs.append(Job("milestones", config.notify.milestone_schedule, lambda now: service.send_milestones(now)))
    now = service.clock()
    if catch_up and missed_run(service.engine, config.schedule, now):
        log.info("the last scheduled run was missed; running now")
        _evaluate(service, now, on_cycle)
    for job in jobs:
        job.due = next_fire(job.schedule, service.clock())
    while not stopper.event.is_set():
        job = min(jobs, key=lambda j: j.due)
        if service.metrics is not None and job.name == "evaluate":
            service.metrics.next_run(job.due)
        if not stopper.sleep_until(job.due, service.clock):
            break
        fired_at = job.due
        try:
            job.action(fired_at)
        except Exception:  # a failing digest must not stop the service
            log.exception("job %s failed", job.name)
            if service.metrics is not None:
                service.metrics.job_failed(job.name)
        job.due = next_fire(job.schedule, max(fired_at, service.clock()))
    log.info("stopped")


def _evaluate(service: Service, now: datetime, on_cycle: Callable[[CycleReport], None] | None) -> None:
    report = service.run_cycle(now)
    if on_cycle is not None:
        on_cycle(report)
