"""The identity tables: personal API tokens (only their hash) and the database's demo mark."""

from __future__ import annotations

from pydantic import NaiveDatetime
from sqlmodel import Field, SQLModel


class ApiToken(SQLModel, table=True):
    """One personal API token. The secret itself is never stored: only its SHA-256, and a
    short hint (its first characters) so a person can tell their tokens apart in a list.
    Rows are never deleted: a revoked or expired token stays as the record of who held it."""

    __tablename__ = "identity_token"
    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(max_length=120, index=True)  # the user name the token proves (as in the catalog)
    secret_hash: str = Field(max_length=64, unique=True, index=True)  # sha256 hex of the whole secret
    hint: str = Field(max_length=16)  # e.g. "peak_3fQ9" (never enough to use the token)
    note: str = Field(default="", max_length=200)
    issued_by: str = Field(max_length=120)
    issued_at: NaiveDatetime  # UTC, as everywhere in storage
    expires_at: NaiveDatetime
    revoked_at: NaiveDatetime | None = None
    revoked_by: str | None = Field(default=None, max_length=120)


class DatabaseMark(SQLModel, table=True):
    """Marks on the database itself; ``demo`` means `readiness demo` built it (``--as`` alone is trusted)."""

    __tablename__ = "identity_mark"
    name: str = Field(primary_key=True, max_length=32)
    set_at: NaiveDatetime
