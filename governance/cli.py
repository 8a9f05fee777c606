"""`readiness review ...`, `readiness waiver ...` and `readiness audit` (team-managed checks, waivers).

Every write is made by a proven actor: the person of the personal API token presented
(``PEAK_TOKEN`` or ``--token-file``; ``--as USER`` beside it must name that person), or, on a
demo database only, ``--as USER`` alone (``clikit.proven_actor``). The role check happens in
the ``governance`` service functions. A refused write prints why on stderr and exits 1,
writing nothing. ``readiness tokens ...`` issues, lists and revokes the tokens (admins).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

import governance
from clikit import (
    DbOption,
    Format,
    FormatOption,
    TokenFileOption,
    cli_app,
    emit,
    emit_json,
    fail,
    open_engine,
    proven_actor,
    reported,
    say,
    token_secret,
)
from readiness import PermissionDenied, ReadinessError

review_app = cli_app("Team-managed checks: submit answers, approve, reject.")
waiver_app = cli_app("Waivers: request, approve, revoke.")

AsOption = Annotated[str | None, typer.Option(
    "--as", help="The user acting (roles come from the catalog); with a token, its person. Alone (no token) "
                 "only on a demo database.")]
RulesDirs = Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra folder of rule modules (repeatable).")]

REVIEW_COLUMNS = ["id", "system_id", "rule_id", "state", "submitted_by", "submitted_at", "approved_by",
                  "rejected_by", "expires_at"]
WAIVER_COLUMNS = ["id", "system_id", "rule_id", "state", "expires", "requested_by", "approved_by", "revoked_by",
                  "reason"]
AUDIT_COLUMNS = ["id", "at", "actor", "action", "entity", "system_id", "rule_id", "change"]


def _ruleset(rules_dir: list[Path] | None):
    from readiness import load_rules

    return load_rules(rules_dir or [])


def _json_cell(value: object) -> str:
    """Answers, evidence and before/after states as JSON in a table or CSV cell."""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def _one(row: dict, fmt: Format, summary: str) -> None:
    if fmt == Format.json:
        emit_json(row)
    else:
        typer.echo(summary)


def _review_row(row: dict) -> dict:
    return {**row, "approved_by": ", ".join(f"{a['by']} ({a['as']})" for a in row["approvals"])}


def _review_summary(row: dict) -> str:
    approved = {a["as"] for a in row["approvals"]}
    waiting = [n.replace("_", " ") for n in row["needs"] if n not in approved]
    tail = f"; awaiting {' and '.join(waiting)} approval" if row["state"] == "pending" else ""
    expiry = f", expires {row['expires_at']}" if row["state"] == "approved" else ""
    return f"review {row['id']} {row['system_id']}/{row['rule_id']}: {row['state']}{expiry}{tail}"


# ---------------------------------------------------------------- review


@review_app.command("submit")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def review_submit(system_id: Annotated[str, typer.Argument(help="SystemID.")],
                  rule_id: Annotated[str, typer.Argument(help="Id of a team-managed rule.")],
                  answer: Annotated[list[str], typer.Option(
                      "--answer", help="QUESTION=ANSWER, QUESTION being the number (1, 2...) or text (repeatable).")],
                  evidence: Annotated[list[str], typer.Option(
                      "--evidence", help="A link or text backing the answers (repeatable).")],
                  actor: AsOption = None, token_file: TokenFileOption = None,
                  db: DbOption = None, rules_dir: RulesDirs = None, fmt: FormatOption = Format.table):
    """The system owner answers a team-managed check; it waits for review."""
    engine = open_engine(db)
    row = governance.submit_review(engine, system_id, rule_id, actor_name=proven_actor(engine, actor, token_file),
                                   answers=governance.parse_answers(answer), evidence=evidence,
                                   ruleset=_ruleset(rules_dir))
    _one(row, fmt, _review_summary(row))


@review_app.command("approve")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def review_approve(review_id: Annotated[int, typer.Argument(help="Review id (see `review list`).")],
                   actor: AsOption = None, token_file: TokenFileOption = None,
                   comment: Annotated[str, typer.Option("--comment", help="Why it is approved.")] = "",
                   db: DbOption = None, fmt: FormatOption = Format.table):
    """A domain architect (and, for critical systems, the readiness team) approves."""
    engine = open_engine(db)
    row = governance.approve_review(engine, review_id, actor_name=proven_actor(engine, actor, token_file),
                                    comment=comment)
    _one(row, fmt, _review_summary(row))


@review_app.command("reject")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def review_reject(review_id: Annotated[int, typer.Argument(help="Review id (see `review list`).")],
                  actor: AsOption = None, token_file: TokenFileOption = None,
                  comment: Annotated[str, typer.Option("--comment", help="What is missing or wrong (required).")] = "",
                  db: DbOption = None, fmt: FormatOption = Format.table):
    """Reject with a comment; the owner answers again to start a new review."""
    engine = open_engine(db)
    row = governance.reject_review(engine, review_id, actor_name=proven_actor(engine, actor, token_file),
                                   comment=comment)
    _one(row, fmt, _review_summary(row))


@review_app.command("list")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def review_list(system: Annotated[str | None, typer.Option(help="Only this SystemID.")] = None,
                rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
                state: Annotated[str | None, typer.Option(
                    help="pending, approved, rejected, expired or superseded.")] = None,
                db: DbOption = None, fmt: FormatOption = Format.table):
    """Reviews, newest first, with their state now."""
    rows = governance.list_reviews(open_engine(db), system_id=system, rule_id=rule, state=state)
    emit([_review_row(r) for r in rows], fmt, REVIEW_COLUMNS, cell=_json_cell)


@review_app.command("show")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def review_show(review_id: int, db: DbOption = None, fmt: FormatOption = Format.json):
    """One review with its answers, evidence and decisions."""
    row = governance.get_review(open_engine(db), review_id)
    if fmt == Format.json:
        emit_json(row)
        return
    typer.echo(_review_summary(row))
    for question, text in row["answers"].items():
        typer.echo(f"  {question}: {text}")
    for item in row["evidence"]:
        typer.echo(f"  evidence: {item.get('url') or item.get('text') or json.dumps(item)}")


# ---------------------------------------------------------------- waiver


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (accepted: YYYY-MM-DD)", param_hint="--expires") from None


def _waiver_summary(row: dict) -> str:
    who = {"requested": f"requested by {row['requested_by']}", "approved": f"approved by {row['approved_by']}",
           "revoked": f"revoked by {row['revoked_by']}", "expired": "expired"}[row["state"]]
    return f"waiver {row['id']} {row['system_id']}/{row['rule_id']}: {row['state']} through {row['expires']} ({who})"


@waiver_app.command("request")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def waiver_request(system_id: Annotated[str, typer.Argument(help="SystemID.")],
                   rule_id: Annotated[str, typer.Argument(help="The rule to waive.")],
                   reason: Annotated[str, typer.Option("--reason", help="Why the rule cannot be met in time.")],
                   expires: Annotated[str, typer.Option("--expires", help="Last day the waiver applies (YYYY-MM-DD).")],
                   actor: AsOption = None, token_file: TokenFileOption = None,
                   db: DbOption = None, rules_dir: RulesDirs = None, fmt: FormatOption = Format.table):
    """Ask for an exception to one rule on one system until a date."""
    engine = open_engine(db)
    who = proven_actor(engine, actor, token_file)
    row = governance.request_waiver(engine, system_id, rule_id, actor_name=who, reason=reason,
                                    expires=_date(expires), ruleset=_ruleset(rules_dir))
    _one(row, fmt, _waiver_summary(row))


@waiver_app.command("approve")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def waiver_approve(waiver_id: Annotated[int, typer.Argument(help="Waiver id (see `waiver list`).")],
                   actor: AsOption = None, token_file: TokenFileOption = None,
                   comment: Annotated[str, typer.Option("--comment", "--reason", help="Note on the approval.")] = "",
                   db: DbOption = None, rules_dir: RulesDirs = None, fmt: FormatOption = Format.table):
    """A domain architect of the system's domain approves (never the requester)."""
    engine = open_engine(db)
    row = governance.approve_waiver(engine, waiver_id, actor_name=proven_actor(engine, actor, token_file),
                                    comment=comment, ruleset=_ruleset(rules_dir))
    _one(row, fmt, _waiver_summary(row))


