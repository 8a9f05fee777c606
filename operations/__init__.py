"""Operations: the platform as a long-lived process, composed of the other contexts.

``readiness serve`` (scheduled cycles: expiries, other contexts' cycle hooks, fact
collection, evaluation), Prometheus ``/metrics``, weekly digests and expiry
reminders, and their commands (``readiness serve``, ``readiness digest``, added to the
``readiness`` command through the ``peak_readiness.cli`` entry point).

Public surface:
- service: ``ServeConfig``, ``NotifyConfig``, ``load_config``, ``Service``, ``CycleReport``,
  ``Stopper``, ``serve_forever``, ``build_sources``, ``cycle_hooks``, ``next_fire``, ``missed_run``
- metrics: ``build_registry``, ``start_server``, ``ReadinessCollector``, ``ServeMetrics``
- digests: ``build_digests``, ``build_reminders``, ``Channel``, ``Message``, ``Delivery``
"""

from operations.digests import Channel, Delivery, Message, build_digests, build_reminders
from operations.metrics import ReadinessCollector, ServeMetrics, build_registry, start_server
from operations.serve import (
    CycleReport,
    NotifyConfig,
    ServeConfig,
    Service,
    Stopper,
    build_sources,
    cycle_hooks,
    load_config,
    missed_run,
    next_fire,
    serve_forever,
)

__all__ = [
    "Channel", "CycleReport", "Delivery", "Message", "NotifyConfig", "ReadinessCollector", "ServeConfig",
    "ServeMetrics", "Service", "Stopper", "build_digests", "build_registry", "build_reminders",
    "build_sources", "cycle_hooks", "load_config", "missed_run", "next_fire", "serve_forever",
    "start_server",
]
