"""The Prometheus history configuration file: read safely, validated, errors naming file and field.

One YAML file says where a catalog run's history comes from::

    url: https://prometheus.example.com      # base URL of the Prometheus HTTP API
    auth:                                    # optional; the value is read from the environment
      header: Authorization                  # (default), e.g. X-Scope-OrgID for a tenant
      env: PROMETHEUS_AUTH                   # e.g. PROMETHEUS_AUTH="Bearer eyJ..."; never in the file
    step: 1m                                 # defaults for every query below
    per: second                              # the queries give requests/s (rate()); or interval
    tz: Europe/Amsterdam                     # zone for daily/weekly seasonality (default UTC)
    lookback: 28d                            # how much history each run reads, up to now (or `end`)
    concurrency: 4                           # requests in flight at most (per process)
    retries: 3                               # extra attempts on network errors, 429 and 5xx
    service_query: sum(rate(http_requests_total{system="$system_id", service="$service"}[5m]))
    system_query: sum(rate(http_requests_total{system="$system_id"}[5m]))   # optional
    services:                                # per service overrides (name or SYSTEM_ID/name)
      checkout-api: sum(rate(checkout_requests_total[5m]))
    systems:                                 # per system overrides of system_query
      SYS-0042: {query: "sum(rate(edge_requests_total[5m]))", step: 5m}

The older keys ``default_query`` (= ``service_query``) and ``totals`` (= ``systems``) are
still accepted. A secret never sits in the file or in what a run stores: the file names
the environment variable; the source masks the value in its ``repr``.

This module only validates; :func:`kapacity.sources_prometheus.load_prometheus_config`
turns the result into a history source (so forecast workers never import pydantic).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kapacity.errors import HistoryError
from kapacity.history import DAY, parse_duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _seconds(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)  # its ValueError becomes the field's message
    return value


class QuerySpec(_Strict):
    """One PromQL expression; what it leaves out comes from the file's defaults."""

    query: str = Field(min_length=1)
    step: int | None = None
    per: Literal["interval", "second"] | None = None
    tz: str | None = None

    _step = field_validator("step", mode="before")(_seconds)

    @field_validator("step")
    @classmethod
    def _divides_a_day(cls, step: int | None) -> int | None:
        if step is not None and (step <= 0 or DAY % step):
            raise ValueError(f"{step}s does not divide a day; accepted: 1m, 5m, 15m, 1h, ...")
        return step


def _query(value: Any) -> Any:
    return {"query": value} if isinstance(value, str) else value


class AuthConfig(_Strict):
    header: str = Field("Authorization", min_length=1)
    env: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class PrometheusConfig(_Strict):
    url: str
    auth: AuthConfig | None = None
    headers: dict[str, str] = Field(default_factory=dict)  # not secret: e.g. X-Scope-OrgID
    step: int = 60
    per: Literal["interval", "second"] = "interval"
    tz: str | None = None
    lookback: int = 28 * DAY
    end: datetime | None = None  # a fixed end instead of now: reproduce a run, read a backfill
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    retries: int = Field(3, ge=0, le=10)
    backoff_seconds: float = Field(0.5, ge=0, le=60)
    concurrency: int = Field(4, ge=1, le=32)
    max_points: int = Field(10_000, ge=2, le=11_000)
    service_query: QuerySpec | None = Field(None, validation_alias=AliasChoices("service_query", "default_query"))
    system_query: QuerySpec | None = None
    services: dict[str, QuerySpec] = Field(default_factory=dict)
    systems: dict[str, QuerySpec] = Field(default_factory=dict, validation_alias=AliasChoices("systems", "totals"))

    _durations = field_validator("step", "lookback", mode="before")(_seconds)
    _one_query = field_validator("service_query", "system_query", mode="before")(_query)

    @field_validator("services", "systems", mode="before")
    @classmethod
    def _queries(cls, value: Any) -> Any:
        return {k: _query(v) for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r}; expected http:// or https://host:port of the Prometheus API")
        if "@" in url.split("/")[2]:
            raise ValueError("credentials in the URL would be stored with every run; use auth.env")
        return url

    @field_validator("headers")
    @classmethod
    def _no_secret_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        if any(name.lower() in ("authorization", "proxy-authorization") for name in headers):
            raise ValueError("a secret header would sit in the file; use auth: {header: ..., env: VARIABLE}")
        return headers

    @field_validator("step")
    @classmethod
    def _step_divides_a_day(cls, step: int) -> int:
        return QuerySpec._divides_a_day(step)

    @field_validator("end")
    @classmethod
    def _aware(cls, end: datetime | None) -> datetime | None:
        return end if end is None or end.tzinfo else end.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _some_query(self) -> PrometheusConfig:
        if not (self.services or self.service_query or self.systems or self.system_query):
            raise ValueError("no query: give service_query, system_query, services or systems")
        return self

    def source_options(self, *, origin: str = "prometheus config") -> dict[str, Any]:
        """Keyword arguments for ``PrometheusHistorySource``, queries as ``ServiceQuery`` fields;
        the auth value is read from the environment now, so a missing variable fails at once."""
        options: dict[str, Any] = {
            "url": self.url, "services": [self._spec(k, v) for k, v in self.services.items()],
            "default_query": self._spec("default", self.service_query) if self.service_query else None,
            "system_query": self._spec("system", self.system_query) if self.system_query else None,
            "totals": {k: self._spec(k, v) for k, v in self.systems.items()},
            "lookback_seconds": self.lookback, "timeout": self.timeout_seconds, "retries": self.retries,
            "backoff_seconds": self.backoff_seconds, "concurrency": self.concurrency,
            "max_points": self.max_points, "headers": dict(self.headers), "auth": self._auth(origin)}
        if self.end is not None:
            end = self.end.timestamp()
            options["window"] = (end - self.lookback, end)
        return options

    def _spec(self, name: str, spec: QuerySpec) -> dict[str, Any]:
        return {"name": name, "query": spec.query, "step": spec.step or self.step, "per": spec.per or self.per,
                "tz": spec.tz or self.tz}

    def _auth(self, origin: str) -> tuple[str, str] | None:
        if self.auth is None:
            return None
        value = os.environ.get(self.auth.env, "")
        if not value.strip():
            raise HistoryError(f"auth.env: environment variable {self.auth.env} is not set or empty; "
                               f"it holds the {self.auth.header} header's value", place=origin)
        return self.auth.header, value


def prometheus_config(raw: Any, *, origin: str = "prometheus config") -> PrometheusConfig:
    """Validate a parsed mapping; every problem is named by its field."""
    if not isinstance(raw, dict):
        raise HistoryError("expected a mapping with url and service_query, system_query, services or systems",
                           place=origin)
    try:
        return PrometheusConfig.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {_message(err)}" for err in exc.errors()]
        raise HistoryError("; ".join(problems), place=origin) from None


def _message(err: dict) -> str:
    text = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return "unknown key"
    return text


def read_prometheus_config(path: str | Path) -> PrometheusConfig:
    """Read a configuration file (YAML, safe loader) and validate it."""
    from storage import YamlError, read_config

    path = Path(path)
    if not path.is_file():
        raise HistoryError("file not found", place=str(path))
    try:
        raw = read_config(path)
    except YamlError as exc:  # invalid, not UTF-8, or beyond the safe reader's limits (aliases, size)
        raise HistoryError(exc.problem + (f" (line {exc.line})" if exc.line else ""), place=str(path)) from None
    return prometheus_config(raw, origin=str(path))
