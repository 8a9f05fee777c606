"""Reading Kubernetes manifests safely: files and folders, multi-document YAML, ``kind: List`` exports.

Only the kinds the facts need are kept (workloads, autoscalers, disruption budgets, services);
other kinds are counted as skipped. A file with any problem contributes nothing, and each
problem names the file, line and document (and the List item), with what would be accepted.
Unrendered Helm templates get one message saying how to render them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from storage import YamlError, YamlLimitError, load_documents, out_of_bounds, read_text

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
WORKLOAD_GROUPS = ("apps", "extensions")  # extensions/v1beta1 in very old exports
READ_KINDS = {**{k: WORKLOAD_GROUPS for k in WORKLOAD_KINDS}, "HorizontalPodAutoscaler": ("autoscaling",),
              "PodDisruptionBudget": ("policy",), "Service": ("",)}
BUILTIN_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "extensions"}
SUFFIXES = (".yaml", ".yml", ".json")
INT32_MAX = 2**31 - 1  # replica counts are int32 in the Kubernetes API
_TEMPLATE = re.compile(r"\{\{.*?\}\}")


def as_mapping(value: Any) -> dict:
    """The value if it is a mapping, else an empty one: manifests are read as found, never trusted."""
    return value if isinstance(value, dict) else {}


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
        return as_mapping(self.data.get("metadata"))

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
        text = read_text(path)
    except OSError as exc:
        return [], [f"{name}: cannot read: {exc}"], Counter()
    except YamlError as exc:  # not UTF-8, or above the size limit
        return [], [f"cannot read: {exc}"], Counter()
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
        documents = load_documents(text, origin=name)
    except YamlLimitError as exc:  # an alias bomb, a recursive alias, too deep: refused before anything walks it
        return [], [str(exc)], Counter()
    except YamlError as exc:
        template = _template_line(text)
        if template:
            return [], [_helm_message(name, *template)], Counter()
        return [], [f"{name}:{exc.line or '?'}: {exc.problem.splitlines()[0]}"], Counter()
    objects: list[K8sObject] = []
    problems: list[str] = []
    skipped: Counter = Counter()
    for document in documents:
        index, line, data, node = document.index, document.line, document.data, document.node
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
    for place, problem in out_of_bounds(data)[:1]:
        return f"{obj.where()} ({obj.kind} {name}): field {place}: {problem}"
    spec = data.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return f"{obj.where()} ({obj.kind} {name}): field spec: expected a mapping"
    spec = spec or {}
    if obj.kind in WORKLOAD_KINDS:
        replicas = spec.get("replicas")
        if replicas is not None and (not isinstance(replicas, int) or isinstance(replicas, bool)
                                     or not 0 <= replicas <= INT32_MAX):
            return (f"{obj.where()} ({obj.kind} {name}): field spec.replicas: expected a whole number "
                    f"from 0 to {INT32_MAX} (Kubernetes' int32), got {replicas!r}")
        containers = as_mapping(as_mapping(spec.get("template")).get("spec")).get("containers")
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


