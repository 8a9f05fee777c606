"""Cloud-inventory export: assets tagged with a SystemID, grouped into facts per system.

The export is JSON or YAML: ``{"generated_at": ..., "assets": [...]}``; every
asset has ``id``, ``type`` and ``tags.SystemID``. Known fields are type-checked
so a wrong value is an error naming the asset and field; unknown fields are
kept, so teams can add context without a schema change. docs/inventory.md
documents every type and field with an example.

Asset types (``type`` -> facts key the rules read) and the fields rules use:

- ``compute`` -> ``compute``: replicas, zones, autoscaling {enabled, min, max,
  target_cpu}, health_checks {readiness, liveness}, disruption_budget,
  rps_per_replica, forecast_baseline_rps, forecast_flas_rps,
  capacity_reservation, quota_headroom, failover {mode, rto_minutes},
  deployment {strategy, auto_rollback}, tracing.
- ``database`` -> ``databases``: engine, multi_az, automatic_failover,
  failover_dns_ttl_seconds, backup_retention_days, storage_used_gb,
  storage_allocated_gb, storage_autoscaling, read_replicas, read_share, client
  {connect_timeout_ms, query_timeout_ms, scan_timeout_ms, pool_size,
  failover_aware, query_ms_p99, queries_per_request}.
- ``load_balancer`` -> ``load_balancers``: public, health_check, cross_zone,
  restricted_to_cdn.
- ``cdn`` -> ``edge``: waf, rate_limiting, ddos_protection, bot_management.
- ``function`` -> ``functions``: reserved_concurrency, peak_concurrency.
- ``alarm`` -> ``alarms``: signal (error_rate, latency, saturation,
  availability, slo_burn_rate, other), notifies.
- ``dashboard`` -> ``dashboards``: url.
- ``runbook`` -> ``runbooks``: url, topics, updated_on (+ age_days).
- ``oncall_rotation`` -> ``oncall``: members.
- ``dependency_client`` -> ``dependency_clients``: target, third_party,
  essential, timeout_ms, retries {max, backoff}, circuit_breaker, fallback,
  idempotent, idempotency_key, provider_rate_limit_rps, calls_per_request.
- ``log_group`` -> ``logs``: retention_days.
- ``slo`` -> ``slos``: latency_ms, latency_percentile, error_rate.
- ``drill`` -> ``drills``: kind (ddos, failover, load, spike, overload,
  restore), performed_on (+ age_days), outcome, rps, p95_ms, p99_ms,
  error_rate, breaking_point_rps, ramp_seconds, time_to_recovery_s.
- ``feature_flag`` -> ``feature_flags``: kill_switch, sheds.

Dated assets (drills, runbooks) get ``age_days``: whole days from their date
to the export's ``generated_at`` (or, when the export has none, to the day of
collection), so rules stay pure functions of the facts and need no clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from readiness.errors import InputError
from readiness.facts import CollectedFacts
from storage import MAX_YAML_BYTES, YamlError, load_document, out_of_bounds, read_text, utcnow


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
    storage_autoscaling: bool = False
    # connect_timeout_ms, query_timeout_ms (indexed lookups), scan_timeout_ms (non-indexed),
    # pool_size (per replica), failover_aware, query_ms_p99 (connection hold time), queries_per_request
    client: dict[str, Any] = {}


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
    failover: dict[str, Any] | None = None  # mode (active-active|active-passive|none), rto_minutes
    deployment: dict[str, Any] | None = None  # strategy (rolling|canary|blue_green|recreate), auto_rollback
    tracing: bool = False


class LoadBalancer(_Asset):
    type: Literal["load_balancer"]
    public: bool = False
    health_check: bool = False
    cross_zone: bool = False
    restricted_to_cdn: bool = False  # origin accepts traffic from the CDN only


class Edge(_Asset):
    type: Literal["cdn"]
    waf: bool = False
    rate_limiting: bool = False
    ddos_protection: bool = False
    bot_management: bool = False


class Function(_Asset):
    type: Literal["function"]
    reserved_concurrency: int | None = None
    peak_concurrency: int | None = None


class Alarm(_Asset):
    type: Literal["alarm"]
    signal: Literal["error_rate", "latency", "saturation", "availability", "slo_burn_rate", "other"]
    notifies: str = ""


class Dashboard(_Asset):
    type: Literal["dashboard"]
    url: str = ""


class Runbook(_Asset):
    type: Literal["runbook"]
    url: str = ""
    topics: list[str] = []
    updated_on: date | None = None


class OncallRotation(_Asset):
    type: Literal["oncall_rotation"]
    members: list[str] = []


class DependencyClient(_Asset):
    type: Literal["dependency_client"]
    target: str
    third_party: bool = False
    essential: bool = True  # the request fails without it (False: the caller can degrade)
    timeout_ms: int | None = None
    retries: dict[str, Any] | None = None  # max, backoff (exponential|fixed|none)
    circuit_breaker: bool = False
    fallback: bool = False
    idempotent: bool = True  # the called operation is safe to repeat
    idempotency_key: bool = False  # the client sends an idempotency key
    provider_rate_limit_rps: float | None = None  # the provider's contractual limit (third parties)
    calls_per_request: float = Field(default=1.0, ge=0)


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
    kind: Literal["ddos", "failover", "load", "spike", "overload", "restore"]
    performed_on: date
    outcome: Literal["passed", "failed"] = "passed"
    rps: float | None = None  # the rate the test held (load, spike) or ran at
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_rate: float | None = None
    breaking_point_rps: float | None = None  # overload tests
    ramp_seconds: float | None = None  # spike tests: time to reach rps
    time_to_recovery_s: float | None = None  # failover drills


class FeatureFlag(_Asset):
    type: Literal["feature_flag"]
    kill_switch: bool = False  # turns a feature off at once to shed load
    sheds: str = ""  # what it turns off


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
    "feature_flag": (FeatureFlag, "feature_flags"),
}
DATED = {"drill": "performed_on", "runbook": "updated_on"}

SYSTEM_TAG = "SystemID"


def load_inventory(path: Path) -> CollectedFacts:
    """Parse and validate an inventory export; any invalid asset rejects the file."""
    path = Path(path)
    raw, asset_lines = _read(path)
    assets = raw.get("assets")
    if not isinstance(assets, list):
        raise InputError(f"{path}: field assets: expected a list of assets")
    by_system: dict[str, dict[str, list]] = {}
    problems: list[str] = []
    as_of = _as_of(raw.get("generated_at"), path, problems)
    unmapped: list[str] = []
    first_of: dict[tuple[str, str], str] = {}  # (system, asset id) -> where it was first seen
    for index, asset in enumerate(assets):
        line = f":{asset_lines[index]}" if index < len(asset_lines) else ""
        where = f"{path}{line}: assets[{index}]"
        if not isinstance(asset, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        where += f" (id {asset.get('id', '?')})"
        kind = asset.get("type")
        if kind not in ASSET_TYPES:
            problems.append(f"{where}: field type: {kind!r} is not one of {sorted(ASSET_TYPES)}")
            continue
        out_of_range = out_of_bounds(asset)
        if out_of_range:
            problems += [f"{where}: field {field}: {problem}" for field, problem in out_of_range]
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
        here = f"assets[{index}]" + (f" (line {asset_lines[index]})" if line else "")
        first = first_of.setdefault((system_id, parsed.id), here)
        if first is not here:
            problems.append(f"{where}: field id: duplicate asset id {parsed.id!r} in system {system_id!r}, "
                            f"also {first}; every asset of a system needs its own id")
            continue
        facts = parsed.model_dump(mode="json", exclude={"tags"})
        facts.pop("type")
        if kind in DATED:
            dated = getattr(parsed, DATED[kind])
            facts["age_days"] = None if dated is None or as_of is None else (as_of - dated).days
        by_system.setdefault(system_id, {}).setdefault(key, []).append(facts)
    if problems:
        raise InputError(problems)
    for facts in by_system.values():
        for items in facts.values():
            items.sort(key=lambda a: a["id"])
    return CollectedFacts(source="inventory", by_system=by_system, origin=str(path), unmapped=sorted(unmapped))


def _as_of(generated_at: Any, path: Path, problems: list[str]) -> date | None:
    """The export's date, which asset ages count to; today's (UTC) when the export has none."""
    if generated_at is None:
        return utcnow().date()
    if isinstance(generated_at, datetime):
        return generated_at.date()
    if isinstance(generated_at, date):
        return generated_at
    try:
        return datetime.fromisoformat(str(generated_at)).date()
    except ValueError:
        problems.append(f"{path}: field generated_at: {generated_at!r} is not an ISO 8601 date or time")
        return None


MAX_JSON_BYTES = 1024 * 1024 * 1024  # JSON has no aliases: what is read is what is held (10,000 systems: 45 MB)


def _read(path: Path) -> tuple[dict, list[int]]:
    """The export as a mapping, and the line of each asset (YAML; none for JSON)."""
    if not path.exists():
        raise InputError(f"file not found: {path}")
    is_json = path.suffix.lower() == ".json"
    try:
        text = read_text(path, max_bytes=MAX_JSON_BYTES if is_json else MAX_YAML_BYTES)
        if is_json:
            raw, lines = json.loads(text), []
        else:
            document = load_document(text, origin=str(path))
            raw, lines = document.data, _asset_lines(document.node)
    except YamlError as exc:
        raise InputError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # a number of over 4,300 digits; nesting deeper than Python's stack
        raise InputError(f"{path}: invalid JSON: {exc or 'nested too deeply'}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping with an assets list")
    return raw, lines


def _asset_lines(root: yaml.Node | None) -> list[int]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "assets" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


@dataclass
class InventorySource:
    """The inventory export file as a fact source."""

    path: Path
    name: str = "inventory"
    freshness: timedelta = timedelta(days=2)

    def collect(self, engine=None) -> CollectedFacts:
        return load_inventory(self.path)
