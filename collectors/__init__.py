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

from storage import lazy_surface

# Each public name loads from its module on first use (PEP 562): importing the package, or a
# light submodule of it such as its CLI, does not import the whole context and its heavy
# dependencies. tests/clikit/test_startup.py checks every name here resolves.
_EXPORTS = {
    "collect_demo": "collectors.kubernetes.demo",
    "demo_week": "collectors.kubernetes.demo",
    "write_demo_manifests": "collectors.kubernetes.demo",
    "FACT_KEYS": "collectors.kubernetes.facts",
    "image_pinned": "collectors.kubernetes.facts",
    "selector_matches": "collectors.kubernetes.facts",
    "KubernetesScan": "collectors.kubernetes.source",
    "KubernetesSource": "collectors.kubernetes.source",
    "collect_kubernetes": "collectors.kubernetes.source",
}

__all__ = [
    "FACT_KEYS", "KubernetesScan", "KubernetesSource", "collect_demo", "collect_kubernetes", "demo_week",
    "image_pinned", "selector_matches", "write_demo_manifests",
]


lazy_surface(__name__, _EXPORTS)
