"""Use cases the CLI and the app share: submit, review, decide, cancel, advance, read.

Every function takes the engine first and keyword-only options; ``now`` (naive
UTC) is injectable so tests never depend on the clock. Writes happen in one
transaction each; notifications go out after the commit and never undo it.
Role checks live here, not in the CLI or the app.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from flashsales import capacity as cap
from flashsales.errors import (
    CapacityExceeded,
    FieldProblem,
    FlashSalesError,
    HistoryUnavailable,
    InputError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from flashsales.history import TrafficProfile, load_profile
from flashsales.lifecycle import TERMINAL, allowed
from flashsales.models import (
    AuditEntry,
    Category,
    Merchant,
    Notification,
    Override,
    Review,
    RoleGrant,
    SaleRequest,
)
from flashsales.notify import Message, Sender, deliver
from flashsales.schema import SaleRequestIn, ValidationContext, load_request_file, validate_request
from flashsales.settings import Settings, load_settings
from storage import session_scope, utcnow

RATELIMIT_TEAM = "ratelimit_team"
SYSTEM_ACTOR = "flashsales"  # the review and the scheduler act under this name
EPSILON = 1e-9


# ------------------------------------------------------------------ read models


@dataclass(frozen=True)
class ReviewView:
    id: int
    reviewed_at: datetime
    decision: str  # no_change_needed | increase | refuse
    projected_peak_rpm: float | None
    category_limit_rpm: int
    proposed_limit_rpm: int | None
    extra_rps: float
    headroom_rps: float | None
    figures: dict
    reasoning: list[str]


@dataclass(frozen=True)
class RequestView:
    id: int
    status: str
    merchant_id: str
    merchant_name: str
    category: str
    reporter: str
    key_account_manager: str
    solution_engineer: str
    countries: list[str]
    starts_at: datetime  # naive UTC
    ends_at: datetime
    utc_offset: str
    expected_peak_rpm: float | None
    expected_multiplier: float | None
    notes: str
    submitted_by: str
    submitted_at: datetime
    proposed_limit_rpm: int | None
    granted_limit_rpm: int | None
    reserved_rps: float


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict


@dataclass(frozen=True)
class NotificationView:
    id: int
    event: str
    destination: str
    recipients: list[str]
    subject: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class RequestDetail:
    request: RequestView
    reviews: list[ReviewView]
    audit: list[AuditView]
    notifications: list[NotificationView]
    override: dict | None

    @property
    def latest_review(self) -> ReviewView | None:
        return self.reviews[-1] if self.reviews else None


@dataclass(frozen=True)
class SubmitResult:
    request: RequestView
    review: ReviewView | None
    review_error: str | None = None
    notifications: dict = field(default_factory=dict)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, datetimes (as ISO UTC with Z) and containers, for JSON output."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def _request_view(row: SaleRequest) -> RequestView:
    return RequestView(
        id=row.id, status=row.status, merchant_id=row.merchant_id, merchant_name=row.merchant_name,
        category=row.category_key, reporter=row.reporter, key_account_manager=row.key_account_manager,
        solution_engineer=row.solution_engineer, countries=list(row.countries), starts_at=row.starts_at,
        ends_at=row.ends_at, utc_offset=row.utc_offset, expected_peak_rpm=row.expected_peak_rpm,
        expected_multiplier=row.expected_multiplier, notes=row.notes, submitted_by=row.submitted_by,
        submitted_at=row.submitted_at, proposed_limit_rpm=row.proposed_limit_rpm,
        granted_limit_rpm=row.granted_limit_rpm, reserved_rps=row.reserved_rps)


def _review_view(row: Review) -> ReviewView:
    return ReviewView(row.id, row.reviewed_at, row.decision, row.projected_peak_rpm, row.category_limit_rpm,
                      row.proposed_limit_rpm, row.extra_rps, row.headroom_rps, dict(row.figures),
                      list(row.reasoning))


# ------------------------------------------------------------------ categories, merchants, roles


def set_category(engine: Engine, key: str, *, rate_limit_rpm: int, name: str | None = None,
                 actor: str = SYSTEM_ACTOR, settings: Settings | None = None, now: datetime | None = None) -> None:
    """Create a category or change its rate limit (requests per minute per merchant).

    People need the rate-limit team role; setup code (the demo, imports) acts as ``SYSTEM_ACTOR``.
    """
    if actor != SYSTEM_ACTOR:
        _require_ratelimit(engine, actor, settings or load_settings())
    key = key.strip().lower()
    problems = []
    if not key or len(key) > 64:
        problems.append(FieldProblem("category", "1 to 64 characters"))
    if not isinstance(rate_limit_rpm, int) or rate_limit_rpm < 1:
        problems.append(FieldProblem("rate_limit_rpm", "a whole number of requests per minute, at least 1"))
    if problems:
        raise InputError(problems)
    now = now or utcnow()
    with session_scope(engine) as session:
        row = session.get(Category, key)
        before = row.rate_limit_rpm if row else None
        if row is None:
            row = Category(key=key, name=name or key, rate_limit_rpm=rate_limit_rpm, updated_at=now, updated_by=actor)
        elif before == rate_limit_rpm and (not name or name == row.name):
            return  # unchanged: keep who changed it last and when
        else:
            row.rate_limit_rpm, row.updated_at, row.updated_by = rate_limit_rpm, now, actor
            row.name = name or row.name
        session.add(row)
        if before != rate_limit_rpm:
            session.add(AuditEntry(at=now, actor=actor, action="category_limit",
                                   detail={"category": key, "from_rpm": before, "to_rpm": rate_limit_rpm}))


def list_categories(engine: Engine) -> list[dict]:
    with session_scope(engine) as session:
        return [{"category": c.key, "name": c.name, "rate_limit_rpm": c.rate_limit_rpm,
                 "updated_at": c.updated_at, "updated_by": c.updated_by}
                for c in session.exec(select(Category).order_by(Category.key)).scalars()]


def upsert_merchant(engine: Engine, merchant_id: str, *, name: str, category: str,
                    history_path: str | Path | None = None, now: datetime | None = None) -> None:
    now = now or utcnow()
    with session_scope(engine) as session:
        if session.get(Category, category) is None:
            raise InputError(FieldProblem("category", f"unknown category {category!r}"))
        row = session.get(Merchant, merchant_id) or Merchant(merchant_id=merchant_id, name=name,
                                                             category_key=category, updated_at=now)
        path = str(history_path) if history_path is not None else row.history_path
        if (row.name, row.category_key, row.history_path) != (name, category, path) or row.updated_at == now:
            row.name, row.category_key, row.history_path, row.updated_at = name, category, path, now
            session.add(row)


def list_merchants(engine: Engine) -> list[dict]:
    with session_scope(engine) as session:
        return [{"merchant_id": m.merchant_id, "name": m.name, "category": m.category_key,
                 "history_path": m.history_path}
                for m in session.exec(select(Merchant).order_by(Merchant.merchant_id)).scalars()]


def ratelimit_team(engine: Engine, settings: Settings) -> set[str]:
    """Stored grants plus the configured list (PEAK_FLASHSALES_RATELIMIT_TEAM)."""
    with session_scope(engine) as session:
        stored = {g.user_name for g in session.exec(
            select(RoleGrant).where(RoleGrant.role == RATELIMIT_TEAM)).scalars()}
    return stored | set(settings.ratelimit_team)


def _catalog_people(engine: Engine) -> dict[str, set[str]]:
    import readiness

    return readiness.people(engine)


def grant_role(engine: Engine, user: str, *, actor: str, role: str = RATELIMIT_TEAM,
               now: datetime | None = None) -> None:
    """Add a catalog user to the rate-limit team; catalog admins grant (anyone while there are none)."""
    if role != RATELIMIT_TEAM:
        raise InputError(FieldProblem("role", f"unknown role {role!r}; accepted: {RATELIMIT_TEAM}"))
    people = _catalog_people(engine)
    admins = {u for u, roles in people.items() if "admin" in roles}
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
    people = _catalog_people(engine)
    admins = {u for u, roles in people.items() if "admin" in roles}
    if admins and actor not in admins:
        raise PermissionDenied(f"{actor} is not an admin in the catalog")
    with session_scope(engine) as session:
        grant = session.get(RoleGrant, (user, role))
        if grant is None:
            raise NotFound(f"{user} has no stored {role} grant")
        session.delete(grant)
        session.add(AuditEntry(at=now or utcnow(), actor=actor, action="revoke_role",
                               detail={"user": user, "role": role}))


# ------------------------------------------------------------------ intake


def validation_context(engine: Engine, now: datetime | None = None) -> ValidationContext:
    with session_scope(engine) as session:
        categories = frozenset(session.exec(select(Category.key)).scalars())
        merchants = list(session.exec(select(Merchant)).scalars())
    return ValidationContext(
        now=now or utcnow(), categories=categories,
        merchant_categories={m.merchant_id: m.category_key for m in merchants},
        merchants_with_history=frozenset(m.merchant_id for m in merchants
                                         if m.history_path and Path(m.history_path).is_file()))


def check_request(engine: Engine, raw: dict[str, Any], *, now: datetime | None = None,
                  origin: str = "") -> SaleRequestIn:
    """Validate without storing (the app's form calls this on every change)."""
    return validate_request(raw, validation_context(engine, now), origin=origin)


def submit_file(engine: Engine, path: str | Path, **options: Any) -> SubmitResult:
    return submit(engine, load_request_file(path), origin=str(path), **options)


def submit(engine: Engine, raw: dict[str, Any] | SaleRequestIn, *, actor: str | None = None,
           now: datetime | None = None, settings: Settings | None = None, sender: Sender | None = None,
           sleep: Callable[[float], None] | None = None, origin: str = "") -> SubmitResult:
    """Validate, store, notify the readiness team, review; a failed review keeps the request."""
    now = now or utcnow()
    settings = settings or load_settings()
    data = raw.model_dump(mode="json") if isinstance(raw, SaleRequestIn) else raw
    request = check_request(engine, data, now=now, origin=origin)
    start, end = request.utc_window()
    actor = actor or request.reporter
    content = json.dumps(request.model_dump(mode="json"), sort_keys=True)
    with session_scope(engine) as session:
        merchant = session.get(Merchant, request.merchant_id)
        if merchant is None:
            session.add(Merchant(merchant_id=request.merchant_id, name=request.merchant_name,
                                 category_key=request.merchant_category, updated_at=now))
        row = SaleRequest(
            merchant_id=request.merchant_id, merchant_name=request.merchant_name,
            category_key=request.merchant_category, reporter=request.reporter,
            key_account_manager=request.key_account_manager, solution_engineer=request.solution_engineer,
            countries=list(request.countries), starts_at=start, ends_at=end, utc_offset=request.utc_offset(),
            expected_peak_rpm=request.expected_peak_rpm, expected_multiplier=request.expected_multiplier,
            notes=request.notes, status="submitted", submitted_by=actor, submitted_at=now, updated_at=now,
            content_hash=hashlib.sha256(content.encode()).hexdigest())
        session.add(row)
        session.flush()
        session.add(AuditEntry(request_id=row.id, at=now, actor=actor, action="submit", to_status="submitted",
                               detail={"origin": origin or "form", "content_hash": row.content_hash}))
        request_id = row.id
    reports = {}
    people = _catalog_people(engine)
    readiness_team = sorted(u for u, roles in people.items() if "readiness_team" in roles)
    detail = get_request(engine, request_id)
    reports["submitted"] = _send(engine, detail, "submitted", readiness_team + [request.reporter],
                                 settings, sender, sleep, now)
    try:
        review_view = review(engine, request_id, now=now, settings=settings, sender=sender, sleep=sleep,
                             notifications=reports)
        error = None
    except FlashSalesError as exc:
        review_view, error = None, str(exc)
    except Exception as exc:  # a database or capacity-source failure must not lose the stored request
        review_view, error = None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return SubmitResult(get_request(engine, request_id).request, review_view, error, reports)


# ------------------------------------------------------------------ review


def _transition(session, row: SaleRequest, target: str, *, actor: str, action: str, now: datetime,
                detail: dict | None = None) -> None:
    if not allowed(row.status, target):
        raise InvalidTransition(f"request #{row.id} is {row.status}; it cannot become {target}")
    session.add(AuditEntry(request_id=row.id, at=now, actor=actor, action=action, from_status=row.status,
                           to_status=target, detail=detail or {}))
    row.status, row.updated_at = target, now
    session.add(row)


def review(engine: Engine, request_id: int, *, actor: str = SYSTEM_ACTOR, now: datetime | None = None,
           settings: Settings | None = None, sender: Sender | None = None,
           sleep: Callable[[float], None] | None = None, notifications: dict | None = None) -> ReviewView:
    """Evaluate a request against its merchant's history, the category limit and the headroom."""
    now = now or utcnow()
    settings = settings or load_settings()
    if actor != SYSTEM_ACTOR:
        _require_any_role(engine, actor, settings, ("readiness_team", RATELIMIT_TEAM), what="review a flash sale")
    with session_scope(engine) as session:
        row = _get(session, request_id)
        if row.status != "under_review":
            _transition(session, row, "under_review", actor=actor, action="review_started", now=now)
            row.reserved_rps, row.proposed_limit_rpm = 0.0, None  # a new review replaces the old hold
        merchant = session.get(Merchant, row.merchant_id)
        history_path = merchant.history_path if merchant else None
    try:
        profile = load_profile(history_path) if history_path else None
        history_error = None
    except HistoryUnavailable as exc:
        profile, history_error = None, str(exc)
    platform = cap.purchase_flow_capacity(engine)
    try:
        with session_scope(engine) as session:
            version = cap.lock_ledger(session, now)
            row = _get(session, request_id)
            if row.status != "under_review":
                raise InvalidTransition(f"request #{row.id} became {row.status} while being reviewed")
            category = session.get(Category, row.category_key)
            holds = cap.overlapping_holds(session, row.starts_at, row.ends_at, exclude=row.id)
            decision = decide(row, category.rate_limit_rpm, profile, history_error, platform, holds, settings)
            decision.figures["ledger_version"] = version
            saved = Review(request_id=row.id, reviewed_at=now, decision=decision.decision,
                           projected_peak_rpm=decision.projected_peak_rpm,
                           category_limit_rpm=category.rate_limit_rpm,
                           proposed_limit_rpm=decision.proposed_limit_rpm, extra_rps=decision.extra_rps,
                           headroom_rps=decision.headroom_rps, figures=decision.figures,
                           reasoning=decision.reasoning)
            session.add(saved)
            target = {"no_change_needed": "no_change_needed", "increase": "increase_requested",
                      "refuse": "rejected"}[decision.decision]
            if decision.decision == "increase":
                row.proposed_limit_rpm, row.reserved_rps = decision.proposed_limit_rpm, decision.extra_rps
            _transition(session, row, target, actor=SYSTEM_ACTOR, action=f"review_{decision.decision}", now=now,
                        detail={"projected_peak_rpm": decision.projected_peak_rpm,
                                "proposed_limit_rpm": decision.proposed_limit_rpm,
                                "extra_rps": round(decision.extra_rps, 3),
                                "headroom_rps": decision.headroom_rps})
            session.flush()
            view = _review_view(saved)
    except Exception as exc:  # recorded, then raised: the request stays under_review, reviewable again
        with session_scope(engine) as session:
            session.add(AuditEntry(request_id=request_id, at=now, actor=actor, action="review_failed",
                                   detail={"error": f"{type(exc).__name__}: {exc}"[:2000]}))
        raise
    detail = get_request(engine, request_id)
    reports = notifications if notifications is not None else {}
    if view.decision == "increase":
        team = sorted(ratelimit_team(engine, settings))
        reports["increase_requested"] = _send(engine, detail, "increase_requested",
                                              team + _readiness_team(engine), settings, sender, sleep, now)
    else:
        event = "no_change_needed" if view.decision == "no_change_needed" else "refused"
        reports[event] = _send(engine, detail, event, _decision_audience(engine, detail), settings,
                               sender, sleep, now)
    return view


@dataclass
class Decision:
    decision: str
    projected_peak_rpm: float | None
    proposed_limit_rpm: int | None
    extra_rps: float
    headroom_rps: float | None
    figures: dict
    reasoning: list[str]


def decide(row: SaleRequest, limit_rpm: int, profile: TrafficProfile | None, history_error: str | None,
           platform: cap.PlatformCapacity, holds: list[cap.Hold], settings: Settings) -> Decision:
    """The review's arithmetic, pure: every figure it used goes into ``figures``."""
    reasons: list[str] = []
    figures: dict[str, Any] = {
        "declared_peak_rpm": row.expected_peak_rpm, "declared_multiplier": row.expected_multiplier,
        "category": row.category_key, "category_limit_rpm": limit_rpm,
        "history": profile.as_dict() if profile else None, "history_error": history_error,
        "requests_per_merchant_request": settings.requests_per_merchant_request,
    }
    candidates: list[tuple[float, str]] = []
    if row.expected_peak_rpm is not None:
        candidates.append((row.expected_peak_rpm, "declared peak"))
    if profile is not None:
        reasons.append(f"history {Path(profile.source).name}: {profile.days} day(s) at {profile.step_seconds}s "
                       f"resolution; a normal day peaks at {profile.normal_rpm:.0f} rpm, the busiest interval "
                       f"reached {profile.peak_rpm:.0f} rpm")
        if row.expected_multiplier is not None:
            from_history = profile.normal_rpm * row.expected_multiplier
            figures["history_x_multiplier_rpm"] = round(from_history, 3)
            candidates.append((from_history, f"history x multiplier ({profile.normal_rpm:.0f} x "
                                             f"{row.expected_multiplier:g})"))
    elif history_error:
        reasons.append(f"history unreadable ({history_error}); using the declared figures only")
    else:
        reasons.append("no traffic history for this merchant; using the declared figures only")
    if not candidates:
        reasons.append("no declared peak and no history to apply the multiplier to: the platform cannot "
                       "assess the sale; resubmit with expected_peak_rpm")
        return Decision("refuse", None, None, 0.0, None, figures, reasons)
    projected, basis = max(candidates, key=lambda c: c[0])
    figures["projected_peak_rpm"] = round(projected, 3)
    figures["projected_basis"] = basis
    reasons.append(f"projected peak {projected:.0f} rpm (the larger of: "
                   + "; ".join(f"{what} {value:.0f}" for value, what in candidates) + ")")
    if projected <= limit_rpm:
        reasons.append(f"within the {row.category_key} limit of {limit_rpm} rpm: no change needed")
        return Decision("no_change_needed", projected, None, 0.0, None, figures, reasons)
    step = settings.limit_step_rpm
    proposed = int(math.ceil(projected / step) * step)
    extra_rps = (proposed - limit_rpm) / 60.0 * settings.requests_per_merchant_request
    figures.update(proposed_limit_rpm=proposed, extra_rps=round(extra_rps, 3),
                   platform=platform.as_dict())
    reasons.append(f"above the {row.category_key} limit of {limit_rpm} rpm: a temporary limit of {proposed} rpm "
                   f"adds {extra_rps:.2f} requests/s at each purchase-flow system")
    if platform.capacity_rps is None:
        reasons.append("FLAS capacity of the purchase flow unknown: " + "; ".join(platform.problems)
                       + "; an increase cannot be granted without it")
        return Decision("refuse", projected, None, extra_rps, None, figures, reasons)
    reserved = cap.peak_reserved(holds, row.starts_at, row.ends_at)
    headroom = max(0.0, platform.capacity_rps - reserved)
    figures.update(reserved_rps=round(reserved, 3), headroom_rps=round(headroom, 3),
                   overlapping=[{"request_id": h.request_id, "merchant_id": h.merchant_id,
                                 "reserved_rps": round(h.reserved_rps, 3)} for h in holds])
    reasons.append(f"FLAS capacity {platform.capacity_rps:.1f} requests/s (bottleneck {platform.bottleneck})"
                   f" minus {reserved:.1f} reserved by {len(holds)} overlapping sale(s) leaves "
                   f"{headroom:.1f} requests/s")
    if extra_rps <= headroom + EPSILON:
        reasons.append(f"{extra_rps:.2f} <= {headroom:.2f}: propose {proposed} rpm to the rate-limit team")
        return Decision("increase", projected, proposed, extra_rps, round(headroom, 3), figures, reasons)
    grantable = limit_rpm + int(math.floor(headroom * 60.0 / settings.requests_per_merchant_request))
    figures["max_grantable_limit_rpm"] = grantable
    reasons.append(f"{extra_rps:.2f} > {headroom:.2f}: refused, the platform cannot take it; the most it could "
                   f"grant in this window is {grantable} rpm")
    return Decision("refuse", projected, None, extra_rps, round(headroom, 3), figures, reasons)


# ------------------------------------------------------------------ decisions


def approve(engine: Engine, request_id: int, *, actor: str, limit_rpm: int | None = None, comment: str = "",
            now: datetime | None = None, settings: Settings | None = None, sender: Sender | None = None,
            sleep: Callable[[float], None] | None = None) -> RequestView:
    """The rate-limit team grants the increase (the proposal, or a lower ``limit_rpm``)."""
    now = now or utcnow()
    settings = settings or load_settings()
    _require_ratelimit(engine, actor, settings)
    platform = cap.purchase_flow_capacity(engine)  # read before taking the lock, to hold it briefly
    with session_scope(engine) as session:
        cap.lock_ledger(session, now)
        row = _get(session, request_id)
        if row.status != "increase_requested":
            raise InvalidTransition(f"request #{row.id} is {row.status}; only increase_requested can be approved")
        category = session.get(Category, row.category_key)
        granted = limit_rpm if limit_rpm is not None else row.proposed_limit_rpm
        if granted is None or granted <= category.rate_limit_rpm:
            raise InputError(FieldProblem("limit_rpm", f"must be above the {row.category_key} limit of "
                                                       f"{category.rate_limit_rpm} rpm"))
        if row.proposed_limit_rpm is not None and granted > row.proposed_limit_rpm:
            raise InputError(FieldProblem("limit_rpm", f"at most the reviewed proposal of {row.proposed_limit_rpm} "
                                                       "rpm (review again for more)"))
        extra = (granted - category.rate_limit_rpm) / 60.0 * settings.requests_per_merchant_request
        holds = cap.overlapping_holds(session, row.starts_at, row.ends_at, exclude=row.id)
        reserved = cap.peak_reserved(holds, row.starts_at, row.ends_at)
        if platform.capacity_rps is None:
            raise CapacityExceeded("FLAS capacity of the purchase flow unknown: " + "; ".join(platform.problems))
        headroom = max(0.0, platform.capacity_rps - reserved)
        if extra > headroom + EPSILON:
            raise CapacityExceeded(
                f"granting {granted} rpm adds {extra:.2f} requests/s but only {headroom:.2f} are left "
                f"(capacity {platform.capacity_rps:.2f}, reserved by overlapping sales {reserved:.2f}); "
                f"nothing was changed")
        row.granted_limit_rpm, row.reserved_rps = granted, extra
        session.add(Override(request_id=row.id, merchant_id=row.merchant_id, category_key=row.category_key,
                             limit_rpm=granted, starts_at=row.starts_at, expires_at=row.ends_at,
                             approved_by=actor, created_at=now))
        _transition(session, row, "approved", actor=actor, action="approve", now=now,
                    detail={"limit_rpm": granted, "extra_rps": round(extra, 3), "headroom_rps": round(headroom, 3),
                            "comment": comment})
    detail = get_request(engine, request_id)
    _send(engine, detail, "approved", _decision_audience(engine, detail), settings, sender, sleep, now,
          comment=comment)
    return detail.request


def reject(engine: Engine, request_id: int, *, actor: str, reason: str, now: datetime | None = None,
           settings: Settings | None = None, sender: Sender | None = None,
           sleep: Callable[[float], None] | None = None) -> RequestView:
    """The rate-limit team declines the increase; the hold is released."""
    now = now or utcnow()
    settings = settings or load_settings()
    _require_ratelimit(engine, actor, settings)
    if not reason.strip():
        raise InputError(FieldProblem("reason", "say why the increase is rejected"))
    with session_scope(engine) as session:
        cap.lock_ledger(session, now)
        row = _get(session, request_id)
        if row.status != "increase_requested":
            raise InvalidTransition(f"request #{row.id} is {row.status}; only increase_requested can be rejected")
        row.reserved_rps = 0.0
        _transition(session, row, "rejected", actor=actor, action="reject", now=now, detail={"reason": reason})
    detail = get_request(engine, request_id)
    _send(engine, detail, "rejected", _decision_audience(engine, detail), settings, sender, sleep, now,
          comment=reason)
    return detail.request


def cancel(engine: Engine, request_id: int, *, actor: str, reason: str = "", now: datetime | None = None,
           settings: Settings | None = None, sender: Sender | None = None,
           sleep: Callable[[float], None] | None = None) -> RequestView:
    """Withdraw a sale: its hold is released and an override ends now."""
    now = now or utcnow()
    settings = settings or load_settings()
    with session_scope(engine) as session:
        row = _get(session, request_id)
        stakeholders = {row.reporter, row.key_account_manager, row.solution_engineer}
    if actor not in stakeholders:
        _require_any_role(engine, actor, settings, ("readiness_team", "admin", RATELIMIT_TEAM),
                          what="cancel someone else's flash sale")
    with session_scope(engine) as session:
        cap.lock_ledger(session, now)
        row = _get(session, request_id)
        if row.status in TERMINAL:
            raise InvalidTransition(f"request #{row.id} is {row.status}; it cannot be cancelled")
        row.reserved_rps = 0.0
        override = session.exec(select(Override).where(Override.request_id == row.id)).scalars().first()
        if override is not None and override.revoked_at is None:
            override.revoked_at = now
            session.add(override)
        _transition(session, row, "cancelled", actor=actor, action="cancel", now=now, detail={"reason": reason})
    detail = get_request(engine, request_id)
    _send(engine, detail, "cancelled", _decision_audience(engine, detail), settings, sender, sleep, now,
          comment=reason)
    return detail.request


def advance(engine: Engine, *, now: datetime | None = None) -> list[tuple[int, str, str]]:
    """Move sales along with the clock: decided -> scheduled -> live -> completed. Idempotent."""
    now = now or utcnow()
    moved = []
    with session_scope(engine) as session:
        rows = session.exec(select(SaleRequest).where(SaleRequest.status.in_(
            ("no_change_needed", "approved", "scheduled", "live"))).order_by(SaleRequest.id)).scalars().all()
        for row in rows:
            steps = []
            if row.status in ("no_change_needed", "approved"):
                steps.append("scheduled")
            if row.starts_at <= now:
                steps.append("live")
            if row.ends_at <= now:
                steps.append("completed")
            for target in steps:
                if allowed(row.status, target):
                    before = row.status
                    _transition(session, row, target, actor=SYSTEM_ACTOR, action=f"advance_{target}", now=now)
                    moved.append((row.id, before, target))
    return moved


# ------------------------------------------------------------------ reads


def _get(session, request_id: int) -> SaleRequest:
    row = session.get(SaleRequest, request_id)
    if row is None:
        raise NotFound(f"no flash-sale request #{request_id}")
    return row


def list_requests(engine: Engine, *, status: str | None = None) -> list[RequestView]:
    with session_scope(engine) as session:
        query = select(SaleRequest).order_by(SaleRequest.id)
        if status:
            query = query.where(SaleRequest.status == status)
        return [_request_view(r) for r in session.exec(query).scalars()]


def get_request(engine: Engine, request_id: int) -> RequestDetail:
    with session_scope(engine) as session:
        row = _get(session, request_id)
        reviews = [_review_view(r) for r in session.exec(
            select(Review).where(Review.request_id == request_id).order_by(Review.id)).scalars()]
        audit = [AuditView(a.at, a.actor, a.action, a.from_status, a.to_status, dict(a.detail))
                 for a in session.exec(select(AuditEntry).where(AuditEntry.request_id == request_id)
                                       .order_by(AuditEntry.id)).scalars()]
        notes = [NotificationView(n.id, n.event, n.destination, list(n.recipients), n.subject, n.status,
                                  n.attempts, n.last_error, n.sent_at)
                 for n in session.exec(select(Notification).where(Notification.request_id == request_id)
                                       .order_by(Notification.id)).scalars()]
        override = session.exec(select(Override).where(Override.request_id == request_id)).scalars().first()
        override_view = None if override is None else {
            "merchant_id": override.merchant_id, "limit_rpm": override.limit_rpm,
            "starts_at": override.starts_at, "expires_at": override.expires_at,
            "approved_by": override.approved_by, "revoked_at": override.revoked_at}
        return RequestDetail(_request_view(row), reviews, audit, notes, override_view)


# ------------------------------------------------------------------ roles and audiences


def _require_ratelimit(engine: Engine, actor: str, settings: Settings) -> None:
    team = ratelimit_team(engine, settings)
    if actor not in team:
        listed = ", ".join(sorted(team)) or "nobody yet (flashsales roles grant USER)"
        raise PermissionDenied(f"{actor} is not in the central rate-limit team, which decides increases; "
                               f"members: {listed}")


def _require_any_role(engine: Engine, actor: str, settings: Settings, roles: tuple[str, ...], *, what: str) -> None:
    held = set(_catalog_people(engine).get(actor, set()))
    if actor in ratelimit_team(engine, settings):
        held.add(RATELIMIT_TEAM)
    if not held & set(roles):
        raise PermissionDenied(f"{actor} may not {what}: needs one of the roles {', '.join(roles)}")


def _readiness_team(engine: Engine) -> list[str]:
    return sorted(u for u, roles in _catalog_people(engine).items() if "readiness_team" in roles)


def impacted_people(engine: Engine) -> list[str]:
    """Accountable leads and on-call of the teams whose systems a surge reaches.

    FLAS systems are the purchase flow and everything it calls synchronously:
    the surge of a flash sale arrives at all of them within the same minutes.
    A team that names neither leads nor on-call is reached through its members.
    """
    import readiness

    teams = {s.team for s in readiness.active_systems(engine) if s.traffic_class == "FLAS"}
    contacts = readiness.team_contacts(engine)
    people: set[str] = set()
    for team in teams & contacts.keys():
        accountable = contacts[team].leads + contacts[team].oncall
        people.update(accountable or contacts[team].members)
    return sorted(people)


def _decision_audience(engine: Engine, detail: RequestDetail) -> list[str]:
    r = detail.request
    return sorted(set(impacted_people(engine)) | {r.reporter, r.key_account_manager, r.solution_engineer}
                  | set(_readiness_team(engine)))


# ------------------------------------------------------------------ messages


def _local(moment: datetime, offset: str) -> str:
    sign = 1 if offset.startswith("+") else -1
    hours, minutes = offset[1:].split(":")
    delta = timedelta(hours=int(hours), minutes=int(minutes)) * sign
    return (moment.replace(tzinfo=UTC) + delta).strftime("%Y-%m-%d %H:%M") + f" {offset}"


def compose(detail: RequestDetail, event: str, *, comment: str = "") -> Message:
    """Subject and body of a notification: schedule, countries, peak times, limits, reasoning."""
    r = detail.request
    review_ = detail.latest_review
    titles = {"submitted": "new flash sale announced", "increase_requested": "temporary rate-limit increase requested",
              "no_change_needed": "no rate-limit change needed", "refused": "refused: the platform cannot take it",
              "approved": "temporary rate-limit increase approved", "rejected": "rate-limit increase rejected",
              "cancelled": "flash sale cancelled"}
    window = f"{_local(r.starts_at, r.utc_offset)} to {_local(r.ends_at, r.utc_offset)}"
    if r.granted_limit_rpm:
        limit = f"{r.granted_limit_rpm} rpm (temporary, until {_local(r.ends_at, r.utc_offset)})"
    elif r.proposed_limit_rpm:
        limit = f"{r.proposed_limit_rpm} rpm proposed"
    else:
        limit = f"unchanged at the {r.category} limit" + (f" of {review_.category_limit_rpm} rpm" if review_ else "")
    subject = f"[flash sale #{r.id}] {titles.get(event, event)}: {r.merchant_name} ({r.merchant_id}), {window}"
    lines = [
        f"Flash sale #{r.id}: {titles.get(event, event)}",
        f"Merchant: {r.merchant_name} ({r.merchant_id}), category {r.category}",
        f"Status: {r.status}",
        f"Schedule: {window} (UTC {r.starts_at:%Y-%m-%d %H:%M} to {r.ends_at:%Y-%m-%d %H:%M})",
        f"Countries: {', '.join(r.countries)}",
        "Expected peak times: throughout the window"
        + (f"; the merchant's busiest hour is usually {review_.figures['history']['busiest_hour']:02d}:00 local"
           if review_ and (review_.figures.get("history") or {}).get("busiest_hour") is not None else ""),
        f"Expected peak: {review_.projected_peak_rpm:.0f} rpm" if review_ and review_.projected_peak_rpm
        else f"Declared: peak {r.expected_peak_rpm} rpm, multiplier {r.expected_multiplier}",
        f"Rate limit: {limit}",
        f"Reporter: {r.reporter}; key account manager: {r.key_account_manager}; "
        f"solution engineer: {r.solution_engineer}",
    ]
    if comment:
        lines.append(f"Comment: {comment}")
    if review_:
        lines.append("Review:")
        lines += [f"  - {reason}" for reason in review_.reasoning]
    if r.notes:
        lines.append(f"Notes: {r.notes}")
    return Message(event, subject, "\n".join(lines), ())


def _send(engine: Engine, detail: RequestDetail, event: str, recipients: list[str], settings: Settings,
          sender: Sender | None, sleep: Callable[[float], None] | None, now: datetime, *,
          comment: str = "") -> dict:
    message = compose(detail, event, comment=comment)
    message = Message(message.event, message.subject, message.body, tuple(sorted(set(recipients))))
    options = {"sender": sender, "now": now}
    if sleep is not None:
        options["sleep"] = sleep
    try:
        report = deliver(engine, detail.request.id, message, settings, **options)
    except Exception as exc:  # the decision is committed; a broken outbox must not hide it
        with session_scope(engine) as session:
            session.add(AuditEntry(request_id=detail.request.id, at=now, actor=SYSTEM_ACTOR,
                                   action="notification_failed",
                                   detail={"event": event, "error": f"{type(exc).__name__}: {exc}"[:2000]}))
        return {"error": f"{type(exc).__name__}: {exc}"}
    return asdict(report)
