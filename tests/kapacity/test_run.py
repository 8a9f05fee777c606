"""`kapacity run` over a small catalog: storage, dependencies, facts, reproducibility, dask."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import kapacity
from kapacity.cli import app
from kapacity.dependencies import CallRatio, Edge, classify, propagate, sync_graph
from kapacity.models import KapacityForecast, KapacityRun
from kapacity.runner import RunSettings, SystemSpec, run_catalog
from kapacity.service import ForecastSettings
from kapacity.settings import KapacityConfig
from kapacity.sources import DirectorySource
from kapacity.synthetic import synthesize
from readiness import FactSource, collect_and_store, import_catalog_file, latest_facts
from storage import session_scope

CATALOG = """
company: Test
domains: [{key: pay, name: Payments}]
groups: [{key: core, name: Core, domain: pay}]
teams: [{key: t1, name: Team one, group: core}]
systems:
  - {id: SYS-1, name: checkout, team: t1, tier: critical, purchase_flow: true,
     services: [{name: authorize}, {name: capture}],
     dependencies: [{system: SYS-2, kind: sync}, {system: SYS-4, kind: async}]}
  - {id: SYS-2, name: fraud, team: t1, tier: high, services: [{name: score}],
     dependencies: [{system: SYS-3, kind: sync}]}
  - {id: SYS-3, name: ledger, team: t1, tier: high, services: [{name: post}, {name: read}]}
  - {id: SYS-4, name: mailer, team: t1, tier: low, services: [{name: send}]}
  - {id: SYS-5, name: reports, team: t1, tier: low, dependencies: [{system: SYS-3, kind: sync}]}
