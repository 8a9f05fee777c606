"""Kapacity's Prometheus history source: chunking, retries, refusals, configuration, CSV export."""

from __future__ import annotations

import json
import pickle
import threading
import urllib.error
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from kapacity import HistorySource
from kapacity.errors import HistoryError, KapacityError
from kapacity.history import read_history
from kapacity.sources_prometheus import (
    PrometheusHistorySource,
    ServiceQuery,
    load_prometheus_config,
    main,
    prometheus_source,
)

T0 = 1_700_000_000 - 1_700_000_000 % 3600  # on the hour
STEP = 60
QUERY = 'sum(rate(http_requests_total{service="checkout"}[5m]))'


def matrix(points, metric=None) -> dict:
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": metric or {}, "values": [[t, str(v)] for t, v in points]}]}}


class FakePrometheus:
    """Answers query_range from a function of time; records every request."""

    def __init__(self, value=lambda t: 100.0 + (t // STEP) % 7, *, failures=(), answer=None, rejects=()):
        self.value = value
        self.rejects = set(rejects)
        self.failures = list(failures)  # what to do on the first calls: an exception or (status, body)
        self.answer = answer
        self.calls: list[dict] = []

    def __call__(self, url, form, headers, timeout):
        self.calls.append(dict(form))
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        if self.answer is not None:
            return 200, json.dumps(self.answer).encode()
        if form["query"] in self.rejects:
            return 400, json.dumps({"status": "error", "errorType": "bad_data", "error": "unknown function"}).encode()
        start, end, step = int(form["start"]), int(form["end"]), int(form["step"])
        points = [(t, self.value(t)) for t in range(start, end + 1, step)]
        points = [(t, v) for t, v in points if v is not None]
        return 200, json.dumps(matrix(points) if points else
                               {"status": "success", "data": {"resultType": "matrix", "result": []}}).encode()


def source(fake, **options) -> PrometheusHistorySource:
    services = options.pop("services", [ServiceQuery("checkout", QUERY, step=STEP)])
    return PrometheusHistorySource("http://prom.test:9090", services, http=fake, sleep=options.pop("sleep", lambda s: None),
                                   **options)


def test_long_ranges_are_read_in_chunks_that_neither_drop_nor_repeat_a_point():
    fake = FakePrometheus()
    n = 3 * 1440 + 17
    [series] = source(fake, max_points=1000).read(T0, T0 + (n - 1) * STEP)
    assert len(fake.calls) == 5  # ceil(4337 / 1000)
    starts = [int(c["start"]) for c in fake.calls]
    ends = [int(c["end"]) for c in fake.calls]
    assert starts[0] == T0 and ends[-1] == T0 + (n - 1) * STEP
    assert all(s == e + STEP for s, e in zip(starts[1:], ends[:-1], strict=True))
    assert all((e - s) // STEP + 1 <= 1000 for s, e in zip(starts, ends, strict=True))
    assert series.n == n and series.start == T0 and series.step == STEP and series.tz == "+00:00"
    np.testing.assert_array_equal(series.values, [100.0 + k % 7 for k in range(T0 // STEP, T0 // STEP + n)])
    assert "5 chunks" in series.notes[0] and QUERY in series.source


def test_range_is_aligned_to_the_step_and_missing_steps_stay_gaps():
    fake = FakePrometheus(lambda t: None if T0 + 600 <= t < T0 + 900 else 5.0)
    [series] = source(fake).read(T0 - 30, T0 + 3 * 86400)
    assert series.start == T0  # the grid starts at the first step boundary
    assert np.isnan(series.values[10:15]).all() and not np.isnan(series.values[:10]).any()
    assert any("5 missing intervals" in note for note in series.notes)


def test_per_second_rates_become_counts_per_step():
    fake = FakePrometheus(lambda t: 2.5)
    [series] = source(fake, services=[ServiceQuery("checkout", QUERY, step=300, per="second")]).read(
        T0, T0 + 3 * 86400)
    assert series.step == 300 and np.all(series.values == 750.0)


def test_network_errors_and_5xx_are_retried_with_backoff():
    sleeps = []
    fake = FakePrometheus(failures=[urllib.error.URLError("connection refused"),
                                    (503, b'{"status":"error","error":"overloaded"}'), TimeoutError("timed out")])
    [series] = source(fake, sleep=sleeps.append, retries=3, backoff_seconds=0.5).read(T0, T0 + 3 * 86400)
    assert len(fake.calls) == 4 and sleeps == [0.5, 1.0, 2.0]
    assert series.n == 3 * 1440 + 1


def test_retries_give_up_naming_the_service_and_the_last_problem():
    fake = FakePrometheus(failures=[(502, b"bad gateway")] * 10)
    with pytest.raises(HistoryError) as err:
        source(fake, retries=2).read(T0, T0 + 3 * 86400)
    assert len(fake.calls) == 3
    assert "'checkout'" in str(err.value) and "failed 3 times" in str(err.value) and "HTTP 502" in str(err.value)


def test_a_rejected_query_fails_at_once_with_prometheus_error():
    body = {"status": "error", "errorType": "bad_data", "error": 'parse error: unexpected "}"'}
    fake = FakePrometheus(failures=[(400, json.dumps(body).encode())])
    with pytest.raises(HistoryError) as err:
        source(fake).read(T0, T0 + 3 * 86400)
    assert len(fake.calls) == 1
    assert "parse error" in str(err.value) and QUERY in str(err.value) and "bad_data" in str(err.value)


def test_a_query_returning_several_series_asks_for_aggregation():
    answer = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"instance": "a"}, "values": [[T0, "1"]]}, {"metric": {"instance": "b"}, "values": [[T0, "2"]]}]}}
    with pytest.raises(HistoryError, match=r"returned 2 series .*sum\("):
        source(FakePrometheus(answer=answer)).read(T0, T0 + 3 * 86400)


@pytest.mark.parametrize(("value", "word"), [(-1.0, "negative"), (float("inf"), "infinite"), (1e200, "out of range")])
def test_negative_infinite_or_overflowing_values_are_refused_naming_the_time(value, word):
    fake = FakePrometheus(lambda t: value if t == T0 + 120 else 1.0)
    with pytest.raises(HistoryError, match=word) as err:
        source(fake).read(T0, T0 + 3 * 86400)
    assert "2023-11-14T22:02:00Z" in str(err.value)


def test_no_data_and_too_little_history_are_errors():
    with pytest.raises(HistoryError, match="no data"):
        source(FakePrometheus(lambda t: None)).read(T0, T0 + 3 * 86400)
    with pytest.raises(HistoryError, match="history too short"):
        source(FakePrometheus()).read(T0, T0 + 3600)


def test_fetch_answers_kapacity_with_each_service_and_their_total():
    fake = FakePrometheus(lambda t: 10.0, rejects={"broken(query)"})
    src = PrometheusHistorySource(
        "http://prom.test:9090", [ServiceQuery("api", "sum(rate(api_requests[5m]))", per="second"),
                                  ServiceQuery("SYS-1/web", "sum(web_requests)"), ServiceQuery("cron", "broken(query)")],
        default_query=ServiceQuery("default", 'sum(x{system="$system_id",service="$service"})'),
        http=fake, window=(T0, T0 + 3 * 86400))
    assert isinstance(src, HistorySource)
    history = src.fetch("SYS-1", ["api", "web", 'odd"name', "cron"])
    assert sorted(history.services) == ["api", 'odd"name', "web"]
    assert history.services["api"].name == "SYS-1/api" and np.all(history.services["api"].values == 600.0)
    assert 'sum(x{system="SYS-1",service="odd\\"name"})' in [c["query"] for c in fake.calls]
    assert history.problems[0].startswith("SYS-1/cron: Prometheus rejected") and "unknown function" in history.problems[0]
    # without cron the sum would understate the system's traffic: no total, and it says why
    assert history.total is None and "SYS-1: total not computed" in history.problems[1]
    assert "SYS-1/cron" in history.problems[1] and len(history.problems) == 2
    history = src.fetch("SYS-1", ["api", "web"])
    assert history.problems == [] and history.total.name == "SYS-1" and np.all(history.total.values == 610.0)
    assert "prom.test:9090" in src.describe() and "2023-11-14" in src.describe()


def test_fetch_reads_a_configured_total_and_skips_services_without_a_query():
    fake = FakePrometheus(lambda t: 3.0)
    src = PrometheusHistorySource("http://prom.test:9090", [ServiceQuery("api", "sum(a)")],
                                  totals={"SYS-2": ServiceQuery("SYS-2", "sum(total)")}, http=fake,
                                  window=(T0, T0 + 3 * 86400))
    history = src.fetch("SYS-2", ["unlisted"])
    assert history.services == {} and history.total.name == "SYS-2" and history.problems == []
    assert [c["query"] for c in fake.calls] == ["sum(total)"]
    assert src.fetch("SYS-3", ["unlisted"]).total is None


def test_the_source_pickles_for_dask_workers():
    src = prometheus_source({"url": "http://prom:9090", "lookback": "14d", "services": {"api": "sum(a)"},
                             "default_query": {"query": "sum(b)", "step": "5m"}})
    back = pickle.loads(pickle.dumps(src))
    assert back.services == src.services and back.default_query.step == 300 and back.lookback_seconds == 14 * 86400


def test_configuration_names_the_bad_key():
    good = {"url": "http://prom:9090", "retries": 1, "services": {
        "checkout": {"query": QUERY, "step": "5m", "per": "second", "tz": "Europe/Amsterdam"},
        "search": "sum(rate(search_requests_total[5m]))"}}
    built = prometheus_source(good)
    assert [(s.name, s.step, s.per, s.tz) for s in built.services] == [
        ("checkout", 300, "second", "Europe/Amsterdam"), ("search", 60, "interval", None)]
    with pytest.raises(HistoryError, match=r"services.checkout.promql: unknown key"):
        prometheus_source({"url": "http://p:9090", "services": {"checkout": {"promql": QUERY}}})
    with pytest.raises(HistoryError, match="does not divide a day"):
        prometheus_source({"url": "http://p:9090", "services": {"checkout": {"query": QUERY, "step": 420 * 60 + 7}}})
    with pytest.raises(HistoryError, match="expected http"):
        prometheus_source({"url": "prom:9090", "services": {"checkout": QUERY}})
    with pytest.raises(HistoryError, match="no service 'cart'"):
        built.read(T0, T0 + 86400, series="cart")


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakePrometheus"

    def do_POST(self):  # noqa: N802 - http.server's hook name
        form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
        self.server.forms.append(form)
        if len(self.server.forms) == 1:  # the first call fails like an overloaded server
            self.send_response(503)
            self.end_headers()
            self.wfile.write(b"try later")
            return
        start, end, step = int(form["start"]), int(form["end"]), int(form["step"])
        body = json.dumps(matrix([(t, 10 + (t // 3600) % 24) for t in range(start, end + 1, step)],
                                 {"service": "checkout"})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_export_over_http_gives_a_history_file_kapacity_reads(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.forms = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = tmp_path / "prometheus.yaml"
        config.write_text(f"url: http://127.0.0.1:{server.server_port}\nretries: 2\n"
                          f"services:\n  checkout:\n    query: '{QUERY}'\n    step: 1h\n", encoding="utf-8")
        assert load_prometheus_config(config).services[0].step == 3600
        out = tmp_path / "history.csv"
        main(["--config", str(config), "--lookback", "7d", "--out", str(out)])
    finally:
        server.shutdown()
    assert len(server.forms) == 2 and server.forms[1]["query"] == QUERY and server.forms[1]["step"] == "3600"
    [series] = read_history(out, series="checkout")
    assert series.step == 3600 and series.n >= 7 * 24 and np.nanmin(series.values) >= 10


def test_a_service_without_data_is_left_out_of_the_total_like_a_missing_file():
    fake = FakePrometheus(lambda t: 4.0)
    src = PrometheusHistorySource(
        "http://prom.test:9090", [ServiceQuery("quiet", "sum(nothing)")],
        default_query=ServiceQuery("default", 'sum(x{service="$service"})'),
        http=lambda url, form, headers, timeout: (
            (200, json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}).encode())
            if form["query"] == "sum(nothing)" else fake(url, form, headers, timeout)),
        window=(T0, T0 + 3 * 86400))
    history = src.fetch("SYS-1", ["api", "quiet"])
    assert sorted(history.services) == ["api"] and np.all(history.total.values == 4.0)
    assert len(history.problems) == 1 and history.problems[0].startswith("SYS-1/quiet: no data")


def test_a_system_template_gives_the_total_so_a_failing_service_does_not_block_it():
    fake = FakePrometheus(lambda t: 9.0, rejects={'broken{service="cron"}'})
    src = PrometheusHistorySource(
        "http://prom.test:9090", default_query=ServiceQuery("default", 'broken{service="$service"}'),
        system_query=ServiceQuery("system", 'sum(x{system="$system_id"})'), http=fake, window=(T0, T0 + 3 * 86400))
    history = src.fetch('SYS-"9', ["cron"])
    assert history.total.name == 'SYS-"9' and np.all(history.total.values == 9.0)
    assert 'sum(x{system="SYS-\\"9"})' in [c["query"] for c in fake.calls]
    assert len(history.problems) == 1 and history.problems[0].startswith('SYS-"9/cron: Prometheus rejected')


def test_requests_in_flight_never_exceed_the_concurrency():
    lock, state = threading.Lock(), {"now": 0, "max": 0}
    fake = FakePrometheus(lambda t: 1.0)

    def slow(url, form, headers, timeout):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        threading.Event().wait(0.05)
        with lock:
            state["now"] -= 1
        return fake(url, form, headers, timeout)

    src = PrometheusHistorySource("http://prom.test:9090", default_query=ServiceQuery("d", 'sum(x{s="$service"})'),
                                  concurrency=2, http=slow, window=(T0, T0 + 3 * 86400))
    history = src.fetch("SYS-1", [f"svc{i}" for i in range(6)])
    assert len(history.services) == 6 and history.problems == [] and len(fake.calls) == 6
    assert state["max"] == 2


def test_the_auth_header_comes_from_the_environment_and_is_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("PROM_TOKEN", "Bearer s3cret-token")
    config = tmp_path / "prometheus.yaml"
    config.write_text("url: http://prom.test:9090\nauth: {env: PROM_TOKEN}\nheaders: {X-Scope-OrgID: shop}\n"
                      "service_query: sum(x)\nconcurrency: 2\nend: 2023-11-17T22:00:00Z\nlookback: 3d\n",
                      encoding="utf-8")
    seen = []
    fake = FakePrometheus(lambda t: 1.0)
    src = load_prometheus_config(config, http=lambda url, form, headers, timeout: (
        seen.append(dict(headers)), fake(url, form, headers, timeout))[1])
    history = src.fetch("SYS-1", ["api"])
    assert seen[0] == {"X-Scope-OrgID": "shop", "Authorization": "Bearer s3cret-token"}
    assert history.total is not None and "s3cret" not in history.total.source + " ".join(history.total.notes)
    assert "s3cret" not in repr(src) and "s3cret" not in src.describe() and "***" in repr(src)
    assert src.window == (1700258400 - 3 * 86400, 1700258400)
    monkeypatch.delenv("PROM_TOKEN")
    with pytest.raises(HistoryError, match=r"prometheus.yaml: auth.env: environment variable PROM_TOKEN is not set"):
        load_prometheus_config(config)


@pytest.mark.parametrize(("text", "where"), [
    ("url: http://p:9090\nservice_query: sum(x)\nstep: 7m\n", "step: 420s does not divide a day"),
    ("url: http://p:9090\nservices: {api: {query: sum(x), per: minute}}\n", "services.api.per: Input should be"),
    ("url: http://p:9090\nsystems: {SYS-1: {query: ''}}\n", "systems.SYS-1.query: String should have at least 1"),
    ("url: http://p:9090\nservice_query: sum(x)\nconcurrency: 0\n", "concurrency: Input should be greater"),
    ("url: http://p:9090\nservice_query: sum(x)\nlookback: soon\n", "lookback: duration 'soon' not understood"),
    ("url: http://user:pw@p:9090\nservice_query: sum(x)\n", "url: credentials in the URL"),
    ("url: http://p:9090\n", "config: no query"),
    ("url: http://p:9090\nservice_query: sum(x)\nheaders: {Authorization: Bearer x}\n", "headers: a secret header"),
    ("url: http://p:9090\nservice_query: sum(x)\nauth: {token: abc}\n", "auth.token: unknown key"),
    ("url: [unclosed\n", "invalid YAML"),
    ("- a list\n", "expected a mapping"),
])
def test_configuration_errors_name_the_file_and_the_field(tmp_path, text, where):
    config = tmp_path / "prom.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(HistoryError) as err:
        load_prometheus_config(config)
    assert str(err.value).startswith(f"{config}: ") and where in str(err.value)


def test_older_key_names_still_work():
    src = prometheus_source({"url": "http://p:9090", "default_query": "sum(a)", "totals": {"SYS-1": "sum(t)"},
                             "step": "5m", "per": "second", "tz": "-04:00"})
    assert src.default_query == ServiceQuery("default", "sum(a)", 300, "second", "-04:00")
    assert src.totals["SYS-1"].query == "sum(t)" and src.concurrency == 4


def test_the_scheduled_refresh_reads_one_history_source_and_says_which(engine, tmp_path):
    from kapacity import refresh_forecasts
    from kapacity.settings import KapacityConfig

    assert "KAPACITY_PROMETHEUS_CONFIG" in refresh_forecasts(engine, config=KapacityConfig())
    with pytest.raises(HistoryError, match=r"missing.yaml: file not found"):
        refresh_forecasts(engine, config=KapacityConfig(prometheus_config=tmp_path / "missing.yaml"))
    with pytest.raises(KapacityError, match="both KAPACITY_PROMETHEUS_CONFIG and KAPACITY_HISTORY_DIR"):
        refresh_forecasts(engine, config=KapacityConfig(prometheus_config=tmp_path / "p.yaml", history_dir=tmp_path))
