"""Built-in fact sources. Others (Kapacity, perftest, Kubernetes) live with their context."""

from readiness.sources.inventory import InventorySource, load_inventory

__all__ = ["InventorySource", "load_inventory"]
