"""Who may do what: the actor's roles, taken from the catalog.

Members and leads of a team own its systems, a domain's architects approve for
that domain, and the catalog's ``readiness_team`` and ``admins`` lists grant the
central roles (``readiness.people``). Anyone else is a viewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from readiness import InputError, NotFound, SystemPeople, central_roles, people, system_people
from storage import session_scope

ARCHITECT, READINESS_TEAM = "architect", "readiness_team"


@dataclass(frozen=True)
class Actor:
    """A user and the roles the catalog gives them."""

    name: str
    roles: frozenset[str] = frozenset()

    def owns(self, team: str) -> bool:
        return f"owner:{team}" in self.roles

    def architect_of(self, domain: str) -> bool:
        return f"architect:{domain}" in self.roles

    @property
    def readiness_team(self) -> bool:
        return READINESS_TEAM in self.roles

    @property
    def admin(self) -> bool:
        return "admin" in self.roles

    def describe(self) -> str:
        if not self.roles:
            return f"{self.name} has no role in the catalog (viewer only)"
        return f"{self.name} is {', '.join(sorted(self.roles))}"


def acting_user(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InputError("--as: name the user acting (accepted: a user name from the catalog)")
    return name


def actor(engine: Engine, name: str) -> Actor:
    """Every role of one user name (an unknown name is a viewer)."""
    name = acting_user(name)
    return Actor(name, frozenset(people(engine).get(name, set())))


def describe(engine: Engine, name: str) -> str:
    return actor(engine, name).describe()


def system_context(engine: Engine, system_id: str) -> SystemPeople:
    """The system a write is about, with its owners and architects; unknown ones are refused."""
    found = system_people(engine, system_id)
    if found is None:
        raise NotFound(f"unknown system {system_id!r}: see `readiness score --level system` for SystemIDs")
    return found


def row_context(engine: Engine, model, row_id: int, missing: str) -> SystemPeople:
    """The system a review or waiver is about (that never changes), read before the write locks the row."""
    with session_scope(engine) as session:
        system_id = session.exec(select(model.system_id).where(model.id == row_id)).scalar_one_or_none()
    if system_id is None:
        raise NotFound(missing)
    return system_context(engine, system_id)


def scoped_actor(engine: Engine, name: str, ctx: SystemPeople) -> Actor:
    """The roles of a user that matter for one system: cheaper than every role in the catalog."""
    roles = set(central_roles(engine).get(name, set()))
    if name in ctx.owners:
        roles.add(f"owner:{ctx.team}")
    if name in ctx.architects:
        roles.add(f"architect:{ctx.domain}")
    return Actor(name, frozenset(roles))


def central_role_members(engine: Engine, role: str) -> list[str]:
    return sorted(user for user, roles in central_roles(engine).items() if role in roles)


def names(users: Iterable[str]) -> str:
    listed = sorted(users)
    return ", ".join(listed) if listed else "nobody is listed in the catalog"
