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
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import Engine

from readiness.errors import InputError
from readiness.facts import CollectedFacts, StoreReport, store_facts

SOURCE = "kubernetes"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
WORKLOAD_GROUPS = ("apps", "extensions")  # extensions/v1beta1 in very old exports
READ_KINDS = {**{k: WORKLOAD_GROUPS for k in WORKLOAD_KINDS}, "HorizontalPodAutoscaler": ("autoscaling",),
              "PodDisruptionBudget": ("policy",), "Service": ("",)}
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "extensions"}
DEFAULT_SYSTEM_LABELS = ("app.kubernetes.io/part-of", "app.kubernetes.io/name", "app")
ZONE_KEYS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
RPS_ANNOTATION = "peak-readiness/rps-per-replica"
AUTO_ROLLBACK_ANNOTATION = "peak-readiness/auto-rollback"
SUFFIXES = (".yaml", ".yml", ".json")
FACT_KEYS = ("kind", "namespace", "name", "system_id", "replicas", "readiness_probe", "liveness_probe",
             "requests_set", "memory_limit_set", "hpa", "pdb", "spread", "image_pinned", "source")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# ---------------------------------------------------------------------------------------------
# Reading manifests


@dataclass(frozen=True)
class K8sObject:
    """One Kubernetes object and where it was read."""

    data: dict
    file: str
    document: int  # 0-based index of the YAML document in the file
    line: int  # 1-based line where the document (or the List item) starts
    item: int | None = None  # index in a List export's items

    @property
    def kind(self) -> str:
        return str(self.data.get("kind"))

    @property
    def metadata(self) -> dict:
        return _mapping(self.data.get("metadata"))

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or "default")

    @property
    def name(self) -> str:
        return str(self.metadata.get("name"))

    @property
    def ref(self) -> str:
        """``namespace/Kind/name``: the id the compute facts and evidence use."""
        return f"{self.namespace}/{self.kind}/{self.name}"

    @property
    def source(self) -> dict:
        place = {"file": self.file, "document": self.document, "line": self.line}
        if self.item is not None:
            place["item"] = self.item
        return place

    def where(self) -> str:
        item = f" item {self.item}" if self.item is not None else ""
        return f"{self.file}:{self.line}: document {self.document}{item}"


@dataclass
class ParsedManifests:
    objects: list[K8sObject] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # kind (or "Kind (group/version)") -> count
    files: int = 0


def manifest_files(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """The manifest files under the given files and folders (recursively, sorted); missing paths are errors."""
    files: list[Path] = []
    errors: list[str] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.is_file():
            files.append(path)
        else:
            errors.append(f"{path}: no such file or folder")
    return files, errors


def parse_manifests(paths: Iterable[Path]) -> ParsedManifests:
    """Read every manifest file; a file with any error contributes nothing, the others are still read."""
    files, errors = manifest_files(paths)
    parsed = ParsedManifests(errors=errors, files=len(files))
    for path in files:
        objects, problems, skipped = _read_file(path)
        if problems:
            parsed.errors += problems
            continue
        parsed.objects += objects
        parsed.skipped.update(skipped)
    return parsed


def _read_file(path: Path) -> tuple[list[K8sObject], list[str], Counter]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{name}: cannot read: {exc}"], Counter()
    objects, problems, skipped = _parse_text(name, text)
    return list(objects), list(problems), Counter(dict(skipped))


@lru_cache(maxsize=2048)
def _parse_text(name: str, text: str) -> tuple[tuple[K8sObject, ...], tuple[str, ...], tuple[tuple[str, int], ...]]:
    """Parse one file's text (cached: collecting an unchanged folder again re-reads but does not re-parse;
    the parsed objects are never modified)."""
    objects, problems, skipped = _parse_uncached(name, text)
    return tuple(objects), tuple(problems), tuple(skipped.items())


def _parse_uncached(name: str, text: str) -> tuple[list[K8sObject], list[str], Counter]:
    try:
        documents = _documents(text)
    except yaml.YAMLError as exc:
        template = _template_line(text)
        if template:
            return [], [_helm_message(name, *template)], Counter()
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else "?"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], [f"{name}:{line}: invalid YAML: {problem}"], Counter()
    objects: list[K8sObject] = []
    problems: list[str] = []
    skipped: Counter = Counter()
    for index, line, data, node in documents:
        if data is None:
            continue  # an empty document (a stray `---`)
        where = f"{name}:{line}: document {index}"
        if not isinstance(data, dict):
            problems.append(f"{where}: expected a Kubernetes object (a mapping with apiVersion and kind), "
                            f"got {type(data).__name__}")
            continue
        if _is_list(data):
            items = data.get("items") or []
            lines = _item_lines(node)
            for position, item in enumerate(items):
                item_line = lines[position] if position < len(lines) else line
                objects.append(K8sObject(item if isinstance(item, dict) else {"_not_a_mapping": item},
                                         name, index, item_line, position))
        else:
            objects.append(K8sObject(data, name, index, line))
    kept: list[K8sObject] = []
    for obj in objects:
        problem = _check_object(obj, text)
        if problem:
            problems.append(problem)
        elif _reads(obj):
            kept.append(obj)
        else:
            skipped[_skip_key(obj)] += 1
    helm = [p for p in problems if "unrendered Helm template" in p]
    return kept, (helm[:1] or problems), skipped


