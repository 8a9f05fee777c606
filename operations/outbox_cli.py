"""``readiness notifications list|show|retry``: the one outbox, readiness and flash-sale messages alike."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import notifications
from clikit import (
    EXIT_ERROR,
    DbOption,
    Format,
    FormatOption,
    cli_app,
    emit,
    emit_json,
    fail,
    open_engine,
    say,
)
from readiness import ReadinessError

app = cli_app("The notification outbox: every message stored before it is sent, retried until it is.")
# notifications.STATUSES, written out so that `--help` and every other `readiness` command do
# not import the outbox (SQLAlchemy) to build this help text; tests/clikit/test_startup.py keeps them equal.
STATUSES = ("pending", "sending", "sent", "failed", "skipped", "recorded")
COLUMNS = ["id", "source", "kind", "ref", "status", "attempts", "destination", "audience", "last_error"]
ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="YAML: the serve config, for notify.urls and notify.routing (see docs/operations.md).")]


@app.command("list")
def list_command(status: Annotated[str | None, typer.Option(help=f"One of {', '.join(STATUSES)}.")] = None,
                 source: Annotated[str | None, typer.Option(help="readiness or flashsales.")] = None,
                 fmt: FormatOption = Format.table, db: DbOption = None) -> None:
    """The stored messages, oldest first."""
    emit(notifications.list_messages(open_engine(db), status=status, source=source), fmt, COLUMNS)


@app.command("show")
def show(message_id: int, db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """One stored message: where it goes, its state, and what it says."""
    row = notifications.show_message(open_engine(db), message_id)
    if row is None:
        raise fail(f"no notification {message_id}")
    if fmt == Format.json:
        emit_json(row)
        return
    for name in (*COLUMNS, "recipients", "created_at", "next_attempt_at", "sent_at"):
        value = row[name]
        typer.echo(f"{name}: {', '.join(value) if isinstance(value, list) else ('-' if value in (None, '') else value)}")
    typer.echo(f"subject: {row['subject']}\n\n{row['body']}")


@app.command("retry")
def retry(source: Annotated[str | None, typer.Option(help="readiness or flashsales (default: both).")] = None,
          due_only: Annotated[bool, typer.Option("--due-only", help="Only failures whose backoff is over.")] = False,
          resend_unconfirmed: Annotated[bool, typer.Option(
              "--resend-unconfirmed", help="Also send messages left 'sending' by a crash (they may arrive twice).")]
          = False,
          db: DbOption = None, config: ConfigOption = None) -> None:
    """Send what is skipped (no channel then), failed, or pending, through the routing as it is now."""
    from operations.config import load_config

    try:
        notify = load_config(config).notify
        routing = notifications.load_routing(notify.routing, default=notify.urls)
    except (ReadinessError, notifications.RoutingError) as exc:
        raise fail(exc) from None
    report = notifications.deliver(open_engine(db), routing, source=source, due_only=due_only,
                                   resend_unconfirmed=resend_unconfirmed)
    say(f"sent {report.sent}, failed {report.failed}, still without a channel {report.skipped}")
    if report.failed:
        raise typer.Exit(EXIT_ERROR)
