"""The `flashsales` command line: intake, review, decisions, rate-limit exports, reports.

Data goes to stdout, progress and errors to stderr. Exit codes: 0 ok, 1 error
(invalid request, refused action, capacity exceeded), 2 usage.

Every write (submit, review, approve, reject, cancel, ``ratelimits set``, ``merchants set``,
``roles grant|revoke``) is made by a proven actor: the person of the personal API token
presented (``PEAK_TOKEN`` or ``--token-file``; ``--actor`` beside it must name that person).
Only on a demo database is a name alone trusted (``--actor``, else ``PEAK_USER``, else the
login name). ``advance`` and ``notifications retry`` are the clock's and the outbox's jobs,
not a person's decision: they need no token (docs/security.md).
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

import flashsales as service  # the use cases, through the public surface
from clikit import (
    EXIT_ERROR,
    DbOption,
    DocFormat,
    DocFormatOption,
    Format,
    FormatOption,
    TokenFileOption,
    cell_text,
    cli_app,
    counted,
    emit,
    emit_json,
    open_engine,
    proven_actor,
    reported,
    say,
    token_secret,
)
from clikit import run as run_app
from flashsales.errors import FlashSalesError

# The use cases load on first use (`flashsales` is a lazy package surface, `service` here), so
# `flashsales --help` and a mistyped option answer at once (benchmarks/cli_speed.py). The default
# --domain is written out for the same reason; tests/clikit/test_startup.py keeps it equal to
# flashsales.ratelimits.ENVOY_DOMAIN.
ENVOY_DOMAIN = "merchant_rate_limits"

app = cli_app("Managed flash sales: intake, review, temporary rate-limit increases, notifications.",
              pretty_exceptions_enable=False)
limits_app = cli_app("Category rate limits and their export for gateways.")
merchants_app = cli_app("Merchants and their traffic history files.")
roles_app = cli_app("The central rate-limit team.")
notes_app = cli_app("The notification outbox.")
app.add_typer(limits_app, name="ratelimits")
app.add_typer(merchants_app, name="merchants")
app.add_typer(roles_app, name="roles")
app.add_typer(notes_app, name="notifications")


class ExportFormat(StrEnum):
    envoy = "envoy"
    json = "json"


ConfigOption = Annotated[Path | None, typer.Option("--config", help="Settings YAML (default: PEAK_FLASHSALES_CONFIG).")]
ActorOption = Annotated[str | None, typer.Option(
    "--actor", help="Who acts: with a token, its person (default); alone only on a demo database "
                    "(default: PEAK_USER, else the login name).")]
AtOption = Annotated[str | None, typer.Option("--at", help="ISO 8601 moment (naive = UTC); default now.")]


# The package's errors (invalid request, refused action) as one line on stderr and exit 1.
_errors = reported(FlashSalesError)


def _actor(engine, actor: str | None, token_file: Path | None, *, login: bool = True) -> str | None:
    """The proven actor (clikit.proven_actor). Without a token the name defaults to PEAK_USER, else the
    login name (unless not ``login``: submit's actor is then the request's reporter) — trusted on a demo
    database only; with a token, PEAK_USER is not a claim."""
    if token_secret(token_file) is None:
        actor = actor or ((os.environ.get("PEAK_USER") or getpass.getuser()) if login else None)
        if actor is None:
            from identity import is_demo

            if is_demo(engine):
                return None  # submit on the demo: the request's reporter acts
    return proven_actor(engine, actor, token_file, option="--actor")


def _moment(text: str | None, option: str = "--at") -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not ISO 8601 (e.g. 2026-12-01T10:00:00+01:00)",
                                 param_hint=option) from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _emit(rows: list[dict], fmt: Format, columns: list[str]) -> None:
    emit([service.to_jsonable(r) for r in rows], fmt, columns, cell=_joined, rule=False)


def _joined(value) -> str:
    """Lists (countries, system ids) as one cell."""
    return ";".join(map(str, value)) if isinstance(value, list) else str(value)


# ------------------------------------------------------------------ requests


@app.command()
@_errors
def submit(file: Annotated[Path, typer.Option("--file", help="The request JSON file.")],
           fmt: DocFormatOption = DocFormat.table,
           actor: ActorOption = None, token_file: TokenFileOption = None, db: DbOption = None,
           config: ConfigOption = None) -> None:
    """Validate, store and review a flash-sale request; print its id, status and the review."""
    engine = open_engine(db)
    who = _actor(engine, actor, token_file, login=False)
    result = service.submit_file(engine, file, actor=who, settings=service.load_settings(config))
    payload = {"id": result.request.id, "status": result.request.status,
               "review": service.to_jsonable(result.review) if result.review else None,
               "review_error": result.review_error, "notifications": result.notifications}
    if fmt == DocFormat.json:
        emit_json(payload)
    else:
        typer.echo(f"request #{result.request.id}: {result.request.status}")
        if result.review:
            _print_review(result.review)
    if result.review_error:
        say(f"error: request #{result.request.id} is stored but its review failed: {result.review_error}")
        raise typer.Exit(EXIT_ERROR)


def _print_review(review) -> None:
    typer.echo(f"decision: {review.decision}")
    figures = [("projected peak (rpm)", review.projected_peak_rpm), ("category limit (rpm)", review.category_limit_rpm),
               ("proposed limit (rpm)", review.proposed_limit_rpm), ("extra load (req/s)", round(review.extra_rps, 2)),
               ("headroom (req/s)", review.headroom_rps)]
    for label, value in figures:
        if value is not None:
            typer.echo(f"  {label}: {round(value, 2) if isinstance(value, float) else value}")
    for reason in review.reasoning:
        typer.echo(f"  - {reason}")


@app.command("review")
@_errors
def review_cmd(request_id: int, actor: ActorOption = None, token_file: TokenFileOption = None, db: DbOption = None,
               config: ConfigOption = None) -> None:
    """Review a request again (readiness team), e.g. after a limit or capacity change."""
    engine = open_engine(db)
    view = service.review(engine, request_id, actor=_actor(engine, actor, token_file), settings=service.load_settings(config))
    _print_review(view)


@app.command("list")
@_errors
def list_cmd(status: Annotated[str | None, typer.Option("--status")] = None,
             fmt: FormatOption = Format.table, db: DbOption = None) -> None:
    """Requests with their state, window and limits."""
    rows = [r.__dict__ for r in service.list_requests(open_engine(db), status=status)]
    _emit(rows, fmt, ["id", "status", "merchant_id", "category", "starts_at", "ends_at",
                      "proposed_limit_rpm", "granted_limit_rpm", "reserved_rps"])


@app.command()
@_errors
def show(request_id: int, fmt: DocFormatOption = DocFormat.table,
         db: DbOption = None) -> None:
    """One request: fields, reviews with figures and reasoning, audit trail, notifications."""
    detail = service.get_request(open_engine(db), request_id)
    if fmt == DocFormat.json:
        emit_json(service.to_jsonable(detail))
        return
    r = detail.request
    typer.echo(f"request #{r.id}: {r.status}")
    for key in ("merchant_id", "merchant_name", "category", "reporter", "key_account_manager", "solution_engineer",
                "countries", "starts_at", "ends_at", "utc_offset", "expected_peak_rpm", "expected_multiplier",
                "proposed_limit_rpm", "granted_limit_rpm", "reserved_rps", "notes"):
        typer.echo(f"  {key}: {cell_text(service.to_jsonable(getattr(r, key)), _joined)}")
    for review in detail.reviews:
        typer.echo(f"review #{review.id} at {service.to_jsonable(review.reviewed_at)}")
        _print_review(review)
    typer.echo("audit:")
    for entry in detail.audit:
        typer.echo(f"  {service.to_jsonable(entry.at)}  {entry.actor}  {entry.action}  "
                   f"{entry.from_status or ''} -> {entry.to_status or ''}")
    typer.echo("notifications:")
    for note in detail.notifications:
        typer.echo(f"  #{note.id} {note.event} {note.status} ({counted(note.attempts, 'attempt')}) {note.destination}"
                   + (f": {note.last_error}" if note.last_error else ""))


@app.command()
@_errors
def approve(request_id: int, actor: ActorOption = None, token_file: TokenFileOption = None,
            limit: Annotated[int | None, typer.Option("--limit", help="Grant less than proposed (rpm).")] = None,
            comment: Annotated[str, typer.Option("--comment")] = "",
            db: DbOption = None, config: ConfigOption = None) -> None:
    """Grant the requested temporary increase (central rate-limit team)."""
    engine = open_engine(db)
    view = service.approve(engine, request_id, actor=_actor(engine, actor, token_file), limit_rpm=limit,
                           comment=comment, settings=service.load_settings(config))
    typer.echo(f"request #{view.id}: {view.status}, {view.merchant_id} limited to {view.granted_limit_rpm} rpm "
               f"from {service.to_jsonable(view.starts_at)} until {service.to_jsonable(view.ends_at)}")


@app.command()
@_errors
def reject(request_id: int, reason: Annotated[str, typer.Option("--reason")], actor: ActorOption = None,
           token_file: TokenFileOption = None, db: DbOption = None, config: ConfigOption = None) -> None:
    """Decline the requested increase (central rate-limit team)."""
    engine = open_engine(db)
    view = service.reject(engine, request_id, actor=_actor(engine, actor, token_file), reason=reason,
                          settings=service.load_settings(config))
    typer.echo(f"request #{view.id}: {view.status}")


@app.command()
@_errors
def cancel(request_id: int, reason: Annotated[str, typer.Option("--reason")] = "", actor: ActorOption = None,
           token_file: TokenFileOption = None, db: DbOption = None, config: ConfigOption = None) -> None:
    """Withdraw a sale (its reporter, account manager, solution engineer, or the central teams)."""
    engine = open_engine(db)
    view = service.cancel(engine, request_id, actor=_actor(engine, actor, token_file), reason=reason,
                          settings=service.load_settings(config))
    typer.echo(f"request #{view.id}: {view.status}")


@app.command()
@_errors
def advance(at: AtOption = None, db: DbOption = None) -> None:
    """Move decided sales along with the clock: scheduled, live, completed."""
    for request_id, before, after in service.advance(open_engine(db), now=_moment(at)):
        typer.echo(f"request #{request_id}: {before} -> {after}")


# ------------------------------------------------------------------ reports


@app.command()
@_errors
def unmanaged(at: AtOption = None, fmt: FormatOption = Format.table,
              db: DbOption = None, config: ConfigOption = None) -> None:
    """Categories whose historical spikes could exceed the FLAS capacity, with the headroom left."""
    report = service.unmanaged_report(open_engine(db), at=_moment(at) or _now(), settings=service.load_settings(config))
    if fmt == Format.json:
        emit_json(service.to_jsonable(report))
        return
    say(f"FLAS capacity {report.capacity_rps} req/s (bottleneck {report.bottleneck}), reserved "
         f"{report.reserved_rps:.1f}, headroom {report.headroom_rps}")
    for problem in report.problems:
        say(f"warning: {problem}")
    _emit([c.__dict__ for c in report.categories], fmt,
          ["category", "rate_limit_rpm", "merchants", "spike_ratio", "spike_rpm", "admitted_rps", "headroom_rps",
           "headroom_left_rps", "could_exceed", "limit_could_exceed"])


@app.command()
@_errors
def events(start: Annotated[str | None, typer.Option("--from")] = None,
           end: Annotated[str | None, typer.Option("--to")] = None,
           fmt: FormatOption = Format.json,
           kapacity: Annotated[bool, typer.Option("--kapacity", help="One row per purchase-flow system in "
                                                  "Kapacity's events format (name,start,end,multiplier,series), "
                                                  "for `kapacity forecast --events`.")] = False,
           db: DbOption = None, config: ConfigOption = None) -> None:
    """Approved flash sales as known events for Kapacity's forecasts."""
    engine, settings = open_engine(db), service.load_settings(config)
    window = {"start": _moment(start, "--from"), "end": _moment(end, "--to"), "settings": settings}
    if kapacity:
        _emit(service.kapacity_events(engine, **window), fmt, ["name", "start", "end", "multiplier", "series"])
        return
    rows = service.known_events(engine, **window)
    _emit([e.__dict__ for e in rows], fmt, ["name", "request_id", "status", "merchant_id", "category", "system_ids",
                                            "starts_at", "ends_at", "multiplier", "expected_peak_rpm", "extra_rps",
                                            "limit_rpm"])


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------ rate limits


