"""Traffic history from Prometheus: a PromQL expression per service, read with ``query_range``.

It implements Kapacity's :class:`~kapacity.sources.HistorySource` protocol (``name``,
``describe()``, ``fetch(system_id, services)``), so catalog runs forecast from
Prometheus as they do from a directory of files, and it returns the same
:class:`~kapacity.history.Series` the file reader does::

    source = load_prometheus_config("prometheus.yaml")
    run_catalog(engine, source)                                  # every system in the catalog
    [series] = source.read(start, end, series="checkout-api")    # one service, any range

Configuration (YAML)::

    url: http://prometheus:9090          # base URL of the Prometheus HTTP API
    lookback: 28d                        # how much history fetch() reads, up to now
    timeout_seconds: 30                  # per request
    retries: 3                           # extra attempts on network errors, 429 and 5xx
    headers: {Authorization: "Bearer ..."}  # optional
    services:                            # per service (catalog name, or SYSTEM_ID/service)
      checkout-api:
        query: sum(rate(http_requests_total{service="checkout-api"}[5m]))
        per: second                      # the query gives requests/s; values become counts per step
        step: 1m                         # grid resolution (must divide a day)
        tz: Europe/Amsterdam             # zone for daily/weekly seasonality (default UTC)
      SYS-0042/search: sum(increase(search_requests_total[1m]))   # a bare query: per step, 1m
    default_query:                       # optional: services not listed above
      query: sum(rate(http_requests_total{system="$system_id", service="$service"}[5m]))
      per: second
    totals:                              # optional: a system's total; else the sum of its services
      SYS-0042: sum(rate(http_requests_total{system="SYS-0042"}[5m])) * 60

Design:

- Long ranges are cut into chunks of at most ``max_points`` grid points (Prometheus
  refuses more than 11,000 points per series per query) and stitched on one grid
  aligned to ``step``; a chunk boundary neither drops nor repeats a point.
- A failed request is retried with exponential backoff on network errors,
  timeouts, HTTP 429 and 5xx; a query Prometheus rejects (HTTP 400/422, with its
  error text) fails at once, naming the service and the query.
- A query must return one series (aggregate with ``sum(...)``); steps without a
  sample stay gaps (NaN), as in file history. Negative or infinite values are errors.
- ``fetch`` never raises for one service: its problem is reported and the others
  are still read (as the directory source does). The source is picklable, so dask
  workers can run it.
- The Series' ``source`` names the URL and query, and ``notes`` the chunks and
  gaps, so a forecast records what produced it.
"""

from __future__ import annotations

import json
import math
import re
import string
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kapacity.errors import HistoryError
from kapacity.history import (
    DAY,
    MAX_VALUE,
    MIN_OBSERVATIONS,
    MIN_SPAN_SECONDS,
    Series,
    parse_duration,
)
from kapacity.sources import SystemHistory, sum_series

MAX_POINTS = 10_000  # per request and series; Prometheus' own limit is 11,000
RETRY_STATUS = {429, 500, 502, 503, 504}

Fetch = Callable[[str, Mapping[str, str], Mapping[str, str], float], tuple[int, bytes]]


@dataclass(frozen=True)
class ServiceQuery:
    """Where one service's request history comes from."""

    name: str
    query: str
    step: int = 60
    per: str = "interval"  # interval: the query gives requests per step; second: requests per second
    tz: str | None = None  # IANA zone or +HH:MM for seasonality; None: UTC

    def __post_init__(self) -> None:
        place = f"service {self.name!r}"
        if not self.query.strip():
            raise HistoryError("query: empty; expected a PromQL expression", place=place)
        if self.step <= 0 or DAY % self.step:
            raise HistoryError(f"step: {self.step}s does not divide a day; accepted: 1m, 5m, 15m, 1h, ...",
                               place=place)
        if self.per not in ("interval", "second"):
            raise HistoryError(f"per: {self.per!r}; accepted: interval (requests per step) or second "
                               "(requests per second, e.g. from rate())", place=place)


