"""Traffic history from Prometheus: a PromQL expression per service, read with ``query_range``.

It implements Kapacity's :class:`~kapacity.sources.HistorySource` protocol (``name``,
``describe()``, ``fetch(system_id, services)``), so catalog runs forecast from
Prometheus as they do from a directory of files, and it returns the same
:class:`~kapacity.history.Series` the file reader does::

    source = load_prometheus_config("prometheus.yaml")          # see kapacity.prometheus_config
    run_catalog(engine, source)                                  # every system in the catalog
    [series] = source.read(start, end, series="checkout-api")    # one service, any range

``kapacity run --source prometheus --config FILE`` and the scheduled refresh
(``KAPACITY_PROMETHEUS_CONFIG``) do the same. The file's format is described in
:mod:`kapacity.prometheus_config` and docs/prometheus.md.

Design:

- Long ranges are cut into chunks of at most ``max_points`` grid points (Prometheus
  refuses more than 11,000 points per series per query) and stitched on one grid
  aligned to ``step``; a chunk boundary neither drops nor repeats a point.
- A failed request is retried with exponential backoff on network errors,
  timeouts, HTTP 429 and 5xx; a query Prometheus rejects (HTTP 400/422, with its
  error text) fails at once, naming the service and the query.
- A query must return one series (aggregate with ``sum(...)``); steps without a
  sample stay gaps (NaN), as in file history. Negative or infinite values are errors.
- ``fetch`` never raises for one series: its problem is reported, named by the series
  key (``SYS-1/checkout-api: ...``), and the others are still read, at most
  ``concurrency`` requests at a time. A query matching nothing leaves the service out
  (as a missing file does); a failed one refuses a total summed from the services.
  The source is picklable, so dask workers can run it (the auth value goes with it).
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

from clikit import counted
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


class _NoData(HistoryError):
    """The query matched nothing in the window: like a missing history file, not a failure."""


@dataclass(frozen=True)
class AuthHeader:
    """One request header whose value is a secret (read from the environment by the config)."""

    name: str
    value: str = field(repr=False)

    def __repr__(self) -> str:
        return f"AuthHeader({self.name!r}, value='***')"


@dataclass
class PrometheusHistorySource:
    """Reads each configured service's history from one Prometheus server."""

    url: str
    services: Sequence[ServiceQuery] = ()
    default_query: ServiceQuery | None = None  # a template: $system_id and $service are filled in
    totals: Mapping[str, ServiceQuery] = field(default_factory=dict)  # per system id
    system_query: ServiceQuery | None = None  # a template for a system's total: $system_id
    lookback_seconds: int = 28 * DAY
    timeout: float = 30.0
    retries: int = 3
    backoff_seconds: float = 0.5
    max_points: int = MAX_POINTS
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: AuthHeader | None = None
    concurrency: int = 1  # requests in flight at most, per process
    http: Fetch = _http_post
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    window: tuple[float, float] | None = None  # fixed (start, end) instead of lookback up to now
    name: str = "prometheus"
    requests: int = 0  # query_range calls made (for tests and logs)

    def __post_init__(self) -> None:
        if not re.match(r"^https?://", self.url):
            raise HistoryError(f"url: {self.url!r}; expected http:// or https://host:port of the Prometheus API",
                               place="prometheus")
        names = [s.name for s in self.services]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise HistoryError(f"services: {', '.join(duplicates)} configured twice", place="prometheus")
        if not 2 <= self.max_points <= 11_000:
            raise HistoryError(f"max_points: {self.max_points}; accepted 2 to 11000", place="prometheus")
        if not 1 <= self.concurrency <= 32:
            raise HistoryError(f"concurrency: {self.concurrency}; accepted 1 to 32", place="prometheus")
        if self.lookback_seconds < MIN_SPAN_SECONDS:
            raise HistoryError(f"lookback: {self.lookback_seconds}s is shorter than the "
                               f"{MIN_SPAN_SECONDS // DAY} days a forecast needs", place="prometheus")

    # -- kapacity.sources.HistorySource -----------------------------------------------------

    def describe(self) -> str:
        start, end = self._window()
        queries = [f"{len(self.services)} service queries"]
        if self.default_query:
            queries.append("a service template")
        if self.totals:
            queries.append(f"{len(self.totals)} system queries")
        if self.system_query:
            queries.append("a system template")
        return f"prometheus {self.url} ({', '.join(queries)}; {_iso(start)} to {_iso(end)})"

    def fetch(self, system_id: str, services: Sequence[str]) -> SystemHistory:
        """The system's services that have a query, and its total (its own query, else their sum).

        Each failure is a named problem and the other series are still read. A service whose
        query matches nothing is left out, as a missing file is; one that fails makes a summed
        total refused, since a total without it would understate the traffic.
        """
        out = SystemHistory(system_id)
        start, end = self._window()
        wanted = {service: q for service in sorted(set(services))
                  if (q := self.query_for(system_id, service)) is not None}
        total_query = self.total_for(system_id)
        jobs = [(f"{system_id}/{service}", q) for service, q in wanted.items()]
        if total_query is not None:
            jobs.append((system_id, total_query))
        failed = []
        for (name, _), outcome in zip(jobs, self._read_all([q for _, q in jobs], start, end), strict=True):
            if isinstance(outcome, HistoryError):
                bare = str(outcome).removeprefix(f"{outcome.place}: ") if outcome.place else str(outcome)
                out.problems.append(f"{name}: {bare}")  # named by the catalog's series key
                if not isinstance(outcome, _NoData):
                    failed.append(name)
            elif name == system_id:
                out.total = _renamed(outcome, system_id)
            else:
                out.services[name.split("/", 1)[1]] = _renamed(outcome, name)
        if total_query is None and out.services:
            if failed:
                out.problems.append(f"{system_id}: total not computed: the sum of its services would leave "
                                    f"out {', '.join(failed)}; fix the query or configure system_query")
            else:
                try:
                    out.total = sum_series([out.services[k] for k in sorted(out.services)], system_id)
                except HistoryError as exc:
                    out.problems.append(str(exc))
        return out

    def _read_all(self, queries: Sequence[ServiceQuery], start: float, end: float) -> list[Series | HistoryError]:
        """Each query's series or its error, at most ``concurrency`` requests in flight."""
        def read(query: ServiceQuery) -> Series | HistoryError:
            try:
                return self.read_service(query, start, end)
            except HistoryError as exc:
                return exc

        if self.concurrency == 1 or len(queries) < 2:
            return [read(q) for q in queries]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(self.concurrency, len(queries))) as pool:
            return list(pool.map(read, queries))

    def total_for(self, system_id: str) -> ServiceQuery | None:
        """The system's own total query: configured for it, else the system template."""
        if system_id in self.totals:
            return self.totals[system_id]
        if self.system_query is None:
            return None
        query = string.Template(self.system_query.query).safe_substitute(system_id=_label_value(system_id))
        return ServiceQuery(system_id, query, self.system_query.step, self.system_query.per, self.system_query.tz)

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
            raise _NoData(f"no data between {_iso(t0)} and {_iso(t0 + (n - 1) * step)} for query "
                               f"{service.query!r}", place=place)
        observed = ~np.isnan(values)
        idx = np.flatnonzero(observed)
        values = values[idx[0]:idx[-1] + 1]  # trim leading and trailing gaps, keep inner ones
        grid_start = t0 + int(idx[0]) * step
        span = int(idx[-1] - idx[0]) * step
        if idx.size < MIN_OBSERVATIONS or span < MIN_SPAN_SECONDS:
            raise HistoryError(f"history too short: {idx.size} observations spanning {span // 3600}h; need at "
                               f"least {MIN_OBSERVATIONS} over {MIN_SPAN_SECONDS // DAY} days", place=place)
        notes = [f"read from {self.url} with query_range step {step}s in {counted(chunks, 'chunk')}"]
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
            self.requests += 1  # a tally for tests and logs; threads may race on it
            try:
                return self._answer(*self.http(endpoint, form, self._headers(), self.timeout), service, place)
            except _Retryable as exc:
                problem = str(exc)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                problem = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        raise HistoryError(f"{endpoint} failed {counted(self.retries + 1, 'time')} for {_iso(start)} to {_iso(end)}: "
                           f"{problem}", place=place)

    def _headers(self) -> Mapping[str, str]:
        return dict(self.headers) | ({self.auth.name: self.auth.value} if self.auth else {})

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