@limits_app.command("export")
@_errors
def export_limits(fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.envoy, at: AtOption = None,
                  domain: Annotated[str, typer.Option("--domain", help="Envoy rate-limit domain.")] = ENVOY_DOMAIN,
                  db: DbOption = None) -> None:
    """The configuration in force at a moment: category limits plus live overrides."""
    limits = service.effective_limits(open_engine(db), _moment(at) or _now())
    typer.echo(service.render_envoy(limits, domain=domain) if fmt == ExportFormat.envoy else service.render_json(limits), nl=False)


@limits_app.command("list")
@_errors
def list_limits(fmt: FormatOption = Format.table, db: DbOption = None) -> None:
    """Category limits (requests per minute per merchant)."""
    _emit(service.list_categories(open_engine(db)), fmt, ["category", "name", "rate_limit_rpm", "updated_at", "updated_by"])


@limits_app.command("set")
@_errors
def set_limit(category: str, rpm: int, name: Annotated[str | None, typer.Option("--name")] = None,
              actor: ActorOption = None, token_file: TokenFileOption = None, db: DbOption = None,
              config: ConfigOption = None) -> None:
    """Create a category or change its limit (central rate-limit team)."""
    engine = open_engine(db)
    service.set_category(engine, category, rate_limit_rpm=rpm, name=name, actor=_actor(engine, actor, token_file),
                         settings=service.load_settings(config))
    typer.echo(f"{category}: {rpm} rpm")