def _documents(text: str) -> list[tuple[int, int, Any, yaml.Node]]:
    """(index, first line, data, node) per YAML document; raises yaml.YAMLError."""
    loader = _LOADER(text)
    out = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            out.append((index, node.start_mark.line + 1, loader.construct_document(node), node))
            index += 1
    finally:
        loader.dispose()
    return out


def _is_list(data: dict) -> bool:
    kind = str(data.get("kind") or "")
    return kind.endswith("List") and isinstance(data.get("items"), list)


def _item_lines(node: yaml.Node) -> list[int]:
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if getattr(key, "value", None) == "items" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _reads(obj: K8sObject) -> bool:
    groups = READ_KINDS.get(obj.kind)
    return groups is not None and _group(str(obj.data.get("apiVersion") or "")) in groups


def _skip_key(obj: K8sObject) -> str:
    api_version = str(obj.data.get("apiVersion") or "")
    group = _group(api_version)
    if group in BUILTIN_GROUPS or group.endswith(".k8s.io"):
        return obj.kind
    return f"{obj.kind} ({api_version}, custom resource)"


def _check_object(obj: K8sObject, text: str) -> str | None:
    """A problem naming the place, or None: kind, metadata.name, field types the facts rely on."""
    data = obj.data
    if "_not_a_mapping" in data:
        return f"{obj.where()}: expected a Kubernetes object (a mapping), got {type(data['_not_a_mapping']).__name__}"
    if not data.get("kind") or not isinstance(data.get("kind"), str):
        return f"{obj.where()}: field kind: missing; every Kubernetes object names its kind"
    template = _template_in(data) if _reads(obj) or _TEMPLATE.search(str(data.get("kind"))) else None
    if template:
        line = next((i for i, text_line in enumerate(text.splitlines(), 1) if template in text_line), obj.line)
        return _helm_message(obj.file, line, template)
    name = obj.metadata.get("name")
    if not isinstance(name, str) or not name:
        return f"{obj.where()} ({obj.kind}): field metadata.name: missing; every object needs a name"
    if not _reads(obj):
        return None
    spec = data.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return f"{obj.where()} ({obj.kind} {name}): field spec: expected a mapping"
    spec = spec or {}
    if obj.kind in WORKLOAD_KINDS:
        replicas = spec.get("replicas")
        if replicas is not None and (not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0):
            return f"{obj.where()} ({obj.kind} {name}): field spec.replicas: expected a whole number >= 0, got {replicas!r}"
        containers = _mapping(_mapping(spec.get("template")).get("spec")).get("containers")
        if containers is not None and not isinstance(containers, list):
            return f"{obj.where()} ({obj.kind} {name}): field spec.template.spec.containers: expected a list"
    elif obj.kind == "HorizontalPodAutoscaler":
        target = spec.get("scaleTargetRef")
        if not isinstance(target, dict) or not target.get("kind") or not target.get("name"):
            return f"{obj.where()} (HorizontalPodAutoscaler {name}): field spec.scaleTargetRef: expected kind and name"
        for key in ("minReplicas", "maxReplicas"):
            value = spec.get(key)
            if (value is not None or key == "maxReplicas") and (not isinstance(value, int) or isinstance(value, bool)):
                return f"{obj.where()} (HorizontalPodAutoscaler {name}): field spec.{key}: expected a whole number, got {value!r}"
    elif obj.kind == "PodDisruptionBudget":
        selector = spec.get("selector")
        if selector is not None and not isinstance(selector, dict):
            return f"{obj.where()} (PodDisruptionBudget {name}): field spec.selector: expected a label selector mapping"
    return None


