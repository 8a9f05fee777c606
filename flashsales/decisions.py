"""After the review: the rate-limit team approves or rejects, anyone concerned cancels, the clock advances.

Each decision is one transaction under the ledger lock (so two approvals never
spend the same headroom); the people concerned hear about it after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flashsales import capacity as cap
from flashsales.assessment import EPSILON, extra_rps, headroom
from flashsales.audiences import decision_audience
from flashsales.errors import CapacityExceeded, FieldProblem, InputError, InvalidTransition
from flashsales.lifecycle import TERMINAL, allowed, transition
from flashsales.messages import Delivery, send
from flashsales.models import Category, Override, SaleRequest
from flashsales.notify import Sender
from flashsales.ratelimits import limit_problem
from flashsales.reads import get_request, get_row
from flashsales.roles import RATELIMIT_TEAM, SYSTEM_ACTOR, require_any_role, require_ratelimit
from flashsales.settings import Settings, load_settings
from flashsales.views import RequestView
from storage import session_scope, utcnow

Sleep = Callable[[float], None]


def approve(engine: Engine, request_id: int, *, actor: str, limit_rpm: int | None = None, comment: str = "",
            now: datetime | None = None, settings: Settings | None = None, sender: Sender | None = None,
            sleep: Sleep | None = None) -> RequestView:
    """The rate-limit team grants the increase (the proposal, or a lower ``limit_rpm``)."""
    now = now or utcnow()
    settings = settings or load_settings()
    require_ratelimit(engine, actor, settings)
    platform = cap.purchase_flow_capacity(engine, _window(engine, request_id))  # before the lock: hold it briefly
    with session_scope(engine) as session:
        cap.lock_ledger(session, now)
        row = _pending_increase(session, request_id, "approved")
        category_limit = session.get(Category, row.category_key).rate_limit_rpm
        granted = _granted_limit(row, limit_rpm, category_limit)
        extra = extra_rps(granted, category_limit, settings)
        room = _check_headroom(session, row, platform, granted, extra)
        row.granted_limit_rpm, row.reserved_rps = granted, extra
        session.add(Override(request_id=row.id, merchant_id=row.merchant_id, category_key=row.category_key,
                             limit_rpm=granted, starts_at=row.starts_at, expires_at=row.ends_at,
                             approved_by=actor, created_at=now))
        transition(session, row, "approved", actor=actor, action="approve", now=now,
                   detail={"limit_rpm": granted, "extra_rps": round(extra, 3), "headroom_rps": round(room, 3),
                           "comment": comment})
    return _announce(engine, request_id, "approved", Delivery(settings, now, sender, sleep), comment)


def _window(engine: Engine, request_id: int) -> tuple[datetime, datetime]:
    with session_scope(engine) as session:
        row = get_row(session, request_id)
        return row.starts_at, row.ends_at


def _pending_increase(session: Session, request_id: int, outcome: str) -> SaleRequest:
    """The request, which must await the rate-limit team's decision."""
    row = get_row(session, request_id)
    if row.status != "increase_requested":
        raise InvalidTransition(f"request #{row.id} is {row.status}; only increase_requested can be {outcome}")
    return row


def _granted_limit(row: SaleRequest, limit_rpm: int | None, category_limit: int) -> int:
    """The limit to grant: above the category's, at most the reviewed proposal."""
    granted = limit_rpm if limit_rpm is not None else row.proposed_limit_rpm
    if granted is None or granted <= category_limit:
        raise InputError(FieldProblem("limit_rpm", f"must be above the {row.category_key} limit of "
                                                   f"{category_limit} rpm"))
    if limit_problem("limit_rpm", granted):
        raise InputError(limit_problem("limit_rpm", granted))
    if row.proposed_limit_rpm is not None and granted > row.proposed_limit_rpm:
        raise InputError(FieldProblem("limit_rpm", f"at most the reviewed proposal of {row.proposed_limit_rpm} "
                                                   "rpm (review again for more)"))
    return granted


