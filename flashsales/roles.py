"""Who may do what: the central rate-limit team, and the catalog's roles.

The rate-limit team is flashsales' own role (stored grants plus the configured
list); ``admin`` and ``readiness_team`` come from the readiness catalog. Every
use case checks roles here, never the CLI or the app.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from flashsales.errors import FieldProblem, InputError, NotFound, PermissionDenied
from flashsales.models import AuditEntry, RoleGrant
from flashsales.settings import Settings
from storage import session_scope, utcnow

RATELIMIT_TEAM = "ratelimit_team"
SYSTEM_ACTOR = "flashsales"  # the review and the scheduler act under this name


def ratelimit_team(engine: Engine, settings: Settings) -> set[str]:
    """Stored grants plus the configured list (PEAK_FLASHSALES_RATELIMIT_TEAM)."""
    with session_scope(engine) as session:
        stored = {g.user_name for g in session.exec(
            select(RoleGrant).where(RoleGrant.role == RATELIMIT_TEAM)).scalars()}
    return stored | set(settings.ratelimit_team)


def catalog_people(engine: Engine) -> dict[str, set[str]]:
    """Each catalog user with their catalog roles."""
    import readiness  # imported on first use: the CLI starts faster without it

    return readiness.people(engine)


def grant_role(engine: Engine, user: str, *, actor: str, role: str = RATELIMIT_TEAM,
               now: datetime | None = None) -> None:
    """Add a catalog user to the rate-limit team; catalog admins grant (anyone while there are none)."""
    if role != RATELIMIT_TEAM:
        raise InputError(FieldProblem("role", f"unknown role {role!r}; accepted: {RATELIMIT_TEAM}"))
    people = catalog_people(engine)
    admins = _admins(people)
    if admins and actor not in admins:
        raise PermissionDenied(f"{actor} is not an admin in the catalog; admins: {', '.join(sorted(admins))}")
    if people and user not in people:
        raise InputError(FieldProblem("user", f"{user!r} is not a user in the catalog"))
    now = now or utcnow()
    with session_scope(engine) as session:
        if session.get(RoleGrant, (user, role)) is None:
            session.add(RoleGrant(user_name=user, role=role, granted_by=actor, granted_at=now))
            session.add(AuditEntry(at=now, actor=actor, action="grant_role", detail={"user": user, "role": role}))


def revoke_role(engine: Engine, user: str, *, actor: str, role: str = RATELIMIT_TEAM,
                now: datetime | None = None) -> None:
    admins = _admins(catalog_people(engine))
    if admins and actor not in admins:
        raise PermissionDenied(f"{actor} is not an admin in the catalog")
    with session_scope(engine) as session:
        grant = session.get(RoleGrant, (user, role))
        if grant is None:
            raise NotFound(f"{user} has no stored {role} grant")
        session.delete(grant)
        session.add(AuditEntry(at=now or utcnow(), actor=actor, action="revoke_role",
                               detail={"user": user, "role": role}))


def require_ratelimit(engine: Engine, actor: str, settings: Settings) -> None:
    """Only the rate-limit team decides increases and changes category limits."""
    team = ratelimit_team(engine, settings)
    if actor not in team:
        listed = ", ".join(sorted(team)) or "nobody yet (flashsales roles grant USER)"
        raise PermissionDenied(f"{actor} is not in the central rate-limit team, which decides increases; "
                               f"members: {listed}")


def require_any_role(engine: Engine, actor: str, settings: Settings, roles: tuple[str, ...], *, what: str) -> None:
    held = set(catalog_people(engine).get(actor, set()))
    if actor in ratelimit_team(engine, settings):
        held.add(RATELIMIT_TEAM)
    if not held & set(roles):
        raise PermissionDenied(f"{actor} may not {what}: needs one of the roles {', '.join(roles)}")


def _admins(people: dict[str, set[str]]) -> set[str]:
    return {u for u, roles in people.items() if "admin" in roles}
