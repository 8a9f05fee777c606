"""Package surfaces that load each public name from its module on first use (PEP 562).

Importing a package, or a light submodule of it such as its CLI, then imports neither the
whole context nor its heavy dependencies (`--help` answers at once); every name in the
package's ``__all__`` still resolves (tests/clikit/test_startup.py checks).
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType


class _Package(ModuleType):
    """Keeps a public function that shares its name with a submodule (``storage.migrate``,
    ``kapacity.capacity``, ``operations.season_report``...) the function once that submodule is
    imported: the import system binds a submodule to its package's attribute."""

    def __setattr__(self, name: str, value) -> None:
        if name in self.__dict__.get("_EXPORTS", ()) and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


def lazy_surface(package: str, exports: dict[str, str]) -> None:
    """Make ``package`` load each name of ``exports`` (name -> ``module`` or ``module:attribute``)
    on first use; any other attribute is looked up as a submodule, as eager imports allowed."""
    module = sys.modules[package]
    namespace = module.__dict__

    def __getattr__(name: str):
        target = exports.get(name)
        if target is None:
            if name.startswith("__"):
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            try:
                return import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        where, _, attr = target.partition(":")
        value = getattr(import_module(where), attr or name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    namespace["_EXPORTS"] = exports
    namespace["__getattr__"] = __getattr__
    namespace["__dir__"] = __dir__
    module.__class__ = _Package
