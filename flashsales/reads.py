"""Reading requests back: the list, and one request with its reviews, audit and notifications."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

import notifications
from flashsales.errors import NotFound
from flashsales.models import AuditEntry, Override, Review, SaleRequest
from flashsales.views import (
    RequestDetail,
    RequestView,
    audit_view,
    notification_view,
    override_view,
    request_view,
    review_view,
)
from storage import session_scope


def get_row(session: Session, request_id: int) -> SaleRequest:
    """The stored request; :class:`NotFound` names the id."""
    row = session.get(SaleRequest, request_id)
    if row is None:
        raise NotFound(f"no flash-sale request #{request_id}")
    return row


def list_requests(engine: Engine, *, status: str | None = None) -> list[RequestView]:
    with session_scope(engine) as session:
        query = select(SaleRequest).order_by(SaleRequest.id)
        if status:
            query = query.where(SaleRequest.status == status)
        return [request_view(r) for r in session.exec(query).scalars()]


def get_request(engine: Engine, request_id: int) -> RequestDetail:
    with session_scope(engine) as session:
        row = get_row(session, request_id)
        reviews = [review_view(r) for r in _of_request(session, Review, request_id)]
        audit = [audit_view(a) for a in _of_request(session, AuditEntry, request_id)]
        override = session.exec(select(Override).where(Override.request_id == request_id)).scalars().first()
        detail = RequestDetail(request_view(row), reviews, audit, [], override_view(override))
    notes = [notification_view(n) for n in notifications.list_messages(engine, ref=f"flashsale:{request_id}")]
    return replace(detail, notifications=notes)


def _of_request(session: Session, table: type, request_id: int) -> list:
    """Rows of ``table`` belonging to one request, in the order they were written."""
    query = select(table).where(table.request_id == request_id).order_by(table.id)
    return list(session.exec(query).scalars())
