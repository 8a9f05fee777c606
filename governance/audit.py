"""The append-only audit log: every governance write, with who, when, before and after.

Each write adds its entry in its own transaction (``record_audit``); the database refuses
UPDATE and DELETE on the table (triggers of revision ``readiness_0002``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from governance.models import AuditEntry
from governance.times import iso
from readiness import RoleChange
from storage import session_scope


def record_audit(session, *, now: datetime, actor: str, action: str, entity: str, system_id: str | None = None,
           rule_id: str | None = None, before: dict | None = None, after: dict | None = None) -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, entity=entity, system_id=system_id,
                           rule_id=rule_id, before=before, after=after))


def audit_role_changes(session, changes: Sequence[RoleChange], *, now: datetime, actor: str) -> None:
    """The ``peak_readiness.role_changes`` hook: audit the central roles a catalog import changed."""
    for change in changes:
        grant = {"user": change.user, "role": change.role}
        record_audit(session, now=now, actor=actor[:200], action="role.granted" if change.granted else "role.removed",
               entity=f"role:{change.user}"[:150], after=grant if change.granted else None,
               before=None if change.granted else grant)


def audit_log(engine: Engine, *, system_id: str | None = None, entity: str | None = None,
              action: str | None = None, limit: int | None = None) -> list[dict]:
    """The audit log, oldest first (the last ``limit`` entries when given)."""
    with session_scope(engine) as session:
        query = select(AuditEntry)
        if system_id:
            query = query.where(AuditEntry.system_id == system_id)
        if entity:
            query = query.where(AuditEntry.entity == entity)
        if action:
            query = query.where(AuditEntry.action == action)
        query = query.order_by(AuditEntry.id.desc())
        if limit:
            query = query.limit(limit)
        entries = list(session.exec(query).scalars())
    return [{"id": e.id, "at": iso(e.at), "actor": e.actor, "action": e.action, "entity": e.entity,
             "system_id": e.system_id, "rule_id": e.rule_id, "before": e.before, "after": e.after}
            for e in reversed(entries)]
