"""Shared storage plumbing: one engine factory, one metadata, migrations.

Every bounded context keeps its table models in its own ``models.py`` and its
Alembic revisions in its own ``migrations/`` branch; this package only knows
how to connect and how to bring a database to the latest schema. It also reads
what comes from outside safely: YAML within limits (``storage.safeyaml``) and
numbers within what the storage keeps (``storage.bounds``).
"""

import sys
from importlib import import_module
from types import ModuleType

# Each public name loads from its module on first use (PEP 562): importing the package, or a
# light submodule of it such as its CLI, does not import the whole context and its heavy
# dependencies. tests/clikit/test_startup.py checks every name here resolves.
_EXPORTS = {
    "MAX_DECIMAL": "storage.bounds",
    "MAX_WHOLE": "storage.bounds",
    "number_problem": "storage.bounds",
    "out_of_bounds": "storage.bounds",
    "database_url": "storage.engine",
    "dumps_json": "storage.engine",
    "get_engine": "storage.engine",
    "loads_json": "storage.engine",
    "session_scope": "storage.engine",
    "utcnow": "storage.engine",
    "migrate": "storage.migrate",
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

__all__ = ["MAX_DECIMAL", "MAX_WHOLE", "MAX_YAML_BYTES", "YamlDocument", "YamlError", "YamlLimitError", "database_url", "dumps_json",
           "get_engine", "load_document", "load_documents", "load_yaml", "loads_json", "migrate", "number_problem",
           "out_of_bounds", "read_config", "read_text", "session_scope", "utcnow"]


def __getattr__(name: str):
    target = _EXPORTS.get(name)
    if target is None:
        if name.startswith("__"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        try:  # a submodule asked for as an attribute, as the eager imports used to allow
            return import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module, _, attr = target.partition(":")
    value = getattr(import_module(module), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


class _Package(ModuleType):
    """Keeps `storage.migrate` the public function when its submodule of the same name is imported:
    the import system binds a submodule to its package's attribute, which the eager imports
    used to overwrite straight away."""

    def __setattr__(self, name: str, value) -> None:
        if name in _EXPORTS and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
