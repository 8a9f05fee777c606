"""The outbox table: one row per message and destination channel, written before anything is sent."""

from __future__ import annotations

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class OutboxMessage(SQLModel, table=True):
    """A message to one audience through one channel; ``key`` makes a second send impossible."""

    __tablename__ = "notifications_outbox"
    __table_args__ = (UniqueConstraint("key", name="uq_notifications_outbox_key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)  # <message key>|<masked destination>: one send per message and channel
    message_key: str = Field(max_length=160, index=True)  # e.g. flashsales:7:approved, digest:team:pay:2026-09-01
    source: str = Field(max_length=32, index=True)  # readiness | flashsales
    kind: str = Field(max_length=64)  # digest | reminder | flashsale.review | flashsale.decision | ...
    ref: str = Field(default="", max_length=120, index=True)  # what it is about: flashsale:7, team:payments
    audience: str = Field(max_length=300)  # the routing chain, e.g. team:pay>group:core>domain:checkout
    destination: str = Field(default="")  # the URL with secrets masked; "" while no channel exists
    recipients: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str
    body: str
    status: str = Field(default="pending", max_length=16, index=True)  # see outbox.STATUSES
    attempts: int = 0
    last_error: str | None = None
    created_at: NaiveDatetime  # UTC, as everywhere in storage
    next_attempt_at: NaiveDatetime | None = None
    last_attempt_at: NaiveDatetime | None = None
    sent_at: NaiveDatetime | None = None
