"""Categories with their rate limits, and merchants with their traffic history files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flashsales.errors import FieldProblem, InputError
from flashsales.models import AuditEntry, Category, Merchant
from flashsales.roles import SYSTEM_ACTOR, require_ratelimit
from flashsales.settings import Settings, load_settings
from storage import session_scope, utcnow


def set_category(engine: Engine, key: str, *, rate_limit_rpm: int, name: str | None = None,
                 actor: str = SYSTEM_ACTOR, settings: Settings | None = None, now: datetime | None = None) -> None:
    """Create a category or change its rate limit (requests per minute per merchant).

    People need the rate-limit team role; setup code (the demo, imports) acts as ``SYSTEM_ACTOR``.
    """
    if actor != SYSTEM_ACTOR:
        require_ratelimit(engine, actor, settings or load_settings())
    key = key.strip().lower()
    _check_category(key, rate_limit_rpm)
    with session_scope(engine) as session:
        _save_category(session, key, rate_limit_rpm, name, actor, now or utcnow())


def _check_category(key: str, rate_limit_rpm: int) -> None:
    problems = []
    if not key or len(key) > 64:
        problems.append(FieldProblem("category", "1 to 64 characters"))
    if not isinstance(rate_limit_rpm, int) or rate_limit_rpm < 1:
        problems.append(FieldProblem("rate_limit_rpm", "a whole number of requests per minute, at least 1"))
    if problems:
        raise InputError(problems)


def _save_category(session: Session, key: str, rate_limit_rpm: int, name: str | None, actor: str,
                   now: datetime) -> None:
    """Store the change and audit a new limit; an unchanged category keeps who changed it last and when."""
    row = session.get(Category, key)
    before = row.rate_limit_rpm if row else None
    if row is None:
        row = Category(key=key, name=name or key, rate_limit_rpm=rate_limit_rpm, updated_at=now, updated_by=actor)
    elif before == rate_limit_rpm and (not name or name == row.name):
        return
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
