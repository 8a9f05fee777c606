"""A real Prometheus server both ways: Kapacity reads backfilled history from it, and it
scrapes `readiness serve` and answers for the company score. Also loads our alert rules."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kapacity import KapacityFactSource, RunSettings, run_catalog
from kapacity.capacity import CapacitySettings, capacity
from kapacity.history import Series, read_history
from kapacity.service import ForecastSettings, forecast_series
from kapacity.sources_prometheus import PrometheusHistorySource, ServiceQuery
from readiness import active_systems, collect_and_store, latest_facts, scores
from storage import get_engine
from tests.ops.support import (
    REPO,
    copy_sqlite,
    free_port,
    iso_to_epoch,
    prometheus_server,
    require_prometheus,
    serve_process,
    wait_for,
    wait_listening,
    write_openmetrics,
)

pytestmark = pytest.mark.slow

START, END = "1995-07-03T00:00:00-04:00", "1995-07-17T00:00:00-04:00"  # two weeks from a Monday, no gaps
METRIC = "nasa_http_requests_per_minute"


def test_real_prometheus_feeds_kapacity_and_scrapes_readiness_serve(tmp_path, data_dir, demo_db):
    require_prometheus()
    csv = data_dir / "nasa_http_requests_1min.csv.gz"
    om = tmp_path / "history.om"
    expected = write_openmetrics(csv, om, start=START, end=END, metric=METRIC, labels={"service": "nasa-www"})
    db = copy_sqlite(demo_db, tmp_path / "demo.db")
    company = scores(get_engine(db), "company")[0]["score"] / 100

    # serve imports while promtool backfills and Prometheus starts (it retries the scrape until up)
    with serve_process(db, "--schedule", "0 0 1 1 *", "--no-catch-up", port=free_port(), wait=False) as (
            serve, serve_port), \
            prometheus_server(tmp_path / "prom", blocks_from=om, scrape_targets=[f"127.0.0.1:{serve_port}"],
                              rule_files=[REPO / "docs" / "prometheus-alerts.yaml"]) as prom:
        # Prometheus in: Kapacity reads the backfilled history in chunks and forecasts from it
        source = PrometheusHistorySource(prom.url, [ServiceQuery(
            "nasa-www", f'sum({METRIC}{{service="nasa-www"}})', step=60, tz="-04:00")], max_points=6_000,
            timeout=10)
        [series] = source.read(iso_to_epoch(START), iso_to_epoch(END) - 60)
        assert source.requests == 4  # 20,160 points in chunks of at most 6,000
        assert series.n == len(expected) == 20_160
        assert series.start == int(expected["epoch"].iloc[0])
        np.testing.assert_array_equal(series.values, expected["value"].to_numpy(dtype=float))

        [from_file] = read_history(csv)
        offset = (series.start - from_file.start) // 60
        from_file = Series(from_file.name, series.start, 60, from_file.values[offset:offset + series.n], "-04:00")
        settings = ForecastSettings(model="profile", country="US")
        forecast = forecast_series(series, 1440, settings)
        np.testing.assert_allclose(forecast.mean, forecast_series(from_file, 1440, settings).mean)
        daily_peak = float(np.nanmax(series.values[-7 * 1440:]))
        assert 0.2 * daily_peak < forecast.mean.max() < 2 * daily_peak
        figures = capacity(series, forecast, CapacitySettings())
        assert 0 < figures["baseline_rps"] <= figures["flas_rps"]

        # a catalog run forecasts a system's service from Prometheus; its capacity becomes a fact
        engine = get_engine(db)
        system = next(s for s in active_systems(engine) if s.services)
        service = system.services[0]["name"]
        catalog_source = PrometheusHistorySource(
            prom.url, [ServiceQuery(f"{system.system_id}/{service}", f'sum({METRIC}{{service="nasa-www"}})',
                                    step=60, tz="-04:00")], window=(iso_to_epoch(START), iso_to_epoch(END) - 60))
        run = run_catalog(engine, catalog_source, systems=[system.system_id],
                          settings=RunSettings(horizon_seconds=86400))
        assert (run.stored_systems, run.series, run.errors) == (1, 2, []), run  # the total and the service
        stored = collect_and_store(engine, KapacityFactSource())
        assert stored.systems == 1 and not stored.errors

        # Prometheus out: it scrapes /metrics and answers for the company score
        def company_score():
            answer = prom.query('readiness_score_ratio{level="company"}')
            result = answer["data"]["result"]
            return float(result[0]["value"][1]) if result else None

        wait_listening(serve)
        scraped = wait_for(company_score, 30, "Prometheus to scrape the company score")
        assert scraped == pytest.approx(company, abs=1e-4)  # scores() rounds to 0.01 of 100
        up = prom.query('up{job="readiness"}')["data"]["result"]
        assert up and up[0]["value"][1] == "1"

        def capacity_scraped():
            result = prom.query(f'readiness_forecast_capacity_rps{{system_id="{system.system_id}"}}')["data"]["result"]
            return {r["metric"]["forecast"]: float(r["value"][1]) for r in result} if len(result) == 2 else None

        scraped_capacity = wait_for(capacity_scraped, 30, "the Kapacity capacity in /metrics")
        facts = latest_facts(engine, [system.system_id])[system.system_id]["kapacity"].data
        assert scraped_capacity == pytest.approx({"baseline": facts["baseline_rps"], "flas": facts["flas_rps"]})

        # the alert rules load and evaluate without errors against real series
        def rules_evaluated():
            groups = prom.get("/api/v1/rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules) else None

        rules = wait_for(rules_evaluated, 20, "the alert rules to be evaluated")
        assert [r["name"] for r in rules if r["health"] != "ok"] == []

        # every dashboard expression is valid PromQL on this server
        dashboard = json.loads((REPO / "docs" / "grafana-dashboard.json").read_text())
        exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
        for expr in exprs:
            answer = prom.query(expr.replace("$__rate_interval", "1m").replace("$level", "team"))
            assert answer["status"] == "success", (expr, answer)
    assert serve.popen.returncode in (0, -15)
