"""What is extracted per workload: its facts, and the same workload in the inventory's compute shape.

``workload_facts`` matches a Deployment, StatefulSet or DaemonSet with the autoscalers,
disruption budgets and services around it (see docs/kubernetes.md for every key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from collectors.kubernetes.parse import K8sObject, as_mapping

FACT_KEYS = ("kind", "namespace", "name", "system_id", "replicas", "readiness_probe", "liveness_probe",
             "requests_set", "memory_limit_set", "hpa", "pdb", "spread", "image_pinned", "source")
ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
RPS_ANNOTATION = "peak-readiness/rps-per-replica"
AUTO_ROLLBACK_ANNOTATION = "peak-readiness/auto-rollback"
SERVICE_ANNOTATION = "peak-readiness/service"  # the inventory service it runs, when not named as the workload


def _containers(pod_spec: dict, key: str = "containers") -> list[dict]:
    return [c for c in pod_spec.get(key) or [] if isinstance(c, dict)]


def _every(containers: list[dict], check) -> bool:
    return bool(containers) and all(check(c) for c in containers)


def image_pinned(image: str) -> bool:
    """A digest, or a tag other than ``latest`` (a registry port is not a tag)."""
    if "@" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    return last.rsplit(":", 1)[1] not in ("", "latest")


def selector_matches(selector: Any, labels: dict) -> bool:
    """A label selector (matchLabels and matchExpressions) against labels; an empty selector matches all,
    a missing one nothing (as for PodDisruptionBudget in policy/v1)."""
    if not isinstance(selector, dict):
        return False
    labels = {str(k): str(v) for k, v in labels.items()}
    for key, value in as_mapping(selector.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        expression = as_mapping(expression)
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        value = str(labels.get(key)) if present else None
        if operator == "In" and not (present and value in values):
            return False
        if operator == "NotIn" and present and value in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False  # an unknown operator selects nothing (the API server would reject it)
    return True


def _spread(pod_spec: dict) -> tuple[bool, bool]:
    """(any spread, spread over zones): topology spread constraints or pod anti-affinity."""
    keys = [str(as_mapping(c).get("topologyKey")) for c in pod_spec.get("topologySpreadConstraints") or []]
    anti = as_mapping(as_mapping(pod_spec.get("affinity")).get("podAntiAffinity"))
    keys += [str(as_mapping(t).get("topologyKey"))
             for t in anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []]
    keys += [str(as_mapping(as_mapping(t).get("podAffinityTerm")).get("topologyKey"))
             for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    return bool(keys), any(k in ZONE_KEYS for k in keys)


def pod_labels(obj: K8sObject) -> dict[str, str]:
    """The labels of a workload's pod template, as strings (what selectors match against)."""
    template = as_mapping(as_mapping(obj.data.get("spec")).get("template"))
    return {str(k): str(v) for k, v in as_mapping(as_mapping(template.get("metadata")).get("labels")).items()}


@dataclass
class ObjectIndex:
    """HPAs, PDBs and Services by namespace, to match them to workloads."""

    hpas: dict[str, list[K8sObject]] = field(default_factory=dict)
    pdbs: dict[str, list[K8sObject]] = field(default_factory=dict)
    services: dict[str, list[K8sObject]] = field(default_factory=dict)

    @classmethod
    def of(cls, objects: list[K8sObject]) -> ObjectIndex:
        index = cls()
        buckets = {"HorizontalPodAutoscaler": index.hpas, "PodDisruptionBudget": index.pdbs, "Service": index.services}
        for obj in objects:
            if obj.kind in buckets:
                buckets[obj.kind].setdefault(obj.namespace, []).append(obj)
        return index


def workload_facts(obj: K8sObject, index: ObjectIndex, system_id: str | None) -> tuple[dict, dict, list[str]]:
    """(workload facts, compute asset, warnings) for one Deployment, StatefulSet or DaemonSet."""
    spec = as_mapping(obj.data.get("spec"))
    labels = pod_labels(obj)
    pod_spec = as_mapping(as_mapping(spec.get("template")).get("spec"))
    containers = _containers(pod_spec)
    images = [str(c.get("image") or "") for c in containers + _containers(pod_spec, "initContainers")]
    warnings: list[str] = []

    replicas = None if obj.kind == "DaemonSet" else spec.get("replicas")
    if replicas is None and obj.kind != "DaemonSet":
        replicas = 1  # the API server's default when spec.replicas is absent (or null)
    hpa = _autoscaler(obj, index, warnings)
    pdbs = _budgets(obj, index, labels, warnings)
    spread, zone_spread = _spread(pod_spec)
    facts = {
        "kind": obj.kind, "namespace": obj.namespace, "name": obj.name, "system_id": system_id,
        "replicas": replicas,
        "readiness_probe": _every(containers, lambda c: isinstance(c.get("readinessProbe"), dict)),
        "liveness_probe": _every(containers, lambda c: isinstance(c.get("livenessProbe"), dict)),
        "requests_set": _every(containers, lambda c: all(
            as_mapping(as_mapping(c.get("resources")).get("requests")).get(r) not in (None, "") for r in ("cpu", "memory"))),
        "memory_limit_set": _every(containers, lambda c: as_mapping(as_mapping(c.get("resources")).get("limits"))
                                   .get("memory") not in (None, "")),
        "hpa": hpa,
        "pdb": bool(pdbs),
        "spread": spread,
        "image_pinned": bool(images) and all(image_pinned(i) for i in images),
        "source": obj.source,
        # extra keys (documented): what the compute shape needs and what a reviewer asks next
        "zone_spread": zone_spread,
        "services": _services(obj, index, labels),
        "rps_per_replica": _rps_per_replica(obj, warnings),
    }
    compute = None if obj.kind == "DaemonSet" else _compute(obj, facts, pdbs[0] if pdbs else None)
    return facts, compute, warnings


