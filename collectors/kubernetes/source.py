"""Kubernetes manifests as a fact source: workloads with their autoscaler, disruption budget, services.

Reads Kubernetes YAML as teams keep it: folders of manifests (recursively),
multi-document files, ``kubectl get ... -o yaml`` exports (``kind: List``) and
rendered kustomize/Helm output. Every workload (Deployment, StatefulSet,
DaemonSet) becomes a dict of facts naming its file and document, so a rule's
evidence points at the exact object. See docs/kubernetes.md.

Stored under the fact source ``kubernetes`` per SystemID as
``{"workloads": [...], "compute": [...]}``: ``workloads`` are the facts below,
``compute`` the same workloads in the inventory's compute-asset shape, which
the availability and capacity rules read through ``Facts.compute()``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from collectors.kubernetes.facts import ObjectIndex, pod_labels, selector_matches, workload_facts
from collectors.kubernetes.mapping import SystemMapper, mapper
from collectors.kubernetes.parse import WORKLOAD_KINDS, K8sObject, as_mapping, parse_manifests
from readiness import CollectedFacts, StoreReport, active_systems, store_facts

SOURCE = "kubernetes"


@dataclass
class KubernetesScan:
    """Everything one read of the manifests found."""

    workloads: list[dict] = field(default_factory=list)  # facts, sorted by namespace/kind/name
    compute: dict[str, dict] = field(default_factory=dict)  # workload id -> compute asset
    unmapped: list[dict] = field(default_factory=list)  # {"workload", "reason", "source"}
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    files: int = 0
    origin: str = ""

    def by_system(self) -> dict[str, dict[str, list[dict]]]:
        out: dict[str, dict[str, list[dict]]] = {}
        for facts in self.workloads:
            if facts["system_id"] is None:
                continue
            entry = out.setdefault(facts["system_id"], {"workloads": [], "compute": []})
            entry["workloads"].append(facts)
            compute = self.compute.get(_ref(facts))
            if compute is not None:
                entry["compute"].append(compute)
        return out

    def collected(self) -> CollectedFacts:
        unmapped = [f"{u['workload']} ({u['reason']})" for u in self.unmapped]
        return CollectedFacts(source=SOURCE, by_system=self.by_system(), origin=self.origin,
                              errors=list(self.errors), unmapped=unmapped)


def _ref(facts: dict) -> str:
    return f"{facts['namespace']}/{facts['kind']}/{facts['name']}"


def scan(paths: Sequence[Path], system_mapper: SystemMapper) -> KubernetesScan:
    """Read the manifests, match autoscalers, budgets and services, map each workload to a system."""
    parsed = parse_manifests(paths)
    result = KubernetesScan(errors=list(parsed.errors), skipped=dict(sorted(parsed.skipped.items())),
                            files=parsed.files, origin=", ".join(str(p) for p in paths))
    index = ObjectIndex.of(parsed.objects)
    seen: dict[str, K8sObject] = {}
    for obj in sorted((o for o in parsed.objects if o.kind in WORKLOAD_KINDS),
                      key=lambda o: (o.namespace, o.kind, o.name, o.file, o.document, o.item or 0)):
        if obj.ref in seen:
            result.errors.append(f"{obj.where()}: {obj.kind} {obj.namespace}/{obj.name} is also defined at "
                                 f"{seen[obj.ref].where()}; the first is used")
            continue
        seen[obj.ref] = obj
        _add_workload(result, obj, index, system_mapper)
    result.warnings += _orphan_warnings(index, seen)
    return result


def _add_workload(result: KubernetesScan, obj: K8sObject, index: ObjectIndex, system_mapper: SystemMapper) -> None:
    system_id, reason = system_mapper.resolve(obj)
    facts, compute, warnings = workload_facts(obj, index, system_id)
    result.workloads.append(facts)
    if compute is not None:
        result.compute[obj.ref] = compute
    result.warnings += warnings
    if system_id is None:
        result.unmapped.append({"workload": f"{obj.kind} {obj.namespace}/{obj.name}", "reason": reason,
                                "source": obj.source})


def _orphan_warnings(index: ObjectIndex, workloads: dict[str, K8sObject]) -> list[str]:
    """Autoscalers whose target was not read, disruption budgets that select no workload's pods."""
    warnings = []
    for hpa in (h for hs in index.hpas.values() for h in hs):
        target = as_mapping(as_mapping(hpa.data.get("spec")).get("scaleTargetRef"))
        if f"{hpa.namespace}/{target.get('kind')}/{target.get('name')}" not in workloads:
            warnings.append(f"{hpa.where()}: HorizontalPodAutoscaler {hpa.namespace}/{hpa.name} targets "
                            f"{target.get('kind')} {target.get('name')}, which is not in the manifests read")
    labels_by_namespace: dict[str, list[dict]] = {}
    for workload in workloads.values():
        labels_by_namespace.setdefault(workload.namespace, []).append(pod_labels(workload))
    for pdb in (p for ps in index.pdbs.values() for p in ps):
        selector = as_mapping(pdb.data.get("spec")).get("selector")
        if not any(selector_matches(selector, labels) for labels in labels_by_namespace.get(pdb.namespace, [])):
            warnings.append(f"{pdb.where()}: PodDisruptionBudget {pdb.namespace}/{pdb.name} selects no "
                            f"workload's pods (selector {json.dumps(selector, sort_keys=True)})")
    return warnings


@dataclass
class KubernetesSource:
    """Manifest files and folders as a fact source (``FactSource`` protocol)."""

    paths: Sequence[Path]
    system_labels: Sequence[str] | None = None
    mapping: Path | None = None
    name: str = SOURCE
    freshness: timedelta = timedelta(days=2)

    def scan(self, engine: Engine | None) -> KubernetesScan:
        systems = None
        if engine is not None:
            systems = {s.system_id: s.name for s in active_systems(engine)}
        return scan(self.paths, mapper(self.system_labels, self.mapping, systems))

    def collect(self, engine: Engine | None = None) -> CollectedFacts:
        return self.scan(engine).collected()


def collect_kubernetes(engine: Engine, paths: Sequence[Path], *, system_labels: Sequence[str] | None = None,
                       mapping: Path | None = None, now: datetime | None = None) -> tuple[KubernetesScan, StoreReport]:
    """Read manifests, map workloads to catalog systems and store their facts (the CLI and demo path).

    A file with an error contributes nothing; the other files are still collected and stored.
    A bad mapping file raises InputError before anything is read or stored.
    """
    source = KubernetesSource(list(paths), system_labels, mapping)
    result = source.scan(engine)
    return result, store_facts(engine, result.collected(), now=now)


