"""Categories with their rate limits, and merchants with their traffic history files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flashsales.errors import FieldProblem, InputError
from flashsales.models import AuditEntry, Category, Merchant
from flashsales.ratelimits import limit_problem
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
    limit = limit_problem("rate_limit_rpm", rate_limit_rpm)
    if limit:
        problems.append(limit)
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
                    history_path: str | Path | None = None, actor: str = SYSTEM_ACTOR,
                    settings: Settings | None = None, now: datetime | None = None) -> None:
    """Register a merchant, its category and its history file; a change is audited.

    People need the rate-limit team role (the category sets the merchant's limit) and a
    history file inside the configured history directory; setup code (the demo, imports)
    acts as ``SYSTEM_ACTOR``.
    """
    if actor != SYSTEM_ACTOR:
        settings = settings or load_settings()
        require_ratelimit(engine, actor, settings)
        if history_path is not None:
            history_path = confined_history(history_path, settings.history_dir)
    now = now or utcnow()
    with session_scope(engine) as session:
        if session.get(Category, category) is None:
            raise InputError(FieldProblem("category", f"unknown category {category!r}"))
        _save_merchant(session, merchant_id, name, category, history_path, actor, now)


def confined_history(path: str | Path, directory: Path | None) -> str:
    """The history file's resolved path, if it is a file inside ``directory`` (links followed)."""
    if directory is None:
        raise InputError(FieldProblem("history", "no history directory is configured: set "
                                                 "PEAK_FLASHSALES_HISTORY_DIR (or history_dir in the settings "
                                                 "file) to the folder holding merchant histories"))
    root, resolved = Path(directory).resolve(), Path(path).resolve()
    if not resolved.is_relative_to(root):
        raise InputError(FieldProblem("history", f"{path} is outside the history directory {root}"))
    if not resolved.is_file():
        raise InputError(FieldProblem("history", f"{path} is not a file in the history directory {root}"))
    return str(resolved)


def _save_merchant(session: Session, merchant_id: str, name: str, category: str,
                   history_path: str | Path | None, actor: str, now: datetime) -> None:
    row = session.get(Merchant, merchant_id)
    before = None if row is None else {"name": row.name, "category": row.category_key,
                                       "history_path": row.history_path}
    row = row or Merchant(merchant_id=merchant_id, name=name, category_key=category, updated_at=now)
    path = str(history_path) if history_path is not None else row.history_path
    after = {"name": name, "category": category, "history_path": path}
    if before != after or row.updated_at == now:
        row.name, row.category_key, row.history_path, row.updated_at = name, category, path, now
        session.add(row)
    if before != after:
        session.add(AuditEntry(at=now, actor=actor, action="merchant_set",
                               detail={"merchant_id": merchant_id, "from": before, "to": after}))


def list_merchants(engine: Engine) -> list[dict]:
    with session_scope(engine) as session:
        return [{"merchant_id": m.merchant_id, "name": m.name, "category": m.category_key,
                 "history_path": m.history_path}
                for m in session.exec(select(Merchant).order_by(Merchant.merchant_id)).scalars()]
