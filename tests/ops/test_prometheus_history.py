"""Prometheus as a catalog run's history source, against a real Prometheus server on loopback
(backfilled with promtool from the NASA series in tests/data): `kapacity run --source
prometheus` matches the same series read from files, a failing query is named while the other
systems run, and `readiness serve` refreshes forecasts from it on its schedule."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from kapacity import forecast_points, list_runs, system_capacity
from readiness import import_catalog_file, open_database
from storage import get_engine
from tests.ops.support import (
    env_for_tests,
    prometheus_server,
    require_prometheus,
    serve_process,
    wait_for,
    write_openmetrics,
)
from tests.readiness.helpers import catalog_doc, write_yaml

pytestmark = pytest.mark.slow

START, END = "1995-07-03T00:00:00-04:00", "1995-07-17T00:00:00-04:00"  # two weeks from a Monday, no gaps
METRIC = "nasa_http_requests_per_minute"
SCALE = {"SYS-1": 1.0, "SYS-2": 0.5}  # two systems with history in Prometheus; SYS-3 has none
KAPACITY = [sys.executable, "-m", "kapacity.cli"]


@pytest.fixture(scope="module")
def prom(tmp_path_factory, data_dir):
    """One Prometheus for the module, holding a series per system, and the same series as files."""
    require_prometheus()
    work = tmp_path_factory.mktemp("prom")
    frame = write_openmetrics(data_dir / "nasa_http_requests_1min.csv.gz", work / "one.om", start=START, end=END,
                              metric=METRIC, labels={"system": "SYS-1"})
    lines = (work / "one.om").read_text(encoding="utf-8").splitlines()
    header, samples = lines[:2], [x for x in lines[2:] if not x.startswith("#")]
    files = work / "histories"
    files.mkdir()
    body = []
    for system, scale in SCALE.items():
        body += [f'{METRIC}{{system="{system}"}} {v * scale} {t}'
                 for t, v in zip(frame["epoch"], frame["value"], strict=True)]
        pd.DataFrame({"timestamp": frame["timestamp"], "value": frame["value"] * scale}).to_csv(
            files / f"{system}.csv", index=False)
    assert len(samples) == len(frame)
    (work / "history.om").write_text("\n".join([*header, *body, "# EOF", ""]), encoding="utf-8")
    with prometheus_server(work, blocks_from=work / "history.om") as server:
        yield server, files


def catalog_db(tmp_path) -> tuple[str, object]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp_path / 'kapacity.db'}"
    engine = open_database(get_engine(url))
    import_catalog_file(engine, write_yaml(tmp_path / "catalog.yaml", catalog_doc()))
    return url, engine


def prometheus_config(tmp_path, url: str, **extra) -> str:
    config = {"url": url, "auth": {"env": "PROM_TEST_AUTH"}, "step": "1m", "tz": "-04:00", "lookback": "14d",
              "end": "1995-07-16T23:59:00-04:00", "concurrency": 2, "retries": 1,
              "system_query": f'sum({METRIC}{{system="$system_id"}})', **extra}
    path = tmp_path / "prometheus.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    return str(path)


def kapacity_run(db: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*KAPACITY, "run", "--db", db, "--horizon", "1d", "--format", "json", *args],
                          capture_output=True, text=True, timeout=300,
                          env=env_for_tests(PROM_TEST_AUTH="Bearer not-a-real-token"))


def test_kapacity_run_from_prometheus_matches_the_same_series_read_from_files(prom, tmp_path):
    server, files = prom
    from_prom_db, from_prom = catalog_db(tmp_path / "prom")
    from_files_db, from_files = catalog_db(tmp_path / "files")

    by_prom = kapacity_run(from_prom_db, "--source", "prometheus", "--config", prometheus_config(tmp_path, server.url))
    by_files = kapacity_run(from_files_db, "--histories", str(files))

    assert by_prom.returncode == 0 and by_files.returncode == 0, by_prom.stderr + by_files.stderr
    printed_prom, printed_files = json.loads(by_prom.stdout), json.loads(by_files.stdout)
    assert [r["system_id"] for r in printed_prom["systems"]] == ["SYS-1", "SYS-2"]
    assert printed_prom["systems"] == printed_files["systems"]
    assert printed_prom["run"]["stored_systems"] == 2 and printed_prom["run"]["series"] == 2
    for system in SCALE:
        pd.testing.assert_frame_equal(forecast_points(from_prom, system), forecast_points(from_files, system))
    def stored(engine):  # everything stored per system but when it was written
        return [{k: v for k, v in row.items() if k != "created_at"} for row in system_capacity(engine)]

    assert stored(from_prom) == stored(from_files)  # inputs hashes included: the same series went in
    [run] = list_runs(from_prom)
    assert run["source"].startswith(f"prometheus {server.url}") and "not-a-real-token" not in by_prom.stderr
    # SYS-3 has no series in Prometheus: named, as a missing file is
    assert any(e.startswith("SYS-3: no data between") for e in printed_prom["run"]["errors"])


def test_a_series_whose_query_fails_is_named_and_the_other_systems_still_run(prom, tmp_path):
    server, _ = prom
    db, engine = catalog_db(tmp_path)
    config = prometheus_config(tmp_path, server.url, systems={"SYS-2": f"sum(rate({METRIC}[5m])"})  # unclosed

    done = kapacity_run(db, "--source", "prometheus", "--config", config)

    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert [r["system_id"] for r in printed["systems"]] == ["SYS-1"]
    rejected, unforecast = [e for e in printed["run"]["errors"] if e.startswith("SYS-2")]
    assert rejected.startswith("SYS-2: Prometheus rejected query") and "bad_data" in rejected
    assert unforecast.startswith("SYS-2: no history in prometheus")
    assert "problem: SYS-2: Prometheus rejected query" in done.stderr
    assert forecast_points(engine, "SYS-1").shape[0] == 1440


def test_a_bad_prometheus_configuration_is_refused_naming_the_file_and_field(tmp_path):
    db, _ = catalog_db(tmp_path)
    config = tmp_path / "prometheus.yaml"
    config.write_text("url: http://127.0.0.1:9\nsystem_query: sum(x)\nconcurency: 2\n", encoding="utf-8")
    done = kapacity_run(db, "--source", "prometheus", "--config", str(config))
    assert done.returncode == 1 and f"{config}: concurency: unknown key" in done.stderr
    usage = kapacity_run(db, "--source", "prometheus")
    assert usage.returncode == 2 and "--config" in usage.stderr


def test_readiness_serve_refreshes_forecasts_from_prometheus_on_schedule(prom, tmp_path):
    server, _ = prom
    db, engine = catalog_db(tmp_path)
    env = env_for_tests(KAPACITY_PROMETHEUS_CONFIG=prometheus_config(tmp_path, server.url), KAPACITY_HORIZON="1d",
                        PROM_TEST_AUTH="Bearer not-a-real-token")
    with serve_process(db, "--schedule", "* * * * * */10", env=env) as (serve, _port):
        # the start catches up at once, then the schedule fires every ten seconds
        runs = wait_for(lambda: [r for r in list_runs(engine) if r["status"] == "complete"][1:] and
                        list_runs(engine), 150, "two Kapacity refreshes", interval=1)
    complete = [r for r in runs if r["status"] == "complete"]
    assert all(r["source"].startswith(f"prometheus {server.url}") and r["series"] == 2 for r in complete)
    assert [r["system_id"] for r in system_capacity(engine, run_id=complete[0]["run_id"])] == ["SYS-1", "SYS-2"]
    assert "not-a-real-token" not in serve.stderr