"""
SPECS = [SystemSpec("SYS-1", ("authorize", "capture"), True, (("SYS-2", "sync"), ("SYS-4", "async"))),
         SystemSpec("SYS-2", ("score",), False, (("SYS-3", "sync"),)),
         SystemSpec("SYS-3", ("post", "read"), False, ()),
         SystemSpec("SYS-4", ("send",), False, ()),
         SystemSpec("SYS-5", (), False, (("SYS-3", "sync"),))]
SETTINGS = RunSettings(horizon_seconds=2 * 86_400)


@pytest.fixture(scope="module")
def histories(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("histories")
    ratios = synthesize(SPECS, folder, weeks=3, step=300, seed=1)
    return folder, ratios


@pytest.fixture
def catalog_engine(engine, tmp_path):
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    import_catalog_file(engine, tmp_path / "catalog.yaml")
    return engine


def stored(engine, run_id) -> list[dict]:
    with session_scope(engine) as session:
        rows = session.exec(select(KapacityForecast).where(KapacityForecast.run_id == run_id)
                            .order_by(KapacityForecast.series_key)).scalars()
        return [{"key": r.series_key, "hash": r.inputs_hash, "model": r.model, "params": r.params,
                 "baseline": r.baseline_rps, "flas": r.flas_rps, "class": r.traffic_class,
                 "capacity": json.dumps(r.capacity, sort_keys=True), "points": r.points,
                 "start": r.start, "settings": r.settings} for r in rows]


def test_run_stores_every_system_and_service_with_what_produced_it(catalog_engine, histories):
    report = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    assert (report.systems, report.stored_systems, report.series) == (5, 5, 11)
    assert report.errors == []
    rows = stored(catalog_engine, report.run_id)
    assert [r["key"] for r in rows] == ["SYS-1", "SYS-1/authorize", "SYS-1/capture", "SYS-2",
                                        "SYS-2/score", "SYS-3", "SYS-3/post", "SYS-3/read",
                                        "SYS-4", "SYS-4/send", "SYS-5"]
    for row in rows:
        assert len(row["hash"]) == 64 and row["model"] in {"SeasonalProfile", "SeasonalNaive"}
        assert row["settings"]["horizon_seconds"] == 2 * 86_400
        assert row["baseline"] > 0 and row["flas"] >= row["baseline"]
    points = kapacity.forecast_points(catalog_engine, "SYS-1", "capture")
    assert list(points.columns) == ["timestamp", "forecast", "p90", "p99"] and len(points) == 576
    with session_scope(catalog_engine) as session:
        run = session.get(KapacityRun, report.run_id)
        assert run.status == "complete" and run.series == 11


def test_call_ratios_are_learned_from_the_histories(catalog_engine, histories):
    folder, truth = histories
    run_catalog(catalog_engine, DirectorySource(folder), settings=SETTINGS)
    learned = {(r["caller"], r["callee"]): r for r in kapacity.call_ratios(catalog_engine)}
    assert set(learned) == set(truth)
    for edge, ratio in truth.items():
        assert learned[edge]["learned"]
        assert learned[edge]["ratio"] == pytest.approx(ratio, rel=0.1)


def test_surge_propagates_through_sync_dependencies_and_classifies(catalog_engine, histories):
    report = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    systems = {r["system_id"]: r for r in kapacity.system_capacity(catalog_engine, run_id=report.run_id)}
    assert {k: v["traffic_class"] for k, v in systems.items()} == {
        "SYS-1": "FLAS", "SYS-2": "FLAS", "SYS-3": "FLAS", "SYS-4": "Baseline", "SYS-5": "Baseline"}
    ledger = systems["SYS-3"]
    assert ledger["received_surge_rps"] > 0
    assert ledger["flas_rps"] >= 1.2 * (ledger["peak_forecast_rps"] + ledger["received_surge_rps"]) - 1e-6
    assert systems["SYS-5"]["received_surge_rps"] == 0


def test_same_inputs_give_the_same_stored_bytes(catalog_engine, histories):
    first = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    second = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    assert stored(catalog_engine, first.run_id) == stored(catalog_engine, second.run_id)


@pytest.mark.parametrize("executor", ["processes:2", "dask:local:2"])
def test_parallel_executors_give_identical_results(catalog_engine, histories, executor):
    local = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    parallel = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS,
                           executor=executor)
    assert parallel.executor == executor
    assert stored(catalog_engine, local.run_id) == stored(catalog_engine, parallel.run_id)
    assert 0 < parallel.worker_peak_mb < 1000


def test_unusable_history_stores_nothing_for_that_system(catalog_engine, histories, tmp_path):
    folder = tmp_path / "h"
    folder.mkdir()
    for path in histories[0].rglob("*.parquet"):
        target = folder / path.relative_to(histories[0])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    (folder / "SYS-5.parquet").unlink()
    (folder / "SYS-5.csv").write_text("timestamp,value\n2024-01-01T00:00:00,1\n2024-01-01T00:05:00,lots\n")
    report = run_catalog(catalog_engine, DirectorySource(folder), settings=SETTINGS)
    assert report.stored_systems == 4
    assert any("SYS-5.csv: line 3: value 'lots' is not a number" in e for e in report.errors)
    assert all(not r["key"].startswith("SYS-5") for r in stored(catalog_engine, report.run_id))


def test_fact_source_offers_capacity_to_readiness(catalog_engine, histories):
    run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    source = kapacity.KapacityFactSource()
    assert isinstance(source, FactSource) and source.name == "kapacity"
    report = collect_and_store(catalog_engine, source)
    assert report.systems == 5 and not report.unknown_systems
    facts = latest_facts(catalog_engine, ["SYS-3"])["SYS-3"]["kapacity"].data
    assert facts["traffic_class"] == "FLAS"
    assert facts["flas_rps"] >= facts["baseline_rps"] > 0
    assert set(facts["services"]) == {"post", "read"}
    # a rerun on the same data is the same fact version
    run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    assert collect_and_store(catalog_engine, kapacity.KapacityFactSource()).changed == 0


def test_fact_source_without_a_run_says_so(catalog_engine):
    collected = kapacity.KapacityFactSource().collect(catalog_engine)
    assert collected.by_system == {} and "no complete kapacity run" in collected.errors[0]


def test_capacity_targets_for_perftest(catalog_engine, histories):
    assert kapacity.capacity_targets(catalog_engine, "SYS-1") is None
    report = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    targets = kapacity.capacity_targets(catalog_engine, "SYS-1")
    assert targets["reference"].startswith(f"run-{report.run_id}:")
    assert targets["flas_rps"] > targets["baseline_rps"] > 0


def test_refresh_needs_a_configured_directory(catalog_engine, histories):
    assert kapacity.refresh_forecasts(catalog_engine, config=KapacityConfig()).startswith("skipped")
    report = kapacity.refresh_forecasts(
        catalog_engine, config=KapacityConfig(history_dir=histories[0], horizon="1d"))
    assert report.stored_systems == 5


def test_run_cli(catalog_engine, histories, sqlite_url):
    result = CliRunner().invoke(app, ["run", "--db", sqlite_url, "--histories", str(histories[0]),
                                      "--horizon", "1d", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["run"]["stored_systems"] == 5
    assert [s["system_id"] for s in document["systems"]] == ["SYS-1", "SYS-2", "SYS-3", "SYS-4", "SYS-5"]


def test_run_cli_on_an_empty_catalog_is_an_error(engine, sqlite_url, histories):
    result = CliRunner().invoke(app, ["run", "--db", sqlite_url, "--histories", str(histories[0])])
    assert result.exit_code == 1 and "catalog has no systems" in result.stderr


@pytest.mark.postgres
def test_run_on_postgresql(postgres_url, histories, tmp_path):
    from storage import get_engine, migrate

    engine = get_engine(postgres_url)
    migrate(engine)
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    import_catalog_file(engine, tmp_path / "catalog.yaml")
    report = run_catalog(engine, DirectorySource(histories[0]), settings=SETTINGS)
    assert report.stored_systems == 5
    assert len(kapacity.system_capacity(engine, services=True)) == 11


def test_propagation_breaks_cycles_and_reports_them():
    ratios = [CallRatio("A", "B", "sync", 0.5, True, None, 0), CallRatio("B", "C", "sync", 2.0, True, None, 0),
              CallRatio("C", "B", "sync", 1.0, True, None, 0)]
    result = propagate(sync_graph(["A", "B", "C"], ratios), {"A": 10.0})
    assert result.dropped_edges == [("C", "B")]
    assert result.extra_rps == {"A": 10.0, "B": 5.0, "C": 10.0}
    assert result.paths["C"] == ["A"]


def test_async_dependencies_do_not_make_flas_systems():
    edges = [Edge("A", "B", "sync"), Edge("A", "C", "async"), Edge("C", "D", "sync")]
    assert classify("ABCDE", ["A"], edges) == {"A": "FLAS", "B": "FLAS", "C": "Baseline",
                                               "D": "Baseline", "E": "Baseline"}


def test_run_settings_are_validated():
    with pytest.raises(kapacity.ParameterError):
        RunSettings(horizon_seconds=0)
    with pytest.raises(kapacity.ParameterError):
        RunSettings(capacity=kapacity.CapacitySettings(quantile=0.95),
                    forecast=ForecastSettings(levels=(0.9, 0.99)))
    assert np.isfinite(SETTINGS.horizon_seconds)


def test_synthesize_cli_writes_a_history_per_service(catalog_engine, sqlite_url, tmp_path):
    out = tmp_path / "synthetic"
    result = CliRunner().invoke(app, ["synthesize", "--db", sqlite_url, "--out", str(out),
                                      "--weeks", "2", "--step", "3600", "--file-format", "csv"])
    assert result.exit_code == 0, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv")) == [
        "SYS-1/authorize.csv", "SYS-1/capture.csv", "SYS-2/score.csv", "SYS-3/post.csv",
        "SYS-3/read.csv", "SYS-4/send.csv", "SYS-5.csv"]
    [series] = kapacity.read_history(out / "SYS-1" / "capture.csv")
    assert series.step == 3600 and series.n == 14 * 24


def _figures(engine, run_id) -> dict:
    return {r["system_id"]: (r["traffic_class"], r["flas_rps"], r["received_surge_rps"])
            for r in kapacity.system_capacity(engine, run_id=run_id)}


@pytest.mark.parametrize("subset", [["SYS-3"], ["SYS-2", "SYS-5"], ["SYS-1"]])
def test_a_subset_run_propagates_over_the_whole_graph_as_a_full_run_does(catalog_engine, histories, subset):
    full = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    expected = _figures(catalog_engine, full.run_id)
    assert expected["SYS-3"][2] > 0  # the ledger hears the checkout surge through fraud
    partial = run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS, systems=subset)
    assert partial.systems == len(subset) and partial.errors == []
    assert _figures(catalog_engine, partial.run_id) == {s: expected[s] for s in subset}
    assert kapacity.call_ratios(catalog_engine, run_id=partial.run_id) == \
        kapacity.call_ratios(catalog_engine, run_id=full.run_id)
    for system_id in subset:  # the capacity readers see the full run's figures
        assert kapacity.capacity_targets(catalog_engine, system_id)["flas_rps"] == expected[system_id][1]


def test_a_subset_run_says_which_stored_propagated_figures_it_changed(catalog_engine, histories, tmp_path):
    run_catalog(catalog_engine, DirectorySource(histories[0]), settings=SETTINGS)
    folder = tmp_path / "h"
    for path in histories[0].rglob("*.parquet"):
        target = folder / path.relative_to(histories[0])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    import pandas as pd  # the checkout's history doubles: its surge grows, and so does the ledger's share

    for path in sorted((folder / "SYS-1").glob("*.parquet")):
        frame = pd.read_parquet(path)
        frame["value"] = frame["value"] * 2
        frame.to_parquet(path)
    report = run_catalog(catalog_engine, DirectorySource(folder), settings=SETTINGS, systems=["SYS-1"])
    stale = sorted(e.split(":")[0] for e in report.errors if "rerun it" in e)
    assert stale == ["SYS-2", "SYS-3"]
