"""Operations: the platform as a long-lived process, composed of the other contexts.

``readiness serve`` (scheduled cycles: expiries, other contexts' cycle hooks, fact
collection, evaluation), Prometheus ``/metrics``, weekly digests and expiry
reminders, and their commands (``readiness serve``, ``readiness digest``, added to the
``readiness`` command through the ``peak_readiness.cli`` entry point).

Public surface:
- configuration: ``ServeConfig``, ``NotifyConfig``, ``load_config``, ``build_sources``
- service: ``Service``, ``CycleReport``, ``Stopper``, ``serve_forever``, ``cycle_hooks``,
  ``next_fire``, ``missed_run``
- metrics: ``build_registry``, ``start_server``, ``ReadinessCollector``, ``ServeMetrics``
- digests: ``build_digests``, ``build_reminders``, ``build_milestone_nudges``, ``Channel``, ``Message``, ``Delivery``
- the season report: ``season_report`` (Markdown or HTML), ``build_report``, ``render_markdown``,
  ``render_html``, ``SeasonReport``, ``Section``
"""

import sys
from importlib import import_module
from types import ModuleType

# Each public name loads from its module on first use (PEP 562): importing the package, or a
# light submodule of it such as its CLI, does not import the whole context and its heavy
# dependencies. tests/clikit/test_startup.py checks every name here resolves.
_EXPORTS = {
    "Channel": "operations.channel",
    "Delivery": "operations.channel",
    "NotifyConfig": "operations.config",
    "ServeConfig": "operations.config",
    "build_sources": "operations.config",
    "load_config": "operations.config",
    "Message": "operations.digests",
    "build_digests": "operations.digests",
    "ReadinessCollector": "operations.metrics",
    "ServeMetrics": "operations.metrics",
    "build_registry": "operations.metrics",
    "start_server": "operations.metrics",
    "build_reminders": "operations.reminders",
    "build_milestone_nudges": "operations.milestones",
    "CycleReport": "operations.serve",
    "Service": "operations.serve",
    "Stopper": "operations.serve",
    "cycle_hooks": "operations.serve",
    "missed_run": "operations.serve",
    "next_fire": "operations.serve",
    "serve_forever": "operations.serve",
    "SeasonReport": "operations.season_report",
    "Section": "operations.season_report",
    "build_report": "operations.season_report",
    "render_html": "operations.season_report",
    "render_markdown": "operations.season_report",
    "season_report": "operations.season_report",
}

__all__ = [
    "Channel", "CycleReport", "Delivery", "Message", "NotifyConfig", "ReadinessCollector", "ServeConfig",
    "ServeMetrics", "Service", "Stopper", "build_digests", "build_milestone_nudges", "build_registry",
    "build_reminders",
    "build_sources", "cycle_hooks", "load_config", "missed_run", "next_fire", "serve_forever",
    "start_server",
    # the season report
    "SeasonReport", "Section", "build_report", "render_html", "render_markdown", "season_report",
]


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
    """Keeps `operations.season_report` the public function when its submodule of the same name is
    imported: the import system binds a submodule to its package's attribute."""

    def __setattr__(self, name: str, value) -> None:
        if name in _EXPORTS and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
