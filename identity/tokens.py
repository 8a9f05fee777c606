"""Personal API tokens: issue (the secret shown once), verify, list, revoke; the demo mark.

A token is ``peak_`` followed by 43 characters of ``secrets.token_urlsafe(32)`` (256 random
bits). Only its SHA-256 is stored: a random 256-bit secret cannot be guessed, so a slow
password hash would add nothing but latency to every command. Who may issue or revoke is
not decided here (roles live in the catalog): the caller checks, this module keeps the
records and proves who a secret belongs to.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from identity.errors import (
    DEFAULT_DAYS,
    DEMO,
    HOW_TO_GET_ONE,
    MAX_DAYS,
    IdentityError,
    NotProven,
)
from identity.models import ApiToken, DatabaseMark
from storage import session_scope, utcnow

PREFIX = "peak_"
@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``secret`` exists only here, it is shown once and never stored."""

    id: int
    person: str
    secret: str
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _person(name: str, what: str = "person") -> str:
    name = (name or "").strip()
    if not name or len(name) > 120 or any(c.isspace() or not c.isprintable() for c in name):
        raise IdentityError(f"{what}: give a user name as in the catalog (no spaces, at most 120 characters)")
    return name


def _record(row: ApiToken, now: datetime) -> dict:
    state = "revoked" if row.revoked_at else ("expired" if row.expires_at <= now else "active")
    return {"id": row.id, "person": row.person, "hint": row.hint + "…", "state": state, "note": row.note,
            "issued_by": row.issued_by, "issued_at": row.issued_at, "expires_at": row.expires_at,
            "revoked_at": row.revoked_at, "revoked_by": row.revoked_by}


def issue_token(engine: Engine, person: str, *, issued_by: str, days: int = DEFAULT_DAYS, note: str = "",
                now: datetime | None = None, audit: Callable[..., None] | None = None) -> IssuedToken:
    """A new token for ``person``, valid ``days`` days; ``audit(session, record)`` runs in its transaction."""
    person, issued_by = _person(person), _person(issued_by, "issued by")
    if not 1 <= days <= MAX_DAYS:
        raise IdentityError(f"--days: {days} is out of range; a token lives 1 to {MAX_DAYS} days")
    if len(note) > 200:
        raise IdentityError("--note: at most 200 characters")
    now = now or utcnow()
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(person=person, secret_hash=_digest(secret), hint=secret[:len(PREFIX) + 4], note=note,
                   issued_by=issued_by, issued_at=now, expires_at=now + timedelta(days=days))
    with session_scope(engine) as session:
        session.add(row)
        session.flush()
        if audit:
            audit(session, _record(row, now))
        issued = IssuedToken(row.id, person, secret, row.expires_at)
    return issued


def list_tokens(engine: Engine, *, person: str | None = None, every: bool = False,
                now: datetime | None = None) -> list[dict]:
    """Tokens, newest first: the active ones, or ``every`` one (expired and revoked included)."""
    now = now or utcnow()
    with session_scope(engine) as session:
        query = select(ApiToken).order_by(ApiToken.id.desc())
        if person:
            query = query.where(ApiToken.person == person)
        rows = [_record(r, now) for r in session.exec(query).scalars()]
    return rows if every else [r for r in rows if r["state"] == "active"]


def get_token(engine: Engine, token_id: int, *, now: datetime | None = None) -> dict:
    with session_scope(engine) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise IdentityError(f"no token {token_id} (see `readiness tokens list --all`)")
        return _record(row, now or utcnow())


def revoke_token(engine: Engine, token_id: int, *, revoked_by: str, now: datetime | None = None,
                 audit: Callable[..., None] | None = None) -> dict:
    """End a token now; it stops proving anyone at once. ``audit(session, before, after)`` runs in the transaction."""
    now = now or utcnow()
    with session_scope(engine) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise IdentityError(f"no token {token_id} (see `readiness tokens list --all`)")
        if row.revoked_at is not None:
            raise IdentityError(f"token {token_id} was already revoked by {row.revoked_by}")
        before = _record(row, now)
        row.revoked_at, row.revoked_by = now, _person(revoked_by, "revoked by")
        session.add(row)
        after = _record(row, now)
        if audit:
            audit(session, before, after)
    return after


def token_person(engine: Engine, secret: str, *, now: datetime | None = None) -> str:
    """The person a token secret proves; refused when unknown, expired or revoked (saying which)."""
    secret = (secret or "").strip()
    if not secret.startswith(PREFIX):
        raise NotProven(f"the token given is not a peak token (they start with {PREFIX!r}); {HOW_TO_GET_ONE}")
    now = now or utcnow()
    with session_scope(engine) as session:
        row = session.exec(select(ApiToken).where(ApiToken.secret_hash == _digest(secret))).scalar_one_or_none()
        if row is None:
            raise NotProven("the token given is not known to this database (a token works only on the database "
                            "that issued it); ask an admin to run `readiness tokens issue YOUR_NAME`")
        if row.revoked_at is not None:
            raise NotProven(f"token {row.id} of {row.person} was revoked on {row.revoked_at:%Y-%m-%d} by "
                            f"{row.revoked_by}; ask an admin for a new one")
        if row.expires_at <= now:
            raise NotProven(f"token {row.id} of {row.person} expired on {row.expires_at:%Y-%m-%d}; "
                            "ask an admin for a new one")
        return row.person


def has_active_token(engine: Engine, people: set[str], *, now: datetime | None = None) -> bool:
    """Whether any of ``people`` holds an active token (the bootstrap is closed once an admin does)."""
    if not people:
        return False
    now = now or utcnow()
    with session_scope(engine) as session:
        query = select(ApiToken.id).where(ApiToken.person.in_(sorted(people)), ApiToken.revoked_at.is_(None),
                                          ApiToken.expires_at > now).limit(1)
        return session.exec(query).first() is not None


def mark_demo(engine: Engine, *, now: datetime | None = None) -> None:
    """Mark the database as a demo: `--as NAME` alone is then trusted by every CLI write."""
    with session_scope(engine) as session:
        if session.get(DatabaseMark, DEMO) is None:
            session.add(DatabaseMark(name=DEMO, set_at=now or utcnow()))


def is_demo(engine: Engine) -> bool:
    with session_scope(engine) as session:
        return session.get(DatabaseMark, DEMO) is not None


def prove(engine: Engine, *, claimed: str | None, secret: str | None, option: str = "--as",
          now: datetime | None = None) -> str:
    """The proven actor of a write.

    - a token: its person; a name claimed beside it (``--as``) must be that person;
    - no token, on a demo database: the name claimed (``--as``) is trusted;
    - no token otherwise: refused (``NotProven``), saying how to get a token.
    """
    claimed = (claimed or "").strip() or None
    if secret and secret.strip():
        person = token_person(engine, secret, now=now)
        if claimed is not None and claimed != person:
            raise NotProven(f"{option} {claimed} does not match the token presented, which is {person}'s; "
                            f"leave {option} out or give your own name")
        return person
    if is_demo(engine):
        if claimed is None:
            raise NotProven(f"{option}: name the user acting (on this demo database a name is enough)")
        return claimed
    raise NotProven(HOW_TO_GET_ONE)
