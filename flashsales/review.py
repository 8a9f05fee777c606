"""Reviewing a request: against its merchant's history, the category limit and the headroom.

The arithmetic is :func:`flashsales.assessment.decide`; this module reads its
inputs, stores the review and the resulting state under the ledger lock, and
tells the people concerned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flashsales import capacity as cap
from flashsales.assessment import Decision, decide
from flashsales.audiences import decision_audience, readiness_team
from flashsales.errors import HistoryUnavailable, InvalidTransition
from flashsales.history import TrafficProfile, load_profile
from flashsales.lifecycle import transition
from flashsales.messages import Delivery, send
from flashsales.models import AuditEntry, Category, Merchant, Review, SaleRequest
from flashsales.notify import Sender
from flashsales.reads import get_request, get_row
from flashsales.roles import RATELIMIT_TEAM, SYSTEM_ACTOR, ratelimit_team, require_any_role
from flashsales.settings import Settings, load_settings
from flashsales.views import ReviewView, review_view
from storage import session_scope, utcnow

NEXT_STATE = {"no_change_needed": "no_change_needed", "increase": "increase_requested", "refuse": "rejected"}


def review(engine: Engine, request_id: int, *, actor: str = SYSTEM_ACTOR, now: datetime | None = None,
           settings: Settings | None = None, sender: Sender | None = None,
           sleep: Callable[[float], None] | None = None, notifications: dict | None = None) -> ReviewView:
    """Evaluate a request against its merchant's history, the category limit and the headroom."""
    now = now or utcnow()
    settings = settings or load_settings()
    if actor != SYSTEM_ACTOR:
        require_any_role(engine, actor, settings, ("readiness_team", RATELIMIT_TEAM), what="review a flash sale")
    path, window = _start(engine, request_id, actor, now)
    profile, history_error = _history(path)
    platform = cap.purchase_flow_capacity(engine, window)
    try:
        view = _record(engine, request_id, profile, history_error, platform, settings, now)
    except Exception as exc:  # recorded, then raised: the request stays under_review, reviewable again
        _audit_failure(engine, request_id, actor, exc, now)
        raise
    reports = notifications if notifications is not None else {}
    _announce(engine, request_id, view, Delivery(settings, now, sender, sleep), reports)
    return view


def _start(engine: Engine, request_id: int, actor: str,
           now: datetime) -> tuple[str | None, tuple[datetime, datetime]]:
    """Put the request under review (a new review replaces the old hold); its history file and window."""
    with session_scope(engine) as session:
        row = get_row(session, request_id)
        if row.status != "under_review":
            transition(session, row, "under_review", actor=actor, action="review_started", now=now)
            row.reserved_rps, row.proposed_limit_rpm = 0.0, None
        merchant = session.get(Merchant, row.merchant_id)
        return (merchant.history_path if merchant else None), (row.starts_at, row.ends_at)


def _history(path: str | None) -> tuple[TrafficProfile | None, str | None]:
    """The merchant's profile, or why it could not be read (None, None without a history file)."""
    if not path:
        return None, None
    try:
        return load_profile(path), None
    except HistoryUnavailable as exc:
        return None, str(exc)


def _record(engine: Engine, request_id: int, profile: TrafficProfile | None, history_error: str | None,
            platform: cap.PlatformCapacity, settings: Settings, now: datetime) -> ReviewView:
    """Decide under the ledger lock, so overlapping sales see each other's holds; store review and state."""
    with session_scope(engine) as session:
        version = cap.lock_ledger(session, now)
        row = get_row(session, request_id)
        if row.status != "under_review":
            raise InvalidTransition(f"request #{row.id} became {row.status} while being reviewed")
        category = session.get(Category, row.category_key)
        holds = cap.overlapping_holds(session, row.starts_at, row.ends_at, exclude=row.id)
        decision = decide(row, category.rate_limit_rpm, profile, history_error, platform, holds, settings)
        decision.figures["ledger_version"] = version
        saved = _save(session, row, decision, category.rate_limit_rpm, now)
        session.flush()
        return review_view(saved)


def _save(session: Session, row: SaleRequest, decision: Decision, category_limit_rpm: int,
          now: datetime) -> Review:
    saved = Review(request_id=row.id, reviewed_at=now, decision=decision.decision,
                   projected_peak_rpm=decision.projected_peak_rpm, category_limit_rpm=category_limit_rpm,
                   proposed_limit_rpm=decision.proposed_limit_rpm, extra_rps=decision.extra_rps,
                   headroom_rps=decision.headroom_rps, figures=decision.figures, reasoning=decision.reasoning)
    session.add(saved)
    if decision.decision == "increase":
        row.proposed_limit_rpm, row.reserved_rps = decision.proposed_limit_rpm, decision.extra_rps
    transition(session, row, NEXT_STATE[decision.decision], actor=SYSTEM_ACTOR,
               action=f"review_{decision.decision}", now=now,
               detail={"projected_peak_rpm": decision.projected_peak_rpm,
                       "proposed_limit_rpm": decision.proposed_limit_rpm,
                       "extra_rps": round(decision.extra_rps, 3), "headroom_rps": decision.headroom_rps})
    return saved


def _audit_failure(engine: Engine, request_id: int, actor: str, exc: Exception, now: datetime) -> None:
    with session_scope(engine) as session:
        session.add(AuditEntry(request_id=request_id, at=now, actor=actor, action="review_failed",
                               detail={"error": f"{type(exc).__name__}: {exc}"[:2000]}))


def _announce(engine: Engine, request_id: int, view: ReviewView, delivery: Delivery, reports: dict) -> None:
    """An increase goes to the rate-limit team to decide; any other outcome to everyone concerned."""
    detail = get_request(engine, request_id)
    if view.decision == "increase":
        team = sorted(ratelimit_team(engine, delivery.settings))
        reports["increase_requested"] = send(engine, delivery, detail, "increase_requested",
                                             team + readiness_team(engine))
    else:
        event = "no_change_needed" if view.decision == "no_change_needed" else "refused"
        reports[event] = send(engine, delivery, detail, event, decision_audience(engine, detail))
