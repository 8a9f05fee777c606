"""The `readiness serve` configuration file: schedule, sources, rule folders, notifications.

YAML, strict (unknown keys refused), relative paths relative to the file; every
error names the file and the field. :func:`build_sources` turns the ``sources``
list into fact sources, refusing at start a type nobody registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
)

from readiness import FactSource, InputError, InventorySource, registered_sources
from storage import YamlError, read_config

DEFAULT_SCHEDULE = "*/15 * * * *"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InventorySourceConfig(_Strict):
    type: Literal["inventory"]
    path: Path


class KubernetesSourceConfig(_Strict):
    type: Literal["kubernetes"]
    paths: list[Path] = Field(min_length=1)
    system_labels: list[str] | None = None
    mapping: Path | None = None


class RegisteredSourceConfig(_Strict):
    """A fact source another context registers (entry points ``peak_readiness.fact_sources``):
    ``kapacity``, ``perftest``, ... ``options`` go to its factory."""

    type: str
    options: dict[str, Any] = Field(default_factory=dict)


def _source_kind(raw: Any) -> str:
    kind = raw.get("type") if isinstance(raw, dict) else getattr(raw, "type", None)
    return kind if kind in ("inventory", "kubernetes") else "registered"


SourceConfig = Annotated[
    Annotated[InventorySourceConfig, Tag("inventory")] | Annotated[KubernetesSourceConfig, Tag("kubernetes")]
    | Annotated[RegisteredSourceConfig, Tag("registered")], Discriminator(_source_kind)]


def _check_cron(value: str | None) -> str | None:
    if value is not None and not croniter.is_valid(value):
        raise ValueError(f"{value!r} is not a cron expression; accepted: five fields like '*/15 * * * *' "
                         "(minute hour day month weekday, UTC), or six with seconds last")
    return value


class NotifyConfig(_Strict):
    """Digests and reminders. URLs default to PEAK_NOTIFY_URLS, as for flash sales (one channel)."""

    digest_schedule: str | None = "0 7 * * MON"  # weekly digests per team and domain; null: none
    reminder_schedule: str | None = "0 7 * * *"  # reminders before waivers and approvals expire
    reminder_days: list[int] = Field(default_factory=lambda: [14, 3])
    urls: list[str] | None = None
    email_domain: str | None = None
    routing: str | None = None  # routing file (channels per team, group, domain, role); else PEAK_NOTIFY_ROUTING
    milestone_schedule: str | None = "0 7 * * *"  # nudges before milestones, overdue lists after; null: none
    milestone_lead_days: int = Field(default=14, ge=0, le=120)  # how long before a milestone its nudge goes
    app_url: str | None = None  # the app's address for links to system pages; else PEAK_APP_URL

    def app_address(self) -> str:
        import os

        return (self.app_url or os.environ.get("PEAK_APP_URL") or "http://localhost:8501").rstrip("/")

    _cron = field_validator("digest_schedule", "reminder_schedule", "milestone_schedule")(_check_cron)

    @field_validator("reminder_days")
    @classmethod
    def _positive(cls, days: list[int]) -> list[int]:
        if any(d <= 0 for d in days):
            raise ValueError("reminder days must be positive numbers of days before expiry")
        return sorted(set(days), reverse=True)


# /metrics has no authentication: it listens on loopback unless the config or --host says otherwise
DEFAULT_HOST = "127.0.0.1"


class ServeConfig(_Strict):
    schedule: str = DEFAULT_SCHEDULE
    host: str = DEFAULT_HOST
    rules_dirs: list[Path] = Field(default_factory=list)
    sources: list[SourceConfig] = Field(default_factory=list)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)

    _cron = field_validator("schedule")(_check_cron)


def load_config(path: Path | None) -> ServeConfig:
    """Read the YAML config; relative paths are relative to the file. Errors name the field."""
    if path is None:
        return ServeConfig()
    path = Path(path)
    if not path.is_file():
        raise InputError(f"config file not found: {path}", origin=str(path))
    try:
        raw = read_config(path) or {}
    except YamlError as exc:  # invalid, not UTF-8, or beyond the safe reader's limits (aliases, size)
        raise InputError(exc.problem if exc.line is None else f"line {exc.line}: {exc.problem}",
                         origin=str(path)) from None
    if not isinstance(raw, dict):
        raise InputError("expected a mapping with schedule, sources, rules_dirs, notify", origin=str(path))
    try:
        config = ServeConfig.model_validate(raw)
    except ValidationError as exc:
        raise InputError([f"{_loc(err['loc'], raw)}: {err['msg']}" for err in exc.errors()],
                         origin=str(path)) from None
    return _resolve_paths(config, path.parent)


def _loc(loc: tuple, raw: dict) -> str:
    parts = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]" if parts else f"[{item}]"]
        elif item in ("inventory", "kubernetes", "registered"):
            continue  # the discriminator pydantic puts in the path
        else:
            parts.append(str(item))
    return ".".join(parts) or "config"


def _resolve_paths(config: ServeConfig, base: Path) -> ServeConfig:
    def fix(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else base / p)

    sources = []
    for source in config.sources:
        if isinstance(source, InventorySourceConfig):
            source = source.model_copy(update={"path": fix(source.path)})
        elif isinstance(source, KubernetesSourceConfig):
            source = source.model_copy(update={"paths": [fix(p) for p in source.paths],
                                               "mapping": fix(source.mapping)})
        sources.append(source)
    return config.model_copy(update={"sources": sources, "rules_dirs": [fix(p) for p in config.rules_dirs]})


def build_sources(config: ServeConfig) -> list[FactSource]:
    """The fact sources the config names; an unknown one raises InputError at start."""
    from collectors import KubernetesSource

    sources: list[FactSource] = []
    plugins = None
    for i, item in enumerate(config.sources):
        if isinstance(item, InventorySourceConfig):
            sources.append(InventorySource(item.path))
        elif isinstance(item, KubernetesSourceConfig):
            sources.append(KubernetesSource(list(item.paths), item.system_labels, item.mapping))
        else:
            plugins = plugins if plugins is not None else registered_sources()
            if item.type not in plugins:
                accepted = ", ".join(["inventory", "kubernetes", *plugins])
                raise InputError(f"sources[{i}].type: unknown source {item.type!r}; accepted: {accepted}")
            try:
                sources.append(plugins[item.type].load()(**item.options))
            except TypeError as exc:
                raise InputError(f"sources[{i}].options: {exc}") from None
    return sources


