"""`readiness serve` (the scheduled service with /metrics) and `readiness digest`.

Data goes to stdout (one JSON line per cycle for `serve`), logs to stderr.
Exit codes: 0 ok, 1 error (a failed run with --once, a failed delivery), 2 usage,
130 when a second signal interrupted a run (it was rolled back).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from clikit import DbOption, DocFormat, DocFormatOption, counted, emit_json, fail, open_engine, say
from readiness import ReadinessError

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="YAML: schedule, sources, rules_dirs, notify (see docs/operations.md).")]


class Kind(StrEnum):
    weekly = "weekly"
    reminders = "reminders"
    milestones = "milestones"


def _setup_logging(level: str) -> None:
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", force=True)


def _config(config: Path | None, schedule: str | None):
    from operations.config import load_config

    loaded = load_config(config)
    if schedule is not None:
        from croniter import croniter

        if not croniter.is_valid(schedule):
            raise typer.BadParameter(f"{schedule!r} is not a cron expression; accepted: five fields like "
                                     "'*/15 * * * *' (UTC), or six with seconds last", param_hint="--schedule")
        loaded = loaded.model_copy(update={"schedule": schedule})
    return loaded


def serve(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port for /metrics (0: pick a free one, logged).")] = 9464,
    host: Annotated[str | None, typer.Option(help="Address to listen on for /metrics (default: the config's "
                                            "host, else 127.0.0.1; 0.0.0.0 for every interface).")] = None,
    schedule: Annotated[str | None, typer.Option(help="Cron schedule in UTC, e.g. '*/15 * * * *' (overrides the config).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    once: Annotated[bool, typer.Option("--once", help="Run one cycle now and exit (no /metrics server).")] = False,
    catch_up: Annotated[bool, typer.Option("--catch-up/--no-catch-up",
                                           help="On start, run at once if the last scheduled run was missed.")] = True,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
):
    """Collect, evaluate and store a run on a schedule; expose /metrics; send digests and reminders."""
    from operations.metrics import build_registry, start_server
    from operations.serve import Service, Stopper, serve_forever

    _setup_logging(log_level)
    try:
        cfg = _config(config, schedule)
        engine = open_engine(db)
        service = Service(engine, cfg)
    except ReadinessError as exc:
        raise fail(exc) from None
    if once:
        report = service.run_cycle()
        typer.echo(json.dumps(report.as_dict(), default=str))
        raise typer.Exit(1 if report.outcome == "failed" else 0)
    host = host or cfg.host
    registry, metrics = build_registry(engine, sources=[s.name for s in service.sources])
    service.metrics = metrics
    try:
        server, bound = start_server(registry, host, port)
    except OSError as exc:
        say(f"error: cannot listen on {host}:{port} for /metrics: {exc.strerror or exc}; "
            "choose another --port (0 picks a free one)")
        raise typer.Exit(1) from None
    say(f"readiness serve: metrics on http://{host}:{bound}/metrics; schedule {cfg.schedule!r} (UTC)")
    stopper = Stopper()
    stopper.install()

    def emit(report) -> None:
        typer.echo(json.dumps(report.as_dict(), default=str))
        sys.stdout.flush()

    try:
        serve_forever(service, stopper=stopper, catch_up=catch_up, on_cycle=emit)
    except KeyboardInterrupt:
        say("interrupted: the run in progress was rolled back")
        raise typer.Exit(130) from None
    finally:
        server.shutdown()


def digest(
    kind: Annotated[Kind, typer.Option(help="weekly: digests per team and domain; reminders: expiring "
                                            "waivers and approvals; milestones: nudges to the teams due at "
                                            "a coming milestone, overdue lists per domain after one.")]
    = Kind.weekly,
    since: Annotated[datetime | None, typer.Option(help="Window start, UTC (default: 7 days ago for weekly, "
                                                        "1 day ago for reminders).")] = None,
    send: Annotated[bool, typer.Option("--send", help="Send through the notification channel "
                                                      "(PEAK_NOTIFY_URLS); without it, print only.")] = False,
    fmt: DocFormatOption = DocFormat.table,
    db: DbOption = None,
    config: ConfigOption = None,
):
    """Build this week's digests (or today's reminders); print them, or send them with --send."""
    from notifications import RoutingError
    from operations import Channel, build_digests, build_reminders
    from storage import utcnow

    try:
        cfg = _config(config, None)
        engine = open_engine(db)
    except ReadinessError as exc:
        raise fail(exc) from None
    now = utcnow()
    if kind == Kind.weekly:
        messages = build_digests(engine, now=now, since=since or now - timedelta(days=7), rules_dirs=cfg.rules_dirs)
    elif kind == Kind.milestones:
        from operations.milestones import build_milestone_nudges

        messages = build_milestone_nudges(engine, now=now, app_url=cfg.notify.app_address(),
                                          rules_dirs=cfg.rules_dirs, lead_days=cfg.notify.milestone_lead_days)
    else:
        messages = build_reminders(engine, since=since or now - timedelta(days=1), until=now,
                                   days=cfg.notify.reminder_days)
    try:
        deliveries = Channel.from_config(cfg.notify, engine=engine).send(messages) if send else []
    except RoutingError as exc:
        raise fail(exc) from None
    if fmt == DocFormat.json:
        emit_json({"messages": [m.as_dict() for m in messages], "deliveries": [d.__dict__ for d in deliveries]})
    else:
        for message in messages:
            typer.echo(f"== {message.unit} to {', '.join(message.recipients) or '-'}\n"
                       f"Subject: {message.subject}\n\n{message.body}\n")
        for delivery in deliveries:
            say(f"{delivery.unit} -> {delivery.destination or '-'}: {delivery.status}"
                + (f" ({delivery.error})" if delivery.error else ""))
    say(counted(len(messages), "message") + (f", {sum(d.status == 'sent' for d in deliveries)} delivered" if send else ""))
    if any(d.status == "failed" for d in deliveries):
        raise typer.Exit(1)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Add `serve`, `digest` and `notifications` to the `readiness` command."""
    from operations.outbox_cli import app as notifications_app

    app.command("serve")(serve)
    app.command("digest")(digest)
    app.add_typer(notifications_app, name="notifications")
