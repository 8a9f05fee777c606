"""flashsales tables: categories and merchants, requests with reviews, overrides, audit, outbox.

Timestamps are naive UTC (``storage.utcnow()``). A request's ``reserved_rps`` is its
hold on the platform's FLAS headroom while it is proposed or granted; every change
to holds first locks the single ``flashsales_ledger`` row, so concurrent reviews and
approvals are serialised (see flashsales.capacity).
"""

from __future__ import annotations

from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel


def _json_list(**kwargs: Any) -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False), **kwargs)


def _json_dict(**kwargs: Any) -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False), **kwargs)


class Category(SQLModel, table=True):
    """A merchant category and its current rate limit per merchant."""

    __tablename__ = "flashsales_category"
    key: str = Field(primary_key=True, max_length=64)
    name: str
    rate_limit_rpm: int
    updated_at: NaiveDatetime
    updated_by: str = ""


class Merchant(SQLModel, table=True):
    __tablename__ = "flashsales_merchant"
    merchant_id: str = Field(primary_key=True, max_length=64)
    name: str
    category_key: str = Field(foreign_key="flashsales_category.key", index=True)
    history_path: str | None = None  # a timestamp,value file of the merchant's requests
    updated_at: NaiveDatetime


class SaleRequest(SQLModel, table=True):
    """One managed flash sale as announced, with its current state and holds."""

    __tablename__ = "flashsales_request"
    __table_args__ = (Index("ix_flashsales_request_window", "starts_at", "ends_at"),)
    id: int | None = Field(default=None, primary_key=True)
    merchant_id: str = Field(index=True, max_length=64)
    merchant_name: str
    category_key: str = Field(foreign_key="flashsales_category.key")
    reporter: str
    key_account_manager: str
    solution_engineer: str
    countries: list = _json_list()
    starts_at: NaiveDatetime
    ends_at: NaiveDatetime
    utc_offset: str = "+00:00"  # the offset the reporter wrote, to show times as they did
    expected_peak_rpm: float | None = None
    expected_multiplier: float | None = None
    notes: str = ""
    status: str = Field(index=True, max_length=32)
    submitted_by: str
    submitted_at: NaiveDatetime
    updated_at: NaiveDatetime
    proposed_limit_rpm: int | None = None
    granted_limit_rpm: int | None = None
    reserved_rps: float = 0.0
    content_hash: str = ""


class Review(SQLModel, table=True):
    """One evaluation of a request: the decision, its figures and its reasoning."""

    __tablename__ = "flashsales_review"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="flashsales_request.id", index=True)
    reviewed_at: NaiveDatetime
    decision: str  # no_change_needed | increase | refuse
    projected_peak_rpm: float | None = None
    category_limit_rpm: int
    proposed_limit_rpm: int | None = None
    extra_rps: float = 0.0
    headroom_rps: float | None = None
    figures: dict = _json_dict()
    reasoning: list = _json_list()


class Override(SQLModel, table=True):
    """A temporary per-merchant limit, effective from ``starts_at`` until ``expires_at``."""

    __tablename__ = "flashsales_override"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="flashsales_request.id", index=True, unique=True)
    merchant_id: str = Field(index=True, max_length=64)
    category_key: str = Field(foreign_key="flashsales_category.key")
    limit_rpm: int
    starts_at: NaiveDatetime
    expires_at: NaiveDatetime = Field(index=True)
    approved_by: str
    created_at: NaiveDatetime
    revoked_at: NaiveDatetime | None = None


class AuditEntry(SQLModel, table=True):
    """Every state change and decision, with who and when."""

    __tablename__ = "flashsales_audit"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int | None = Field(default=None, foreign_key="flashsales_request.id", index=True)
    at: NaiveDatetime
    actor: str
    action: str
    from_status: str | None = None
    to_status: str | None = None
    detail: dict = _json_dict()


class Ledger(SQLModel, table=True):
    """The one row every headroom change locks first (SELECT ... FOR UPDATE / write lock)."""

    __tablename__ = "flashsales_ledger"
    id: int = Field(primary_key=True)
    version: int = 0
    updated_at: NaiveDatetime | None = None


class RoleGrant(SQLModel, table=True):
    """Configured membership of the central rate-limit team (more may come from settings)."""

    __tablename__ = "flashsales_role"
    user_name: str = Field(primary_key=True, max_length=200)
    role: str = Field(primary_key=True, max_length=64)
    granted_by: str
    granted_at: NaiveDatetime
