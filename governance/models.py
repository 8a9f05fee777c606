"""Governance tables: reviews of team-managed checks, their decisions, waivers, the audit log.

Written only through the ``governance`` service functions, which check the actor's role.
The tables keep their ``readiness_`` names: they were created by the readiness branch's
revision ``readiness_0002``, which stays where it is (see docs/governance.md, "Storage").
"""

from __future__ import annotations

from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

import readiness  # noqa: F401  (registers readiness_system, which reviews and waivers refer to)


def _json(**kwargs: Any) -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False), **kwargs)


class Review(SQLModel, table=True):
    """One submission of answers to a team-managed check, and where its review stands.

    ``state`` is the state as of the last write or expiry sweep; the fact source
    derives the state at the evaluation's ``now`` from submissions and decisions.
    """

    __tablename__ = "readiness_review"
    __table_args__ = (Index("ix_readiness_review_system_rule", "system_id", "rule_id"),)
    id: int | None = Field(default=None, primary_key=True)
    system_id: str = Field(foreign_key="readiness_system.system_id", max_length=100)
    rule_id: str = Field(max_length=100)
    rule_version: str = ""
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    evidence: list[dict] = _json()
    answers_hash: str = Field(default="", max_length=64)
    submitted_by: str = Field(max_length=200)
    submitted_at: NaiveDatetime
    needs: list[str] = _json()  # approvals required: architect, and readiness_team for critical systems
    state: str = Field(default="pending", max_length=20)  # pending|approved|rejected|expired|superseded
    decided_at: NaiveDatetime | None = None
    expires_at: NaiveDatetime | None = None
    closed_at: NaiveDatetime | None = None  # when it expired or was superseded
    closed_reason: str = ""


class ReviewDecision(SQLModel, table=True):
    """One approval or rejection of a review, in one capacity (architect or readiness team)."""

    __tablename__ = "readiness_review_decision"
    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="readiness_review.id", index=True)
    actor: str = Field(max_length=200)
    capacity: str = Field(max_length=20)  # architect | readiness_team
    decision: str = Field(max_length=10)  # approve | reject
    comment: str = ""
    at: NaiveDatetime


class Waiver(SQLModel, table=True):
    """A documented, approved exception for one rule on one system until a date."""

    __tablename__ = "readiness_waiver"
    __table_args__ = (Index("ix_readiness_waiver_system_rule", "system_id", "rule_id"),)
    id: int | None = Field(default=None, primary_key=True)
    system_id: str = Field(foreign_key="readiness_system.system_id", max_length=100)
    rule_id: str = Field(max_length=100)
    reason: str
    expires_at: NaiveDatetime  # the first moment the waiver no longer applies
    requested_by: str = Field(max_length=200)
    requested_at: NaiveDatetime
    state: str = Field(default="requested", max_length=20)  # requested|approved|revoked|expired
    approved_by: str | None = None
    approved_at: NaiveDatetime | None = None
    approval_comment: str = ""
    revoked_by: str | None = None
    revoked_at: NaiveDatetime | None = None
    revoke_reason: str = ""
    expired_at: NaiveDatetime | None = None  # when the expiry was recorded


class AuditEntry(SQLModel, table=True):
    """Append-only: every governance write, with who, when, and the entity before and after.

    The migration adds database triggers that refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "readiness_audit"
    __table_args__ = (Index("ix_readiness_audit_entity", "entity"),)
    id: int | None = Field(default=None, primary_key=True)
    at: NaiveDatetime = Field(index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=50)
    entity: str = Field(max_length=150)  # review:12, waiver:3, role:ada
    system_id: str | None = Field(default=None, max_length=100, index=True)
    rule_id: str | None = Field(default=None, max_length=100)
    before: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