@waiver_app.command("revoke")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def waiver_revoke(waiver_id: Annotated[int, typer.Argument(help="Waiver id (see `waiver list`).")],
                  actor: AsOption = None, token_file: TokenFileOption = None,
                  reason: Annotated[str, typer.Option("--reason", help="Why it ends now (required).")] = "",
                  db: DbOption = None, fmt: FormatOption = Format.table):
    """End a waiver early; the rule counts again at the next evaluation."""
    engine = open_engine(db)
    row = governance.revoke_waiver(engine, waiver_id, actor_name=proven_actor(engine, actor, token_file),
                                   reason=reason)
    _one(row, fmt, _waiver_summary(row))


@waiver_app.command("list")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def waiver_list(system: Annotated[str | None, typer.Option(help="Only this SystemID.")] = None,
                state: Annotated[str | None, typer.Option(help="requested, approved, revoked or expired.")] = None,
                db: DbOption = None, fmt: FormatOption = Format.table):
    """Waivers, newest first, with their state now."""
    emit(governance.list_waivers(open_engine(db), system_id=system, state=state), fmt, WAIVER_COLUMNS,
         cell=_json_cell)


# ---------------------------------------------------------------- audit


def _change(entry: dict) -> str:
    before, after = entry["before"] or {}, entry["after"] or {}
    if before.get("state") or after.get("state"):
        return f"{before.get('state', '-')} -> {after.get('state', '-')}"
    return "granted" if entry["action"] == "role.granted" else ("removed" if entry["action"] == "role.removed" else "")


