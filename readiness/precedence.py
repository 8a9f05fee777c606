"""Which source wins when two state the same fact about a service, in one place.

Facts are stored per system and source (a collection replaces only what that
source said before); rules read compute services through ``Facts.compute()``,
which merges the sources here, so every rule and the capacity policy agree.

- **Matching.** A compute asset's service is its ``service`` field, else the last
  ``/`` segment of its id: the inventory's ``sys-0001/checkout-api`` and the
  workload ``shop/Deployment/checkout-api`` are both ``checkout-api`` (a workload
  sets ``service`` with the ``peak-readiness/service`` annotation). Each service
  is matched once, in the order the assets come.
- **Precedence, per matched service.** Kubernetes wins what the manifests state
  about the running workload (``KUBERNETES_STATES``: a manifest without a budget
  says there is none), and ``rps_per_replica`` when its annotation is set; the
  inventory keeps everything else (forecasts, reservations, quota, failover,
  tracing). The merged service takes the workload's id and source (the object
  to fix) and records under ``merged`` both ids and, for every field on which
  they disagree, both values and which one was used.
- **Services only one source knows are kept**, as that source states them.
"""

from __future__ import annotations

from typing import Any

KUBERNETES = "kubernetes"
INVENTORY = "inventory"
KUBERNETES_STATES = ("replicas", "zones", "autoscaling", "health_checks", "disruption_budget", "deployment")
KUBERNETES_STATES_WHEN_SET = ("rps_per_replica",)


def service_key(asset: dict[str, Any]) -> str:
    """The service a compute asset runs: its ``service`` field, else the last segment of its id."""
    return str(asset.get("service") or str(asset.get("id", "")).rsplit("/", 1)[-1])


def merge_compute(inventory: list[dict[str, Any]], kubernetes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The inventory's services with Kubernetes' matching workloads merged in, then the workloads
    the inventory does not know (see the module docstring)."""
    unmatched = list(kubernetes)
    merged = []
    for asset in inventory:
        workload = next((w for w in unmatched if service_key(w) == service_key(asset)), None)
        if workload is None:
            merged.append(asset)
            continue
        unmatched.remove(workload)
        merged.append(_merge(asset, workload))
    return merged + unmatched


def _merge(asset: dict[str, Any], workload: dict[str, Any]) -> dict[str, Any]:
    out = {**asset, "id": workload.get("id"), "service": service_key(asset)}
    differences = {}
    for name in KUBERNETES_STATES + KUBERNETES_STATES_WHEN_SET:
        stated = workload.get(name)
        used = KUBERNETES if stated is not None or name in KUBERNETES_STATES else INVENTORY
        if used == KUBERNETES:
            out[name] = stated
        if stated != asset.get(name):
            differences[name] = {KUBERNETES: stated, INVENTORY: asset.get(name), "used": used}
    if workload.get("source"):
        out["source"] = workload["source"]
    out["merged"] = {KUBERNETES: workload.get("id"), INVENTORY: asset.get("id"), "differences": differences}
    return out


def compute_sources(compute: list[dict[str, Any]], kubernetes: list[dict[str, Any]]) -> str:
    """Where the running figures come from: kubernetes, inventory, kubernetes+inventory or none."""
    if not compute:
        return "none"
    ids = {w.get("id") for w in kubernetes}
    from_kubernetes = sum(1 for c in compute if c.get("id") in ids)
    if from_kubernetes == len(compute):
        return KUBERNETES
    return f"{KUBERNETES}+{INVENTORY}" if from_kubernetes else INVENTORY