def _autoscaler(obj: K8sObject, index: ObjectIndex, warnings: list[str]) -> dict | None:
    """``{"min", "max"}`` of the HorizontalPodAutoscaler targeting the workload (the first, if several)."""
    hpas = [h for h in index.hpas.get(obj.namespace, [])
            if as_mapping(as_mapping(h.data.get("spec")).get("scaleTargetRef")).get("kind") == obj.kind
            and as_mapping(as_mapping(h.data.get("spec")).get("scaleTargetRef")).get("name") == obj.name]
    if not hpas:
        return None
    if len(hpas) > 1:
        warnings.append(f"{obj.kind} {obj.namespace}/{obj.name}: {len(hpas)} HorizontalPodAutoscalers target it "
                        f"({', '.join(h.name for h in hpas)}); the first is used")
    hpa_spec = as_mapping(hpas[0].data.get("spec"))
    return {"min": hpa_spec.get("minReplicas", 1), "max": hpa_spec.get("maxReplicas")}


def _budgets(obj: K8sObject, index: ObjectIndex, labels: dict[str, str], warnings: list[str]) -> list[K8sObject]:
    """The PodDisruptionBudgets selecting the workload's pods."""
    pdbs = [p for p in index.pdbs.get(obj.namespace, [])
            if labels and selector_matches(as_mapping(p.data.get("spec")).get("selector"), labels)]
    if len(pdbs) > 1:
        warnings.append(f"{obj.kind} {obj.namespace}/{obj.name}: {len(pdbs)} PodDisruptionBudgets select its pods "
                        f"({', '.join(p.name for p in pdbs)}); evictions fail with more than one")
    return pdbs


def _services(obj: K8sObject, index: ObjectIndex, labels: dict[str, str]) -> list[str]:
    """Names of the Services whose (non-empty) selector matches the workload's pods, sorted."""
    return sorted(s.name for s in index.services.get(obj.namespace, [])
                  if as_mapping(as_mapping(s.data.get("spec")).get("selector"))
                  and all(labels.get(str(k)) == str(v)
                          for k, v in as_mapping(as_mapping(s.data.get("spec")).get("selector")).items()))


def _rps_per_replica(obj: K8sObject, warnings: list[str]) -> float | None:
    rps = as_mapping(obj.metadata.get("annotations")).get(RPS_ANNOTATION)
    try:
        return float(rps) if rps is not None else None
    except (TypeError, ValueError):
        warnings.append(f"{obj.where()} ({obj.kind} {obj.name}): annotation {RPS_ANNOTATION}: "
                        f"expected a number, got {rps!r}; ignored")
        return None


def _compute(obj: K8sObject, facts: dict, pdb: K8sObject | None) -> dict:
    """The workload in the inventory's compute-asset shape (see docs/kubernetes.md for each choice)."""
    hpa = facts["hpa"]
    floor = hpa["min"] if hpa else facts["replicas"]  # an HPA overrides spec.replicas, never below its minimum
    zones = [f"spread over {_zone_key(obj)} ({n})" for n in range(1, min(floor, 2) + 1)] if facts["zone_spread"] else []
    budget = None
    if pdb is not None:
        pdb_spec = as_mapping(pdb.data.get("spec"))
        budget = {"name": pdb.name, "min_available": pdb_spec.get("minAvailable"),
                  "max_unavailable": pdb_spec.get("maxUnavailable"), "source": pdb.source}
    service = as_mapping(obj.metadata.get("annotations")).get(SERVICE_ANNOTATION)
    return {
        "id": obj.ref, "service": str(service) if service else obj.name, "replicas": floor, "zones": zones,
        "autoscaling": {"enabled": hpa is not None, "min": hpa["min"] if hpa else floor,
                        "max": hpa["max"] if hpa else floor},
        "health_checks": {"readiness": facts["readiness_probe"], "liveness": facts["liveness_probe"]},
        "disruption_budget": budget,
        "rps_per_replica": facts["rps_per_replica"],
        "deployment": _rollout(obj),
        "source": obj.source,
    }


def _rollout(obj: K8sObject) -> dict:
    """How updates roll out: Kubernetes itself never rolls back on its own, unless a team says a
    progressive-delivery controller (Argo Rollouts, Flagger) does, with the annotation."""
    spec = as_mapping(obj.data.get("spec"))
    if obj.kind == "Deployment":
        kind = str(as_mapping(spec.get("strategy")).get("type") or "RollingUpdate")
    else:
        kind = str(as_mapping(spec.get("updateStrategy")).get("type") or "RollingUpdate")
    strategy = {"RollingUpdate": "rolling", "Recreate": "recreate", "OnDelete": "on_delete"}.get(kind, kind)
    annotation = as_mapping(obj.metadata.get("annotations")).get(AUTO_ROLLBACK_ANNOTATION)
    return {"strategy": strategy, "auto_rollback": str(annotation).lower() == "true"}


def _zone_key(obj: K8sObject) -> str:
    pod_spec = as_mapping(as_mapping(as_mapping(obj.data.get("spec")).get("template")).get("spec"))
    text = json.dumps(pod_spec)
    return next((k for k in ZONE_KEYS if k in text), ZONE_KEYS[0])


