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

from storage import lazy_surface

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


lazy_surface(__name__, _EXPORTS)