def _http_post(url: str, form: Mapping[str, str], headers: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    data = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class _Retryable(Exception):
    pass


@dataclass
class PrometheusHistorySource:
    """Reads each configured service's history from one Prometheus server."""

    url: str
    services: Sequence[ServiceQuery] = ()
    default_query: ServiceQuery | None = None  # a template: $system_id and $service are filled in
    totals: Mapping[str, ServiceQuery] = field(default_factory=dict)  # per system id
    lookback_seconds: int = 28 * DAY
    timeout: float = 30.0
    retries: int = 3
    backoff_seconds: float = 0.5
    max_points: int = MAX_POINTS
    headers: Mapping[str, str] = field(default_factory=dict)
    http: Fetch = _http_post
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    window: tuple[float, float] | None = None  # fixed (start, end) instead of lookback up to now
    name: str = "prometheus"
    requests: int = 0  # query_range calls made (for tests and logs)

    def __post_init__(self) -> None:
        if not re.match(r"^https?://", self.url):
            raise HistoryError(f"url: {self.url!r}; expected http(s)://host:port of the Prometheus API",
                               place="prometheus")
        names = [s.name for s in self.services]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise HistoryError(f"services: {', '.join(duplicates)} configured twice", place="prometheus")
        if not 2 <= self.max_points <= 11_000:
            raise HistoryError(f"max_points: {self.max_points}; accepted 2 to 11000", place="prometheus")
        if self.lookback_seconds < MIN_SPAN_SECONDS:
            raise HistoryError(f"lookback: {self.lookback_seconds}s is shorter than the "
                               f"{MIN_SPAN_SECONDS // DAY} days a forecast needs", place="prometheus")

    # -- kapacity.sources.HistorySource -----------------------------------------------------

    def describe(self) -> str:
        start, end = self._window()
        return (f"prometheus {self.url} ({len(self.services)} service queries"
                f"{', a default query' if self.default_query else ''}; {_iso(start)} to {_iso(end)})")

    def fetch(self, system_id: str, services: Sequence[str]) -> SystemHistory:
        """The system's services that have a query, and its total (configured, else their sum)."""
        out = SystemHistory(system_id)
        start, end = self._window()
        for service in sorted(set(services)):
            query = self.query_for(system_id, service)
            if query is None:
                continue
            try:
                out.services[service] = _renamed(self.read_service(query, start, end), f"{system_id}/{service}")
            except HistoryError as exc:
                out.problems.append(str(exc))
        total = self.totals.get(system_id)
        if total is not None:
            try:
                out.total = _renamed(self.read_service(total, start, end), system_id)
            except HistoryError as exc:
                out.problems.append(str(exc))
        elif out.services:
            try:
                out.total = sum_series([out.services[k] for k in sorted(out.services)], system_id)
            except HistoryError as exc:
                out.problems.append(str(exc))
        return out

    def query_for(self, system_id: str, service: str) -> ServiceQuery | None:
        by_name = {s.name: s for s in self.services}
        found = by_name.get(f"{system_id}/{service}") or by_name.get(service)
        if found is not None or self.default_query is None:
            return found
        template = string.Template(self.default_query.query)
        query = template.safe_substitute(system_id=_label_value(system_id), service=_label_value(service))
        return ServiceQuery(f"{system_id}/{service}", query, self.default_query.step, self.default_query.per,
                            self.default_query.tz)

    def _window(self) -> tuple[float, float]:
        if self.window is not None:
            return self.window
        end = self.clock()
        return end - self.lookback_seconds, end

    # -- direct reads ------------------------------------------------------------------------

    def read(self, start: datetime | float, end: datetime | float, *, series: str | None = None) -> list[Series]:
        """History of every service (or the one named) between ``start`` and ``end``."""
        wanted = list(self.services)
        if series is not None:
            wanted = [s for s in self.services if s.name == series]
            if not wanted:
                found = ", ".join(s.name for s in self.services) or "none"
                raise HistoryError(f"no service {series!r}; configured: {found}", place="prometheus")
        return [self.read_service(s, start, end) for s in wanted]

    def read_recent(self, lookback: str | int, *, now: datetime | float | None = None,
                    series: str | None = None) -> list[Series]:
        """The last ``lookback`` (``28d``, ``8w`` or seconds) up to ``now``."""
        end = _epoch(now) if now is not None else time.time()
        seconds = parse_duration(lookback) if isinstance(lookback, str) else int(lookback)
        return self.read(end - seconds, end, series=series)

    def read_service(self, service: ServiceQuery, start: datetime | float, end: datetime | float) -> Series:
        place = f"prometheus service {service.name!r}"
        first, last = _epoch(start), _epoch(end)
        step = service.step
        t0 = int(math.ceil(first / step) * step)  # grid aligned to the step, like recording rules
        if last < t0:
            raise HistoryError(f"empty range: end {_iso(last)} is before start {_iso(first)}", place=place)
        n = int((last - t0) // step) + 1
        values = np.full(n, np.nan)
        chunks = 0
        labels_seen: dict[str, str] | None = None
        for k in range(0, n, self.max_points):
            count = min(self.max_points, n - k)
            chunk_start, chunk_end = t0 + k * step, t0 + (k + count - 1) * step
            result = self._query_range(service, chunk_start, chunk_end)
            chunks += 1
            if len(result) > 1:
                shown = "; ".join(json.dumps(r.get("metric", {}), sort_keys=True) for r in result[:3])
                raise HistoryError(f"query returned {len(result)} series ({shown}); aggregate it to one, "
                                   f"e.g. sum({service.query})", place=place)
            if not result:
                continue
            labels_seen = result[0].get("metric", {})
            for stamp, text in result[0].get("values", []):
                i = int(round((float(stamp) - t0) / step))
                if not 0 <= i < n:
                    continue
                value = float(text)
                if math.isnan(value):
                    continue
                if math.isinf(value) or value < 0:
                    raise HistoryError(f"value {text} at {_iso(float(stamp))} is {'infinite' if math.isinf(value) else 'negative'}; "
                                       "expected a request rate or count (0 or more)", place=place)
                values[i] = value * step if service.per == "second" else value
                if values[i] > MAX_VALUE:  # as file history: beyond it the models overflow to 0 or inf
                    raise HistoryError(f"value {text} at {_iso(float(stamp))} is out of range; expected a count "
                                       f"of at most {MAX_VALUE:g} per step", place=place)
        if labels_seen is None:
            raise HistoryError(f"no data between {_iso(t0)} and {_iso(t0 + (n - 1) * step)} for query "
                               f"{service.query!r}", place=place)
        observed = ~np.isnan(values)
        idx = np.flatnonzero(observed)
        values = values[idx[0]:idx[-1] + 1]  # trim leading and trailing gaps, keep inner ones
        grid_start = t0 + int(idx[0]) * step
        span = int(idx[-1] - idx[0]) * step
        if idx.size < MIN_OBSERVATIONS or span < MIN_SPAN_SECONDS:
            raise HistoryError(f"history too short: {idx.size} observations spanning {span // 3600}h; need at "
                               f"least {MIN_OBSERVATIONS} over {MIN_SPAN_SECONDS // DAY} days", place=place)
        notes = [f"read from {self.url} with query_range step {step}s in {chunks} chunk(s)"]
        gaps = int(np.count_nonzero(np.isnan(values)))
        if gaps:
            notes.append(f"{gaps} missing intervals left as gaps")
        if service.per == "second":
            notes.append(f"requests per second multiplied by the {step}s step")
        return Series(service.name, grid_start, step, values, service.tz or "+00:00",
                      f"prometheus {self.url} query {service.query}", tuple(notes))

    def _query_range(self, service: ServiceQuery, start: int, end: int) -> list[dict]:
        endpoint = self.url.rstrip("/") + "/api/v1/query_range"
        form = {"query": service.query, "start": str(start), "end": str(end), "step": str(service.step),
                "timeout": f"{max(1, int(self.timeout))}s"}
        place = f"prometheus service {service.name!r}"
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            self.requests += 1
            try:
                return self._answer(*self.http(endpoint, form, self.headers, self.timeout), service, place)
            except _Retryable as exc:
                problem = str(exc)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                problem = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        raise HistoryError(f"{endpoint} failed {self.retries + 1} time(s) for {_iso(start)} to {_iso(end)}: "
                           f"{problem}", place=place)

    @staticmethod
    def _answer(status: int, body: bytes, service: ServiceQuery, place: str) -> list[dict]:
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError:
            payload = None
        if status in RETRY_STATUS:
            detail = payload.get("error") if isinstance(payload, dict) else body[:200].decode(errors="replace")
            raise _Retryable(f"HTTP {status}: {detail}")
        if not isinstance(payload, dict):
            raise HistoryError(f"HTTP {status}: not a Prometheus API answer: {body[:200]!r}", place=place)
        if status != 200 or payload.get("status") != "success":
            raise HistoryError(f"Prometheus rejected query {service.query!r} (HTTP {status}, "
                               f"{payload.get('errorType', '?')}): {payload.get('error', '?')}", place=place)
        data = payload.get("data") or {}
        if data.get("resultType") != "matrix":
            raise HistoryError(f"query gave a {data.get('resultType')!r}, expected a range vector (matrix): "
                               "use an instant-vector expression", place=place)
        return list(data.get("result") or [])


def _renamed(series: Series, name: str) -> Series:
    return Series(name, series.start, series.step, series.values, series.tz, series.source, series.notes)


def _label_value(text: str) -> str:
    """Safe inside a PromQL double-quoted label value."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _epoch(moment: datetime | float) -> float:
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return float(moment)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _duration(value: Any, place: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise HistoryError(str(exc), place=place) from None


def _query_spec(name: str, spec: Any, place: str) -> ServiceQuery:
    if isinstance(spec, str):
        spec = {"query": spec}
    if not isinstance(spec, Mapping):
        raise HistoryError("expected a PromQL string or a mapping with query, step, per, tz", place=place)
    extra = sorted(set(spec) - {"query", "step", "per", "tz"})
    if extra:
        raise HistoryError(f"unknown key(s) {', '.join(extra)}; accepted: query, step, per, tz", place=place)
    if "query" not in spec:
        raise HistoryError("no query: expected a PromQL expression giving the service's requests", place=place)
    try:
        return ServiceQuery(name, str(spec["query"]), _duration(spec.get("step", 60), place + ".step"),
                            str(spec.get("per", "interval")), spec.get("tz"))
    except HistoryError as exc:
        raise HistoryError(str(exc).split(": ", 1)[-1], place=place) from None


KEYS = ("url", "lookback", "timeout_seconds", "retries", "headers", "max_points", "services", "default_query",
        "totals")


def prometheus_source(config: Mapping[str, Any], *, origin: str = "prometheus config", **overrides: Any
                      ) -> PrometheusHistorySource:
    """Build a source from a mapping (the parsed YAML); errors name the key."""
    if not isinstance(config, Mapping):
        raise HistoryError("expected a mapping with url and services", place=origin)
    unknown = sorted(set(config) - set(KEYS))
    if unknown:
        raise HistoryError(f"unknown key(s) {', '.join(unknown)}; accepted: {', '.join(KEYS)}", place=origin)
    services_raw = config.get("services") or {}
    if not isinstance(services_raw, Mapping) or not (services_raw or config.get("default_query")):
        raise HistoryError("services: expected a mapping of service name to {query, step, per, tz} "
                           "(or a default_query)", place=origin)
    services = [_query_spec(str(name), spec, f"{origin}: services.{name}") for name, spec in services_raw.items()]
    totals_raw = config.get("totals") or {}
    if not isinstance(totals_raw, Mapping):
        raise HistoryError("totals: expected a mapping of SystemID to a query", place=origin)
    options: dict[str, Any] = {
        "url": str(config.get("url", "")), "services": services,
        "totals": {str(k): _query_spec(str(k), v, f"{origin}: totals.{k}") for k, v in totals_raw.items()}}
    if config.get("default_query") is not None:
        options["default_query"] = _query_spec("default", config["default_query"], f"{origin}: default_query")
    if "lookback" in config:
        options["lookback_seconds"] = _duration(config["lookback"], f"{origin}: lookback")
    if "timeout_seconds" in config:
        options["timeout"] = float(config["timeout_seconds"])
    if "retries" in config:
        options["retries"] = int(config["retries"])
    if "max_points" in config:
        options["max_points"] = int(config["max_points"])
    if "headers" in config:
        options["headers"] = {str(k): str(v) for k, v in dict(config["headers"]).items()}
    return PrometheusHistorySource(**(options | overrides))


def load_prometheus_config(path: str | Path, **overrides: Any) -> PrometheusHistorySource:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise HistoryError("file not found", place=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise HistoryError(f"invalid YAML: {exc}", place=str(path)) from None
    return prometheus_source(raw, origin=str(path), **overrides)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m kapacity.sources_prometheus --config prometheus.yaml --lookback 28d --out history.csv``:
    write ``timestamp,value,series`` that ``kapacity forecast --history`` reads."""
    import argparse
    import sys

    from kapacity.history import series_frame

    parser = argparse.ArgumentParser(prog="python -m kapacity.sources_prometheus", description=main.__doc__)
    parser.add_argument("--config", required=True, type=Path, help="YAML with url and services")
    parser.add_argument("--lookback", default="28d", help="how much history: 14d, 8w, ...")
    parser.add_argument("--series", help="only this service")
    parser.add_argument("--out", type=Path, help="CSV file (default: stdout)")
    args = parser.parse_args(argv)
    try:
        loaded = load_prometheus_config(args.config).read_recent(args.lookback, series=args.series)
    except HistoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    frame = series_frame(loaded)
    if args.out:
        frame.to_csv(args.out, index=False)
        print(f"wrote {len(frame)} rows of {len(loaded)} series to {args.out}", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False)


if __name__ == "__main__":
    main()
