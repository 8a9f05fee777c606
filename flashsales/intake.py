"""Filing a request: validate it against the stored categories and merchants, store it, review it.

A request is stored before its review, so a review that fails (a database or
capacity-source problem) never loses it: it stays under review, reviewable again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from flashsales.audiences import readiness_team
from flashsales.errors import FlashSalesError
from flashsales.messages import Delivery, send
from flashsales.models import AuditEntry, Category, Merchant, SaleRequest
from flashsales.notify import Sender
from flashsales.reads import get_request
from flashsales.review import review
from flashsales.schema import SaleRequestIn, ValidationContext, load_request_file, validate_request
from flashsales.settings import Settings, load_settings
from flashsales.views import ReviewView, SubmitResult
from storage import session_scope, utcnow


def validation_context(engine: Engine, now: datetime | None = None) -> ValidationContext:
    """What validation checks a request against: known categories, merchants and their history files."""
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
    actor = actor or request.reporter
    request_id = _store(engine, request, actor, origin, now)
    detail = get_request(engine, request_id)
    reports = {"submitted": send(engine, Delivery(settings, now, sender, sleep), detail, "submitted",
                                 readiness_team(engine) + [request.reporter])}
    review_view, error = _first_review(engine, request_id, now=now, settings=settings, sender=sender,
                                       sleep=sleep, notifications=reports)
    return SubmitResult(get_request(engine, request_id).request, review_view, error, reports)


def _store(engine: Engine, request: SaleRequestIn, actor: str, origin: str, now: datetime) -> int:
    """The new request's id; a merchant seen for the first time is added to the catalogue."""
    start, end = request.utc_window()
    content = json.dumps(request.model_dump(mode="json"), sort_keys=True)
    with session_scope(engine) as session:
        if session.get(Merchant, request.merchant_id) is None:
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
        return row.id


def _first_review(engine: Engine, request_id: int, **options: Any) -> tuple[ReviewView | None, str | None]:
    """The review, or why it failed: the stored request must survive any failure."""
    try:
        return review(engine, request_id, **options), None
    except FlashSalesError as exc:
        return None, str(exc)
    except Exception as exc:  # a database or capacity-source failure must not lose the stored request
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