@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
def audit(system: Annotated[str | None, typer.Option(help="Only entries about this SystemID.")] = None,
          entity: Annotated[str | None, typer.Option(help="Only this entity, e.g. review:12 or waiver:3.")] = None,
          action: Annotated[str | None, typer.Option(help="Only this action, e.g. waiver.expired.")] = None,
          limit: Annotated[int | None, typer.Option(min=1, help="Only the last N entries.")] = None,
          db: DbOption = None, fmt: FormatOption = Format.table):
    """The append-only audit log: who did what when, with the entity before and after."""
    rows = governance.audit_log(open_engine(db), system_id=system, entity=entity, action=action, limit=limit)
    emit([{**r, "change": _change(r)} for r in rows], fmt,
         AUDIT_COLUMNS if fmt == Format.table else AUDIT_COLUMNS[:-1] + ["before", "after"], cell=_json_cell)


# ---------------------------------------------------------------- tokens

tokens_app = cli_app("Personal API tokens that prove who runs a write command (admins issue them).")
TOKEN_COLUMNS = ["id", "person", "hint", "state", "issued_by", "issued_at", "expires_at", "revoked_by", "note"]


def _identity_errors(command):
    from identity import IdentityError

    return reported(IdentityError)(command)


@tokens_app.command("issue")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
@_identity_errors
def token_issue(person: Annotated[str, typer.Argument(help="Who the token is for (a user name as in the catalog).")],
                days: Annotated[int, typer.Option("--days", help="Days it stays valid (1 to 366).")] = 90,
                note: Annotated[str, typer.Option("--note", help="What it is for, e.g. 'laptop' or 'CI'.")] = "",
                bootstrap: Annotated[bool, typer.Option(
                    "--bootstrap", help="The first token of a fresh database: only for a catalog admin, only while "
                                        "no admin holds an active token; needs no token itself.")] = False,
                actor: AsOption = None, token_file: TokenFileOption = None,
                db: DbOption = None, fmt: FormatOption = Format.table):
    """Issue a token (catalog admins). The secret is printed once on stdout and never stored: keep it now."""
    from governance.tokens import issue

    engine = open_engine(db)
    who = None if bootstrap else proven_actor(engine, actor, token_file)
    issued = issue(engine, person, actor=who, days=days, note=note, bootstrap=bootstrap)
    if fmt == Format.json:
        emit_json({"id": issued.id, "person": issued.person, "expires_at": issued.expires_at.isoformat(
            timespec="seconds"), "token": issued.secret})
    else:
        typer.echo(issued.secret)
    say(f"token {issued.id} for {issued.person}, valid until {issued.expires_at:%Y-%m-%d}: shown once, never "
        f"stored. Keep it in a file only you can read (chmod 600) and pass --token-file FILE, or set PEAK_TOKEN.")


@tokens_app.command("list")
@_identity_errors
def token_list(person: Annotated[str | None, typer.Option("--person", help="Only this person's tokens.")] = None,
               every: Annotated[bool, typer.Option("--all", help="Expired and revoked tokens too.")] = False,
               db: DbOption = None, fmt: FormatOption = Format.table):
    """Tokens (never their secrets), newest first: who holds one, since when, until when."""
    from identity import list_tokens

    rows = list_tokens(open_engine(db), person=person, every=every)
    emit([{**r, **{k: r[k].isoformat(timespec="seconds") if r[k] else None
                   for k in ("issued_at", "expires_at", "revoked_at")}} for r in rows], fmt, TOKEN_COLUMNS)


@tokens_app.command("revoke")
@reported(ReadinessError)
@reported(PermissionDenied, label="refused")
@_identity_errors
def token_revoke(token_id: Annotated[int, typer.Argument(help="Token id (see `tokens list`).")],
                 actor: AsOption = None, token_file: TokenFileOption = None, db: DbOption = None):
    """End a token now (an admin, or its own person): it proves no one from this moment."""
    from governance.tokens import revoke

    engine = open_engine(db)
    row = revoke(engine, token_id, actor=proven_actor(engine, actor, token_file))
    typer.echo(f"token {row['id']} of {row['person']}: revoked")


@tokens_app.command("whoami")
@_identity_errors
def token_whoami(token_file: TokenFileOption = None, db: DbOption = None):
    """The person your token proves on this database, and their roles in the catalog."""
    from identity import TOKEN_ENV, token_person

    engine = open_engine(db)
    secret = token_secret(token_file)
    if not secret:
        raise fail(f"no token: set {TOKEN_ENV} or pass --token-file FILE")
    person = token_person(engine, secret)
    typer.echo(governance.actor(engine, person).describe())


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Add `review`, `waiver`, `audit` and `tokens` to the `readiness` command."""
    app.add_typer(review_app, name="review")
    app.add_typer(waiver_app, name="waiver")
    app.add_typer(tokens_app, name="tokens")
    app.command("audit")(audit)
