"""Cloud-inventory export: assets tagged with a SystemID, grouped into facts per system.

The export is JSON or YAML: ``{"generated_at": ..., "assets": [...]}``; every
asset has ``id``, ``type`` and ``tags.SystemID``. Known fields are type-checked
so a wrong value is an error naming the asset and field; unknown fields are
kept, so teams can add context without a schema change. See docs/inventory.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from readiness.errors import InputError
from readiness.facts import CollectedFacts


class _Asset(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1)
    tags: dict[str, str] = {}


class Database(_Asset):
    type: Literal["database"]
    engine: str = ""
    multi_az: bool = False
    automatic_failover: bool = False
    failover_dns_ttl_seconds: int | None = None
    backup_retention_days: int = 0
    storage_used_gb: float | None = None
    storage_allocated_gb: float | None = None
    read_replicas: int = 0
    read_share: float | None = None  # share of queries that are reads
    client: dict[str, Any] = {}  # connect_timeout_ms, query_timeout_ms, scan_timeout_ms, pool_size, failover_aware


class Compute(_Asset):
    type: Literal["compute"]
    replicas: int = Field(default=1, ge=0)
    zones: list[str] = []
    autoscaling: dict[str, Any] | None = None  # enabled, min, max, target_cpu, max_rps
    health_checks: dict[str, bool] = {}  # readiness, liveness
    disruption_budget: dict[str, Any] | None = None
    rps_per_replica: float | None = None  # requests/s one replica serves within SLO
    forecast_baseline_rps: float | None = None  # a team's own forecast, until Kapacity provides one
    forecast_flas_rps: float | None = None
    capacity_reservation: bool = False
    quota_headroom: float | None = None  # share of the account quota still free


class LoadBalancer(_Asset):
    type: Literal["load_balancer"]
    public: bool = False
    health_check: bool = False
    cross_zone: bool = False


class Edge(_Asset):
    type: Literal["cdn"]
    waf: bool = False
    rate_limiting: bool = False
    ddos_protection: bool = False


class Function(_Asset):
    type: Literal["function"]
    reserved_concurrency: int | None = None
    peak_concurrency: int | None = None


class Alarm(_Asset):
    type: Literal["alarm"]
    signal: Literal["error_rate", "latency", "saturation", "availability", "other"]
    notifies: str = ""


class Dashboard(_Asset):
    type: Literal["dashboard"]
    url: str = ""


class Runbook(_Asset):
    type: Literal["runbook"]
    url: str = ""
    topics: list[str] = []
    updated_on: str | None = None


class OncallRotation(_Asset):
    type: Literal["oncall_rotation"]
    members: list[str] = []


class DependencyClient(_Asset):
    type: Literal["dependency_client"]
    target: str
    third_party: bool = False
    timeout_ms: int | None = None
    retries: dict[str, Any] | None = None  # max, backoff (exponential|fixed|none)
    circuit_breaker: bool = False
    fallback: bool = False


class LogGroup(_Asset):
    type: Literal["log_group"]
    retention_days: int = 0


class Slo(_Asset):
    type: Literal["slo"]
    latency_ms: float | None = None
    latency_percentile: float | None = None
    error_rate: float | None = None


class Drill(_Asset):
    type: Literal["drill"]
    kind: Literal["ddos", "failover", "load", "spike", "overload"]
    performed_on: str
    outcome: Literal["passed", "failed"] = "passed"
    rps: float | None = None


ASSET_TYPES: dict[str, tuple[type[_Asset], str]] = {
    "database": (Database, "databases"),
    "compute": (Compute, "compute"),
    "load_balancer": (LoadBalancer, "load_balancers"),
    "cdn": (Edge, "edge"),
    "function": (Function, "functions"),
    "alarm": (Alarm, "alarms"),
    "dashboard": (Dashboard, "dashboards"),
    "runbook": (Runbook, "runbooks"),
    "oncall_rotation": (OncallRotation, "oncall"),
    "dependency_client": (DependencyClient, "dependency_clients"),
    "log_group": (LogGroup, "logs"),
    "slo": (Slo, "slos"),
    "drill": (Drill, "drills"),
}

SYSTEM_TAG = "SystemID"


def load_inventory(path: Path) -> CollectedFacts:
    """Parse and validate an inventory export; any invalid asset rejects the file."""
    path = Path(path)
    raw = _read(path)
    assets = raw.get("assets")
    if not isinstance(assets, list):
        raise InputError(f"{path}: field assets: expected a list of assets")
    by_system: dict[str, dict[str, list]] = {}
    problems: list[str] = []
    unmapped: list[str] = []
    for index, asset in enumerate(assets):
        where = f"{path}: assets[{index}]"
        if not isinstance(asset, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        where += f" (id {asset.get('id', '?')})"
        kind = asset.get("type")
        if kind not in ASSET_TYPES:
            problems.append(f"{where}: field type: {kind!r} is not one of {sorted(ASSET_TYPES)}")
            continue
        model, key = ASSET_TYPES[kind]
        try:
            parsed = model.model_validate(asset)
        except ValidationError as exc:
            problems += [f"{where}: field {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            continue
        system_id = parsed.tags.get(SYSTEM_TAG)
        if not system_id:
            unmapped.append(parsed.id)
            continue
        facts = parsed.model_dump(exclude={"tags"})
        facts.pop("type")
        by_system.setdefault(system_id, {}).setdefault(key, []).append(facts)
    if problems:
        raise InputError(problems)
    for facts in by_system.values():
        for items in facts.values():
            items.sort(key=lambda a: a["id"])
    return CollectedFacts(source="inventory", by_system=by_system, origin=str(path), unmapped=sorted(unmapped))


def _read(path: Path) -> dict:
    if not path.exists():
        raise InputError(f"file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"{path}:{mark.line + 1 if mark else '?'}: invalid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping with an assets list")
    return raw


@dataclass
class InventorySource:
    """The inventory export file as a fact source."""

    path: Path
    name: str = "inventory"
    freshness: timedelta = timedelta(days=2)

    def collect(self, engine=None) -> CollectedFacts:
        return load_inventory(self.path)
