"""Shared storage plumbing: one engine factory, one metadata, migrations.

Every bounded context keeps its table models in its own ``models.py`` and its
Alembic revisions in its own ``migrations/`` branch; this package only knows
how to connect and how to bring a database to the latest schema. It also reads
what comes from outside safely: YAML within limits (``storage.safeyaml``) and
numbers within what the storage keeps (``storage.bounds``).
"""

from storage.lazy import lazy_surface

# Each public name loads from its module on first use (PEP 562): importing the package, or a
# light submodule of it such as its CLI, does not import the whole context and its heavy
# dependencies. tests/clikit/test_startup.py checks every name here resolves.
_EXPORTS = {
    "MAX_DECIMAL": "storage.bounds",
    "MAX_WHOLE": "storage.bounds",
    "number_problem": "storage.bounds",
    "out_of_bounds": "storage.bounds",
    "database_url": "storage.urls",
    "PlainReader": "storage.plainsql",
    "current_sqlite_reader": "storage.plainsql",
    "engine_reader": "storage.plainsql",
    "dumps_json": "storage.engine",
    "get_engine": "storage.engine",
    "loads_json": "storage.engine",
    "refresh_statistics": "storage.engine",
    "session_scope": "storage.engine",
    "utcnow": "storage.engine",
    "migrate": "storage.migrate",
    "lazy_surface": "storage.lazy",
    "MAX_YAML_BYTES": "storage.safeyaml:MAX_BYTES",
    "YamlDocument": "storage.safeyaml",
    "YamlError": "storage.safeyaml",
    "YamlLimitError": "storage.safeyaml",
    "load_document": "storage.safeyaml",
    "load_documents": "storage.safeyaml",
    "load_yaml": "storage.safeyaml",
    "read_config": "storage.safeyaml",
    "read_text": "storage.safeyaml",
}

__all__ = ["MAX_DECIMAL", "MAX_WHOLE", "MAX_YAML_BYTES", "PlainReader", "YamlDocument", "YamlError",
           "YamlLimitError", "current_sqlite_reader", "database_url", "dumps_json", "engine_reader",
           "get_engine", "lazy_surface", "load_document", "load_documents", "load_yaml", "loads_json",
           "migrate", "number_problem", "out_of_bounds", "read_config", "read_text", "refresh_statistics",
           "session_scope", "utcnow"]


lazy_surface(__name__, _EXPORTS)