@merchants_app.command("list")
@_errors
def list_merchants(fmt: FormatOption = Format.table, db: DbOption = None) -> None:
    _emit(service.list_merchants(open_engine(db)), fmt, ["merchant_id", "name", "category", "history_path"])


@merchants_app.command("set")
@_errors
def set_merchant(merchant_id: str, name: Annotated[str, typer.Option("--name")],
                 category: Annotated[str, typer.Option("--category")],
                 history: Annotated[Path | None, typer.Option("--history", help="timestamp,value CSV inside "
                                                              "PEAK_FLASHSALES_HISTORY_DIR.")] = None,
                 actor: ActorOption = None, token_file: TokenFileOption = None, db: DbOption = None,
                 config: ConfigOption = None) -> None:
    """Register a merchant, its category and its traffic history file (central rate-limit team)."""
    engine = open_engine(db)
    service.upsert_merchant(engine, merchant_id, name=name, category=category,
                            history_path=history.resolve() if history else None,
                            actor=_actor(engine, actor, token_file), settings=service.load_settings(config))
    typer.echo(f"{merchant_id}: {category}")


@roles_app.command("list")
@_errors
def list_roles(db: DbOption = None, config: ConfigOption = None) -> None:
    for user in sorted(service.ratelimit_team(open_engine(db), service.load_settings(config))):
        typer.echo(user)