def _template_in(value: Any) -> str | None:
    """The first ``{{ ... }}`` found in any string (or key) of a parsed object."""
    if isinstance(value, str):
        match = _TEMPLATE.search(value)
        return match.group(0) if match else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _template_in(key) or _template_in(item)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _template_in(item)
            if found:
                return found
    return None


def _template_line(text: str) -> tuple[int, str] | None:
    for number, line in enumerate(text.splitlines(), 1):
        match = _TEMPLATE.search(line)
        if match or "{{" in line:
            return number, match.group(0) if match else line.strip()[:60]
    return None


def _helm_message(name: str, line: int, template: str) -> str:
    return (f"{name}:{line}: unrendered Helm template ({template}): render it first "
            f"(`helm template RELEASE CHART -f values.yaml > rendered.yaml`, or `kustomize build`) "
            f"and collect the rendered output")


# ---------------------------------------------------------------------------------------------
# Facts per workload


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


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
    for key, value in _mapping(selector.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
        expression = _mapping(expression)
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
    keys = [str(_mapping(c).get("topologyKey")) for c in pod_spec.get("topologySpreadConstraints") or []]
    anti = _mapping(_mapping(pod_spec.get("affinity")).get("podAntiAffinity"))
    keys += [str(_mapping(t).get("topologyKey"))
             for t in anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []]
    keys += [str(_mapping(_mapping(t).get("podAffinityTerm")).get("topologyKey"))
             for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    return bool(keys), any(k in ZONE_KEYS for k in keys)


@dataclass
class _Index:
    """HPAs, PDBs and Services by namespace, to match them to workloads."""

    hpas: dict[str, list[K8sObject]] = field(default_factory=dict)
    pdbs: dict[str, list[K8sObject]] = field(default_factory=dict)
    services: dict[str, list[K8sObject]] = field(default_factory=dict)

    @classmethod
    def of(cls, objects: list[K8sObject]) -> _Index:
        index = cls()
        buckets = {"HorizontalPodAutoscaler": index.hpas, "PodDisruptionBudget": index.pdbs, "Service": index.services}
        for obj in objects:
            if obj.kind in buckets:
                buckets[obj.kind].setdefault(obj.namespace, []).append(obj)
        return index


def workload_facts(obj: K8sObject, index: _Index, system_id: str | None) -> tuple[dict, dict, list[str]]:
    """(workload facts, compute asset, warnings) for one Deployment, StatefulSet or DaemonSet."""
    spec = _mapping(obj.data.get("spec"))
    template = _mapping(spec.get("template"))
    pod_labels = {str(k): str(v) for k, v in _mapping(_mapping(template.get("metadata")).get("labels")).items()}
    pod_spec = _mapping(template.get("spec"))
    containers = _containers(pod_spec)
    images = [str(c.get("image") or "") for c in containers + _containers(pod_spec, "initContainers")]
    warnings: list[str] = []

    replicas = None if obj.kind == "DaemonSet" else spec.get("replicas")
    if replicas is None and obj.kind != "DaemonSet":
        replicas = 1  # the API server's default when spec.replicas is absent (or null)
    hpas = [h for h in index.hpas.get(obj.namespace, [])
            if _mapping(_mapping(h.data.get("spec")).get("scaleTargetRef")).get("kind") == obj.kind
            and _mapping(_mapping(h.data.get("spec")).get("scaleTargetRef")).get("name") == obj.name]
    hpa = None
    if hpas:
        hpa_spec = _mapping(hpas[0].data.get("spec"))
        hpa = {"min": hpa_spec.get("minReplicas", 1), "max": hpa_spec.get("maxReplicas")}
        if len(hpas) > 1:
            warnings.append(f"{obj.kind} {obj.namespace}/{obj.name}: {len(hpas)} HorizontalPodAutoscalers target it "
                            f"({', '.join(h.name for h in hpas)}); the first is used")
    pdbs = [p for p in index.pdbs.get(obj.namespace, [])
            if pod_labels and selector_matches(_mapping(p.data.get("spec")).get("selector"), pod_labels)]
    if len(pdbs) > 1:
        warnings.append(f"{obj.kind} {obj.namespace}/{obj.name}: {len(pdbs)} PodDisruptionBudgets select its pods "
                        f"({', '.join(p.name for p in pdbs)}); evictions fail with more than one")
    services = sorted(s.name for s in index.services.get(obj.namespace, [])
                      if _mapping(_mapping(s.data.get("spec")).get("selector"))
                      and all(pod_labels.get(str(k)) == str(v)
                              for k, v in _mapping(_mapping(s.data.get("spec")).get("selector")).items()))
    spread, zone_spread = _spread(pod_spec)
    rps = _mapping(obj.metadata.get("annotations")).get(RPS_ANNOTATION)
    try:
        rps_per_replica = float(rps) if rps is not None else None
    except (TypeError, ValueError):
        rps_per_replica = None
        warnings.append(f"{obj.where()} ({obj.kind} {obj.name}): annotation {RPS_ANNOTATION}: "
                        f"expected a number, got {rps!r}; ignored")

    facts = {
        "kind": obj.kind, "namespace": obj.namespace, "name": obj.name, "system_id": system_id,
        "replicas": replicas,
        "readiness_probe": _every(containers, lambda c: isinstance(c.get("readinessProbe"), dict)),
        "liveness_probe": _every(containers, lambda c: isinstance(c.get("livenessProbe"), dict)),
        "requests_set": _every(containers, lambda c: all(
            _mapping(_mapping(c.get("resources")).get("requests")).get(r) not in (None, "") for r in ("cpu", "memory"))),
        "memory_limit_set": _every(containers, lambda c: _mapping(_mapping(c.get("resources")).get("limits"))
                                   .get("memory") not in (None, "")),
        "hpa": hpa,
        "pdb": bool(pdbs),
        "spread": spread,
        "image_pinned": bool(images) and all(image_pinned(i) for i in images),
        "source": obj.source,
        # extra keys (documented): what the compute shape needs and what a reviewer asks next
        "zone_spread": zone_spread,
        "services": services,
        "rps_per_replica": rps_per_replica,
    }
    compute = None if obj.kind == "DaemonSet" else _compute(obj, facts, pdbs[0] if pdbs else None)
    return facts, compute, warnings


def _compute(obj: K8sObject, facts: dict, pdb: K8sObject | None) -> dict:
    """The workload in the inventory's compute-asset shape (see docs/kubernetes.md for each choice)."""
    hpa = facts["hpa"]
    floor = hpa["min"] if hpa else facts["replicas"]  # an HPA overrides spec.replicas, never below its minimum
    zones = [f"spread over {_zone_key(obj)} ({n})" for n in range(1, min(floor, 2) + 1)] if facts["zone_spread"] else []
    budget = None
    if pdb is not None:
        pdb_spec = _mapping(pdb.data.get("spec"))
        budget = {"name": pdb.name, "min_available": pdb_spec.get("minAvailable"),
                  "max_unavailable": pdb_spec.get("maxUnavailable"), "source": pdb.source}
    return {
        "id": obj.ref, "replicas": floor, "zones": zones,
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
    spec = _mapping(obj.data.get("spec"))
    if obj.kind == "Deployment":
        kind = str(_mapping(spec.get("strategy")).get("type") or "RollingUpdate")
    else:
        kind = str(_mapping(spec.get("updateStrategy")).get("type") or "RollingUpdate")
    strategy = {"RollingUpdate": "rolling", "Recreate": "recreate", "OnDelete": "on_delete"}.get(kind, kind)
    annotation = _mapping(obj.metadata.get("annotations")).get(AUTO_ROLLBACK_ANNOTATION)
    return {"strategy": strategy, "auto_rollback": str(annotation).lower() == "true"}


def _zone_key(obj: K8sObject) -> str:
    pod_spec = _mapping(_mapping(_mapping(obj.data.get("spec")).get("template")).get("spec"))
    text = json.dumps(pod_spec)
    return next((k for k in ZONE_KEYS if k in text), ZONE_KEYS[0])


# ---------------------------------------------------------------------------------------------
# Mapping workloads to SystemIDs


@dataclass
class SystemMapper:
    """Finds a workload's SystemID: mapping file, then system labels, then the mapping file's namespaces.

    With a catalog (``systems``: id -> name), a label value may be a SystemID or a system name;
    without one (dry run) label values are taken as they are.
    """

    labels: Sequence[str] = DEFAULT_SYSTEM_LABELS
    workloads: dict[str, str] = field(default_factory=dict)
    label_values: dict[str, str] = field(default_factory=dict)
    namespaces: dict[str, str] = field(default_factory=dict)
    systems: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self._by_name: dict[str, list[str]] = {}
        for system_id, name in (self.systems or {}).items():
            self._by_name.setdefault(name.lower(), []).append(system_id)

    def resolve(self, obj: K8sObject) -> tuple[str | None, str]:
        """(SystemID or None, how it was found or why not)."""
        for key in (obj.ref, f"{obj.namespace}/{obj.name}"):
            if key in self.workloads:
                return self._known(self.workloads[key], f"mapping file workloads.{key}")
        labels = {**_mapping(_mapping(_mapping(_mapping(obj.data.get("spec")).get("template")).get("metadata"))
                             .get("labels")), **_mapping(obj.metadata.get("labels"))}
        reasons = []
        for label in self.labels:
            if label not in labels:
                continue
            value = str(labels[label])
            if value in self.label_values:
                return self._known(self.label_values[value], f"mapping file labels.{value}")
            system_id, reason = self._by_label(label, value)
            if system_id:
                return system_id, reason
            reasons.append(reason)
        if obj.namespace in self.namespaces:
            return self._known(self.namespaces[obj.namespace], f"mapping file namespaces.{obj.namespace}")
        if not reasons:
            reasons.append(f"none of the labels {', '.join(self.labels)} is set")
        return None, "; ".join(reasons)

    def _by_label(self, label: str, value: str) -> tuple[str | None, str]:
        if self.systems is None:
            return value, f"label {label}={value}"
        if value in self.systems:
            return value, f"label {label}={value}"
        matches = self._by_name.get(value.lower(), [])
        if len(matches) == 1:
            return matches[0], f"label {label}={value} (system name)"
        if matches:
            return None, f"label {label}={value} names {len(matches)} systems ({', '.join(sorted(matches))})"
        return None, f"label {label}={value} is neither a SystemID nor a system name in the catalog"

    def _known(self, system_id: str, how: str) -> tuple[str | None, str]:
        if self.systems is not None and system_id not in self.systems:
            return None, f"{how} names {system_id}, which is not in the catalog"
        return system_id, how


def load_mapping(path: Path) -> dict[str, dict[str, str]]:
    """A mapping file: ``workloads``, ``labels`` and ``namespaces``, each a mapping to SystemIDs."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: mapping file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"{path}:{mark.line + 1 if mark else '?'}: invalid YAML in mapping file") from None
    sections = ("workloads", "labels", "namespaces")
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping with {', '.join(sections)}")
    problems = [f"{path}: field {key}: unknown; accepted: {', '.join(sections)}" for key in raw if key not in sections]
    out: dict[str, dict[str, str]] = {}
    for section in sections:
        value = raw.get(section) or {}
        if not isinstance(value, dict):
            problems.append(f"{path}: field {section}: expected a mapping of names to SystemIDs")
            continue
        for key, system_id in value.items():
            if not isinstance(system_id, str) or not system_id:
                problems.append(f"{path}: field {section}.{key}: expected a SystemID string, got {system_id!r}")
        out[section] = {str(k): str(v) for k, v in value.items()}
    if problems:
        raise InputError(problems)
    return out


def mapper(system_labels: Sequence[str] | None = None, mapping: Path | None = None,
           systems: dict[str, str] | None = None) -> SystemMapper:
    loaded = load_mapping(mapping) if mapping else {}
    return SystemMapper(labels=tuple(system_labels or DEFAULT_SYSTEM_LABELS),
                        workloads=loaded.get("workloads", {}), label_values=loaded.get("labels", {}),
                        namespaces=loaded.get("namespaces", {}), systems=systems)


# ---------------------------------------------------------------------------------------------
# Scanning and collecting


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
    index = _Index.of(parsed.objects)
    seen: dict[str, K8sObject] = {}
    for obj in sorted((o for o in parsed.objects if o.kind in WORKLOAD_KINDS),
                      key=lambda o: (o.namespace, o.kind, o.name, o.file, o.document, o.item or 0)):
        if obj.ref in seen:
            result.errors.append(f"{obj.where()}: {obj.kind} {obj.namespace}/{obj.name} is also defined at "
                                 f"{seen[obj.ref].where()}; the first is used")
            continue
        seen[obj.ref] = obj
        system_id, reason = system_mapper.resolve(obj)
        facts, compute, warnings = workload_facts(obj, index, system_id)
        result.workloads.append(facts)
        if compute is not None:
            result.compute[obj.ref] = compute
        result.warnings += warnings
        if system_id is None:
            result.unmapped.append({"workload": f"{obj.kind} {obj.namespace}/{obj.name}", "reason": reason,
                                    "source": obj.source})
    for hpa in (h for hs in index.hpas.values() for h in hs):
        target = _mapping(_mapping(hpa.data.get("spec")).get("scaleTargetRef"))
        if f"{hpa.namespace}/{target.get('kind')}/{target.get('name')}" not in seen:
            result.warnings.append(f"{hpa.where()}: HorizontalPodAutoscaler {hpa.namespace}/{hpa.name} targets "
                                   f"{target.get('kind')} {target.get('name')}, which is not in the manifests read")
    pod_labels: dict[str, list[dict]] = {}
    for workload in seen.values():
        pod_labels.setdefault(workload.namespace, []).append(_pod_labels(workload))
    for pdb in (p for ps in index.pdbs.values() for p in ps):
        selector = _mapping(pdb.data.get("spec")).get("selector")
        if not any(selector_matches(selector, labels) for labels in pod_labels.get(pdb.namespace, [])):
            result.warnings.append(f"{pdb.where()}: PodDisruptionBudget {pdb.namespace}/{pdb.name} selects no "
                                   f"workload's pods (selector {json.dumps(selector, sort_keys=True)})")
    return result


def _pod_labels(obj: K8sObject) -> dict:
    labels = _mapping(_mapping(_mapping(_mapping(obj.data.get("spec")).get("template")).get("metadata")).get("labels"))
    return {str(k): str(v) for k, v in labels.items()}


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
            from readiness.catalog import active_systems

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


# ---------------------------------------------------------------------------------------------
# Demo manifests


def write_demo_manifests(out_dir: Path, catalog_path: Path, inventory_path: Path, *, every: int = 3) -> list[Path]:
    """Manifests for every ``every``-th system of the demo catalog, mirroring its inventory with gaps.

    Deterministic: the same catalog and inventory give the same files. Besides the inventory's gaps
    (one replica, missing probes, no disruption budget, recreate deployments, no automatic rollback)
    seeded draws per workload add: a
    PodDisruptionBudget whose selector does not match, unpinned images, missing memory limits,
    no spread. One system in seven is written as a ``kubectl get -o yaml`` style ``kind: List``.
    """
    catalog = _demo_catalog(Path(catalog_path).read_text(encoding="utf-8"))
    inventory = json.loads(Path(inventory_path).read_text(encoding="utf-8"))
    domain_of_group = {g["key"]: g["domain"] for g in catalog.get("groups", [])}
    domain_of_team = {t["key"]: domain_of_group.get(t["group"], "default") for t in catalog.get("teams", [])}
    compute: dict[str, list[dict]] = {}
    for asset in inventory.get("assets", []):
        if asset.get("type") == "compute":
            compute.setdefault(asset["tags"]["SystemID"], []).append(asset)
    written = []
    for position, system in enumerate(catalog.get("systems", [])):
        if position % every or not compute.get(system["id"]):
            continue
        namespace = domain_of_team.get(system["team"], "default")
        folder = out_dir / namespace
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{system['name']}.yaml"
        text = _demo_text(json.dumps(system, sort_keys=True), namespace,
                          json.dumps(sorted(compute[system["id"]], key=lambda a: a["id"]), sort_keys=True),
                          position // every % 7 == 3)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


@lru_cache(maxsize=4096)
def _demo_text(system: str, namespace: str, assets: str, as_list: bool) -> str:
    """One system's manifest text (cached: most systems do not change from one demo week to the next)."""
    documents = _demo_system(json.loads(system), namespace, json.loads(assets))
    if as_list:
        return yaml.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
                          "items": documents}, Dumper=_DUMPER, sort_keys=False, width=120)
    return yaml.dump_all(documents, Dumper=_DUMPER, sort_keys=False, width=120)


@lru_cache(maxsize=4)
def _demo_catalog(text: str) -> dict:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader (libyaml's when present)


def _demo_system(system: dict, namespace: str, assets: list[dict]) -> list[dict]:
    part_of = {"app.kubernetes.io/part-of": system["name"]}
    docs: list[dict] = [{"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": f"{system['name']}-config", "namespace": namespace, "labels": part_of},
                         "data": {"LOG_LEVEL": "info"}}]
    for asset in assets:
        name = asset["id"].split("/", 1)[1]
        rng = random.Random(f"{system['id']}:k8s:{name}")
        kind = "StatefulSet" if name.endswith("-events") else "Deployment"
        labels = {"app.kubernetes.io/name": name, **part_of}
        scaling = asset.get("autoscaling") or {}
        replicas = asset.get("replicas", 1)
        health = asset.get("health_checks") or {}
        container: dict[str, Any] = {
            "name": "app",
            "image": _demo_image(rng, namespace, name),
            "ports": [{"containerPort": 8080, "name": "http"}],
            "resources": {"requests": {"cpu": rng.choice(["250m", "500m", "1"]), "memory": rng.choice(["512Mi", "1Gi"])},
                          "limits": {"memory": rng.choice(["1Gi", "2Gi"])}},
        }
        if rng.random() < 0.15:
            del container["resources"]["limits"]
        if health.get("readiness"):
            container["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5}
        if health.get("liveness"):
            container["livenessProbe"] = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10}
        pod_spec: dict[str, Any] = {"containers": [container]}
        if len(set(asset.get("zones") or [])) >= 2:
            pod_spec["topologySpreadConstraints"] = [{
                "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}]
        elif rng.random() < 0.5:  # spread over nodes only: a spread, but not over zones
            pod_spec["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                   "labelSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}}]}}
        use_hpa = scaling.get("enabled") and rng.random() < 0.85
        spec: dict[str, Any] = {"selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                                "template": {"metadata": {"labels": labels}, "spec": pod_spec}}
        if not use_hpa or rng.random() < 0.5:
            spec = {"replicas": replicas, **spec}
        if kind == "StatefulSet":
            spec = {"serviceName": name, **spec}
        rollout = asset.get("deployment") or {}
        if rollout.get("strategy") == "recreate":
            spec = {**spec, "strategy": {"type": "Recreate"}} if kind == "Deployment" else \
                {**spec, "updateStrategy": {"type": "OnDelete"}}
        annotations = {}
        if asset.get("rps_per_replica") is not None:
            annotations[RPS_ANNOTATION] = str(asset["rps_per_replica"])
        if rollout.get("auto_rollback") and rollout.get("strategy") != "recreate":
            annotations[AUTO_ROLLBACK_ANNOTATION] = "true"  # a progressive-delivery controller watches it
        docs.append({"apiVersion": "apps/v1", "kind": kind,
                     "metadata": {"name": name, "namespace": namespace, "labels": labels,
                                  **({"annotations": annotations} if annotations else {})},
                     "spec": spec})
        docs.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": name, "namespace": namespace, "labels": labels},
                     "spec": {"selector": {"app.kubernetes.io/name": name},
                              "ports": [{"port": 80, "targetPort": "http", "name": "http"}],
                              **({"clusterIP": "None"} if kind == "StatefulSet" else {})}})
        if use_hpa:
            docs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                         "metadata": {"name": name, "namespace": namespace, "labels": labels},
                         "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name},
                                  "minReplicas": scaling.get("min", replicas),
                                  "maxReplicas": max(scaling.get("max", replicas), scaling.get("min", replicas)),
                                  "metrics": [{"type": "Resource", "resource": {
                                      "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}}}]}})
        if asset.get("disruption_budget"):
            # a typo'd selector is a classic: the budget exists and protects nothing
            selector_name = f"{name}-svc" if rng.random() < 0.2 else name
            docs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                         "metadata": {"name": name, "namespace": namespace, "labels": labels},
                         "spec": {"minAvailable": 1,
                                  "selector": {"matchLabels": {"app.kubernetes.io/name": selector_name}}}})
    if random.Random(f"{system['id']}:k8s:agent").random() < 0.2:
        name = f"{system['name']}-log-agent"
        labels = {"app.kubernetes.io/name": name, **part_of}
        docs.append({"apiVersion": "apps/v1", "kind": "DaemonSet",
                     "metadata": {"name": name, "namespace": namespace, "labels": labels},
                     "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                              "template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                                  "name": "agent", "image": "registry.example.internal/platform/log-agent:3.4.1",
                                  "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                                "limits": {"memory": "128Mi"}},
                                  "livenessProbe": {"httpGet": {"path": "/health", "port": 2020}}}]}}}})
    return docs


def _demo_image(rng: random.Random, namespace: str, name: str) -> str:
    repository = f"registry.example.internal/{namespace}/{name}"
    draw = rng.random()
    if draw < 0.1:
        return f"{repository}:latest"
    if draw < 0.15:
        return repository
    if draw < 0.3:
        return f"{repository}@sha256:{rng.getrandbits(256):064x}"
    return f"{repository}:1.{rng.randint(0, 40)}.{rng.randint(0, 9)}"


def collect_demo(engine: Engine, out_dir: Path, catalog_path: Path, inventory_path: Path, *,
                 now: datetime | None = None) -> tuple[KubernetesScan, StoreReport]:
    """Write the demo manifests into ``out_dir`` and collect them as `readiness collect kubernetes` does."""
    write_demo_manifests(out_dir, catalog_path, inventory_path)
    return collect_kubernetes(engine, [out_dir], now=now)


def demo_week(engine: Engine, out_dir: Path, catalog_path: Path, inventory_path: Path, *,
              now: datetime | None = None) -> None:
    """The demo's hook: every third system also runs on Kubernetes, mirroring this week's inventory."""
    collect_demo(engine, out_dir / "kubernetes", catalog_path, inventory_path, now=now)
