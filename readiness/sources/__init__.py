"""Built-in fact sources. Others (Kapacity, perftest) live with their context."""

from readiness.sources.inventory import InventorySource, load_inventory
from readiness.sources.kubernetes import KubernetesSource, collect_kubernetes

__all__ = ["InventorySource", "KubernetesSource", "collect_kubernetes", "load_inventory"]