def prometheus_source(config: Mapping[str, Any], *, origin: str = "prometheus config", **overrides: Any
                      ) -> PrometheusHistorySource:
    """Build a source from a mapping (the parsed YAML); errors name the field
    (the format: :mod:`kapacity.prometheus_config`)."""
    from kapacity.prometheus_config import prometheus_config

    return _built(prometheus_config(config, origin=origin).source_options(origin=origin), overrides)


def load_prometheus_config(path: str | Path, **overrides: Any) -> PrometheusHistorySource:
    """The history source a configuration file describes; errors name the file and the field."""
    from kapacity.prometheus_config import read_prometheus_config

    options = read_prometheus_config(path).source_options(origin=str(path))
    return _built(options, overrides)


def _built(options: dict[str, Any], overrides: Mapping[str, Any]) -> PrometheusHistorySource:
    def query(spec: dict | None) -> ServiceQuery | None:
        return None if spec is None else ServiceQuery(**spec)

    options |= {"services": [query(s) for s in options["services"]],
                "default_query": query(options["default_query"]), "system_query": query(options["system_query"]),
                "totals": {k: query(v) for k, v in options["totals"].items()},
                "auth": AuthHeader(*options["auth"]) if options["auth"] else None}
    return PrometheusHistorySource(**(options | dict(overrides)))


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
