"""Request states and the only transitions allowed between them.

    submitted -> under_review -> no_change_needed ----------> scheduled -> live -> completed
                              -> increase_requested -> approved -> scheduled
                                                    -> rejected (by the rate-limit team)
                              -> rejected (refused: the platform cannot take it)
    any state before completed -> cancelled

A request under an increase or a "no change" decision may be reviewed again
(back to under_review), e.g. after a category limit changed. Every status
change goes through :func:`transition`, which audits it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from flashsales.errors import InvalidTransition
from flashsales.models import AuditEntry, SaleRequest

STATES = ("submitted", "under_review", "increase_requested", "approved", "rejected",
          "no_change_needed", "scheduled", "live", "completed", "cancelled")
TERMINAL = frozenset({"rejected", "completed", "cancelled"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"under_review", "cancelled"}),
    "under_review": frozenset({"no_change_needed", "increase_requested", "rejected", "cancelled"}),
    "increase_requested": frozenset({"approved", "rejected", "cancelled", "under_review"}),
    "no_change_needed": frozenset({"scheduled", "cancelled", "under_review"}),
    "approved": frozenset({"scheduled", "cancelled"}),
    "scheduled": frozenset({"live", "cancelled"}),
    "live": frozenset({"completed", "cancelled"}),
    "rejected": frozenset(),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
# States in which a sale will happen (or happened) as announced: known events for Kapacity.
GOING_AHEAD = ("no_change_needed", "approved", "scheduled", "live", "completed")


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def transition(session: Session, row: SaleRequest, target: str, *, actor: str, action: str, now: datetime,
               detail: dict | None = None) -> None:
    """Move a request to ``target`` if allowed, with its audit entry; the only place a status changes."""
    if not allowed(row.status, target):
        raise InvalidTransition(f"request #{row.id} is {row.status}; it cannot become {target}")
    session.add(AuditEntry(request_id=row.id, at=now, actor=actor, action=action, from_status=row.status,
                           to_status=target, detail=detail or {}))
    row.status, row.updated_at = target, now
    session.add(row)