def _check_headroom(session: Session, row: SaleRequest, platform: cap.PlatformCapacity, granted: int,
                    extra: float) -> float:
    """The headroom left by overlapping sales, re-checked at approval; it must take ``extra``."""
    if platform.capacity_rps is None:
        raise CapacityExceeded("headroom of the purchase flow unknown: " + "; ".join(platform.problems))
    holds = cap.overlapping_holds(session, row.starts_at, row.ends_at, exclude=row.id)
    room = headroom(platform, holds, row.starts_at, row.ends_at)
    if extra > room.room_rps + EPSILON:
        raise CapacityExceeded(
            f"granting {granted} rpm adds {extra:.2f} requests/s but only {room.room_rps:.2f} are left "
            f"(bottleneck {room.bottleneck}, reserved by overlapping sales {room.reserved_rps:.2f}); "
            f"nothing was changed")
    return room.room_rps


def reject(engine: Engine, request_id: int, *, actor: str, reason: str, now: datetime | None = None,
           settings: Settings | None = None, sender: Sender | None = None,
           sleep: Sleep | None = None) -> RequestView:
    """The rate-limit team declines the increase; the hold is released."""
    now = now or utcnow()
    settings = settings or load_settings()
    require_ratelimit(engine, actor, settings)
    if not reason.strip():
        raise InputError(FieldProblem("reason", "say why the increase is rejected"))
    with session_scope(engine) as session:
        cap.lock_ledger(session, now)
        row = _pending_increase(session, request_id, "rejected")
        row.reserved_rps = 0.0
        transition(session, row, "rejected", actor=actor, action="reject", now=now, detail={"reason": reason})
    return _announce(engine, request_id, "rejected", Delivery(settings, now, sender, sleep), reason)


def cancel(engine: Engine, request_id: int, *, actor: str, reason: str = "", now: datetime | None = None,
           settings: Settings | None = None, sender: Sender | None = None,
           sleep: Sleep | None = None) -> RequestView:
    """Withdraw a sale: its hold is released and an override ends now."""
    now = now or utcnow()
    settings = settings or load_settings()
    _require_may_cancel(engine, request_id, actor, settings)
    with session_scope(engine) as session:
        cap.lock_ledger(session, now)
        row = get_row(session, request_id)
        if row.status in TERMINAL:
            raise InvalidTransition(f"request #{row.id} is {row.status}; it cannot be cancelled")
        row.reserved_rps = 0.0
        _end_override(session, row.id, now)
        transition(session, row, "cancelled", actor=actor, action="cancel", now=now, detail={"reason": reason})
    return _announce(engine, request_id, "cancelled", Delivery(settings, now, sender, sleep), reason)


def _require_may_cancel(engine: Engine, request_id: int, actor: str, settings: Settings) -> None:
    """The people named on the request cancel it; others need a central role."""
    with session_scope(engine) as session:
        row = get_row(session, request_id)
        stakeholders = {row.reporter, row.key_account_manager, row.solution_engineer}
    if actor not in stakeholders:
        require_any_role(engine, actor, settings, ("readiness_team", "admin", RATELIMIT_TEAM),
                         what="cancel someone else's flash sale")


def _end_override(session: Session, request_id: int, now: datetime) -> None:
    override = session.exec(select(Override).where(Override.request_id == request_id)).scalars().first()
    if override is not None and override.revoked_at is None:
        override.revoked_at = now
        session.add(override)


def _announce(engine: Engine, request_id: int, event: str, delivery: Delivery, comment: str) -> RequestView:
    """Tell everyone the decision concerns; the request as it now stands."""
    detail = get_request(engine, request_id)
    send(engine, delivery, detail, event, decision_audience(engine, detail), comment=comment)
    return detail.request


def advance(engine: Engine, *, now: datetime | None = None) -> list[tuple[int, str, str]]:
    """Move sales along with the clock: decided -> scheduled -> live -> completed. Idempotent."""
    now = now or utcnow()
    moved = []
    with session_scope(engine) as session:
        rows = session.exec(select(SaleRequest).where(SaleRequest.status.in_(
            ("no_change_needed", "approved", "scheduled", "live"))).order_by(SaleRequest.id)).scalars().all()
        for row in rows:
            for target in _due_steps(row, now):
                if allowed(row.status, target):
                    before = row.status
                    transition(session, row, target, actor=SYSTEM_ACTOR, action=f"advance_{target}", now=now)
                    moved.append((row.id, before, target))
    return moved


def _due_steps(row: SaleRequest, now: datetime) -> list[str]:
    """The states a decided sale has reached by ``now``, in order."""
    steps = []
    if row.status in ("no_change_needed", "approved"):
        steps.append("scheduled")
    if row.starts_at <= now:
        steps.append("live")
    if row.ends_at <= now:
        steps.append("completed")
    return steps
