"""Issuing and revoking personal API tokens: who may (catalog admins), and the audit of it.

The tokens themselves live in the ``identity`` kernel; the roles in the catalog. Issuing
and revoking are audit-log entries (``token.issued``, ``token.revoked``) written in the
same transaction as the token.

Bootstrap: on a fresh database no one holds a token, so no admin can prove themselves.
``bootstrap=True`` issues a token to a catalog admin without a proven actor, allowed only
while no catalog admin holds an active token. Whoever can run it can already write to the
database directly; the database credentials stay the root of trust.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from governance.audit import record_audit
from governance.times import iso
from identity import (
    DEFAULT_DAYS,
    IssuedToken,
    get_token,
    has_active_token,
    issue_token,
    revoke_token,
)
from readiness import PermissionDenied, central_roles
from storage import utcnow

BOOTSTRAP_ACTOR = "bootstrap"


def _admins(engine: Engine) -> set[str]:
    return {user for user, roles in central_roles(engine).items() if "admin" in roles}


def _public(record: dict) -> dict:
    return {"person": record["person"], "hint": record["hint"], "state": record["state"], "note": record["note"],
            "expires_at": iso(record["expires_at"])}


def issue(engine: Engine, person: str, *, actor: str | None, days: int = DEFAULT_DAYS, note: str = "",
          bootstrap: bool = False, now: datetime | None = None) -> IssuedToken:
    """A token for ``person``, issued by the proven admin ``actor`` (or the bootstrap, see the module)."""
    now = now or utcnow()
    admins = _admins(engine)
    if bootstrap:
        person = (person or "").strip()
        if not admins:
            raise PermissionDenied("--bootstrap: the catalog names no admin; list one under `admins:` in the "
                                   "registry export and import it (`readiness import --catalog FILE`)")
        if person not in admins:
            raise PermissionDenied(f"--bootstrap issues the first token to a catalog admin only; {person} is not "
                                   f"one (admins: {', '.join(sorted(admins))})")
        if has_active_token(engine, admins, now=now):
            raise PermissionDenied("--bootstrap is closed: an admin already holds an active token; "
                                   "ask them to issue yours (`readiness tokens issue YOUR_NAME`)")
        actor = BOOTSTRAP_ACTOR
    elif actor not in admins:
        raise PermissionDenied(f"{actor} is not an admin in the catalog: only admins issue tokens"
                               + (f" (admins: {', '.join(sorted(admins))})" if admins else ""))

    def audit(session, record: dict) -> None:
        record_audit(session, now=now, actor=actor, action="token.issued", entity=f"token:{record['id']}",
                     after=_public(record))

    return issue_token(engine, person, issued_by=actor, days=days, note=note, now=now, audit=audit)


def revoke(engine: Engine, token_id: int, *, actor: str, now: datetime | None = None) -> dict:
    """End a token now: a catalog admin, or the token's own person."""
    now = now or utcnow()
    token = get_token(engine, token_id, now=now)
    if actor != token["person"] and actor not in _admins(engine):
        raise PermissionDenied(f"{actor} may revoke only their own tokens; token {token_id} is "
                               f"{token['person']}'s (admins revoke anyone's)")

    def audit(session, before: dict, after: dict) -> None:
        record_audit(session, now=now, actor=actor, action="token.revoked", entity=f"token:{token_id}",
                     before=_public(before), after=_public(after))

    return revoke_token(engine, token_id, revoked_by=actor, now=now, audit=audit)


