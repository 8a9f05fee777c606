"""Shared storage plumbing: one engine factory, one metadata, migrations.

Every bounded context keeps its table models in its own ``models.py`` and its
Alembic revisions in its own ``migrations/`` branch; this package only knows
how to connect and how to bring a database to the latest schema.
"""

from storage.engine import database_url, dumps_json, get_engine, loads_json, session_scope, utcnow
from storage.migrate import migrate

__all__ = ["database_url", "dumps_json", "get_engine", "loads_json", "migrate", "session_scope", "utcnow"]
