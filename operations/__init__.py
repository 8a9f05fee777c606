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
- digests: ``build_digests``, ``build_reminders``, ``build_milestone_nudges`` (nudges before the
  season's milestones, overdue lists after), ``Channel``, ``Message``, ``Delivery``
"""

from operations.channel import Channel, Delivery
from operations.config import NotifyConfig, ServeConfig, build_sources, load_config
from operations.digests import Message, build_digests
from operations.metrics import ReadinessCollector, ServeMetrics, build_registry, start_server
from operations.milestones import build_milestone_nudges
from operations.reminders import build_reminders
from operations.serve import (
    CycleReport,
    Service,
    Stopper,
    cycle_hooks,
    missed_run,
    next_fire,
    serve_forever,
)

__all__ = [
    "Channel", "CycleReport", "Delivery", "Message", "NotifyConfig", "ReadinessCollector", "ServeConfig",
    "ServeMetrics", "Service", "Stopper", "build_digests", "build_milestone_nudges", "build_registry",
    "build_reminders",
    "build_sources", "cycle_hooks", "load_config", "missed_run", "next_fire", "serve_forever",
    "start_server",
]
