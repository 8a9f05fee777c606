"""Shared storage plumbing: one engine factory, one metadata, migrations.

Every bounded context keeps its table models in its own ``models.py`` and its
Alembic revisions in its own ``migrations/`` branch; this package only knows
how to connect and how to bring a database to the latest schema. It also reads
what comes from outside safely: YAML within limits (``storage.safeyaml``) and
numbers within what the storage keeps (``storage.bounds``).
"""

from storage.bounds import MAX_DECIMAL, MAX_WHOLE, number_problem, out_of_bounds
from storage.engine import database_url, dumps_json, get_engine, loads_json, session_scope, utcnow
from storage.migrate import migrate
from storage.safeyaml import MAX_BYTES as MAX_YAML_BYTES
from storage.safeyaml import (
    YamlDocument,
    YamlError,
    YamlLimitError,
    load_document,
    load_documents,
    load_yaml,
    read_config,
    read_text,
)

__all__ = ["MAX_DECIMAL", "MAX_WHOLE", "MAX_YAML_BYTES", "YamlDocument", "YamlError", "YamlLimitError", "database_url", "dumps_json",
           "get_engine", "load_document", "load_documents", "load_yaml", "loads_json", "migrate", "number_problem",
           "out_of_bounds", "read_config", "read_text", "session_scope", "utcnow"]
