"""Fact collectors: read facts where teams keep them and store them for the readiness rules.

Kubernetes manifests are the first collector (see docs/kubernetes.md). Others import from
here only:
- ``KubernetesSource``: manifest files and folders as a ``readiness.FactSource``
- ``collect_kubernetes``: read, map to catalog systems and store (returns the scan and the store report)
- ``KubernetesScan``: what one read found (workloads, unmapped, skipped, warnings, errors)
- ``FACT_KEYS``: the documented keys of every workload's facts
- ``image_pinned``, ``selector_matches``: the two checks the facts are built on
- demo: ``write_demo_manifests``, ``collect_demo``, ``demo_week`` (the ``peak_readiness.demo_week`` hook)

The command `readiness collect kubernetes` is added by ``collectors.cli`` through the
``peak_readiness.cli`` entry point. Collectors import the readiness core through its public
surface; the core never imports them.
"""

from collectors.kubernetes.demo import collect_demo, demo_week, write_demo_manifests
from collectors.kubernetes.facts import FACT_KEYS, image_pinned, selector_matches
from collectors.kubernetes.source import KubernetesScan, KubernetesSource, collect_kubernetes

__all__ = [
    "FACT_KEYS", "KubernetesScan", "KubernetesSource", "collect_demo", "collect_kubernetes", "demo_week",
    "image_pinned", "selector_matches", "write_demo_manifests",
]