@roles_app.command("grant")
@_errors
def grant(user: str, actor: ActorOption = None, token_file: TokenFileOption = None, db: DbOption = None) -> None:
    """Add a catalog user to the rate-limit team (catalog admins)."""
    engine = open_engine(db)
    service.grant_role(engine, user, actor=_actor(engine, actor, token_file))
    typer.echo(f"{user}: {service.RATELIMIT_TEAM}")


@roles_app.command("revoke")
@_errors
def revoke(user: str, actor: ActorOption = None, token_file: TokenFileOption = None, db: DbOption = None) -> None:
    """Remove a user from the rate-limit team (catalog admins)."""
    engine = open_engine(db)
    service.revoke_role(engine, user, actor=_actor(engine, actor, token_file))
    typer.echo(f"{user}: revoked")


@notes_app.command("list")
@_errors
def list_notifications(status: Annotated[str | None, typer.Option("--status")] = None,
                       fmt: FormatOption = Format.table, db: DbOption = None) -> None:
    engine = open_engine(db)
    rows = []
    for request in service.list_requests(engine):
        for note in service.get_request(engine, request.id).notifications:
            if status is None or note.status == status:
                rows.append({"request_id": request.id, **note.__dict__})
    _emit(rows, fmt, ["id", "request_id", "event", "status", "attempts", "destination", "last_error"])


@notes_app.command("retry")
@_errors
def retry(db: DbOption = None, config: ConfigOption = None) -> None:
    """Send again the notifications that failed or had no channel (the shared outbox, flash-sale messages)."""
    from flashsales.notify import retry_failed

    report = retry_failed(open_engine(db), service.load_settings(config))
    typer.echo(f"sent {report.sent}, failed {report.failed}, still without a channel {report.skipped}")
    if report.failed:
        raise typer.Exit(EXIT_ERROR)


def main() -> None:
    run_app(app, errors=(FlashSalesError,))  # raised outside a command (settings)


if __name__ == "__main__":
    main()
