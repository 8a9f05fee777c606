"""Team-managed checks, waivers, roles and the audit log (being built: issue 3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine


def overlays_for(engine: Engine, now: datetime) -> list:
    """Overlays applied after evaluation: active waivers."""
    return []


def sources_for(engine: Engine, now: datetime) -> list:
    """Fact sources kept in our own tables: the review states of team-managed checks."""
    return []
