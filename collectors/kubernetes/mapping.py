"""Which system a workload belongs to: a mapping file, system labels, then namespaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from collectors.kubernetes.parse import K8sObject, as_mapping
from readiness import InputError
from storage import YamlError, load_yaml, read_text

DEFAULT_SYSTEM_LABELS = ("app.kubernetes.io/part-of", "app.kubernetes.io/name", "app")


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
        labels = {**as_mapping(as_mapping(as_mapping(as_mapping(obj.data.get("spec")).get("template")).get("metadata"))
                             .get("labels")), **as_mapping(obj.metadata.get("labels"))}
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
        raw = load_yaml(read_text(path), origin=str(path)) or {}
    except YamlError as exc:
        raise InputError(f"mapping file {exc}") from None
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


