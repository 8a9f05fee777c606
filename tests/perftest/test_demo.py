"""The demo step `python -m perftest.demo` (run by `make demo`): real k6 runs against local
stand-ins for three systems of the small demo organisation, judged, stored, shown on the
Performance tests page and offered to the rules. Runs once per module with `--quick`."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import streamlit as st

from perftest import list_runs
from perftest.demo import SCENARIOS, UNDERSIZED, demo_systems
from readiness import stored_capacity_figures
from storage import get_engine
from tests.app.conftest import demo_users_file, no_exceptions, open_app, texts


def _copy(url: str, target: Path) -> str:
    source, copy = sqlite3.connect(url.removeprefix("sqlite:///")), sqlite3.connect(target)
    source.backup(copy)  # includes what is still in the WAL
    source.close()
    copy.close()
    return f"sqlite:///{target}"


def _cli(*argv: str, db: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv, "--db", db], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


@pytest.fixture(scope="module")
def demo_run(demo_db, tmp_path_factory):
    """A copy of the demo database after one quick demo step; its folder holds the plans."""
    folder = tmp_path_factory.mktemp("perftest-demo")
    url = _copy(demo_db, folder / "demo.db")
    done = _cli("perftest.demo", "--out", str(folder / "out"), "--quick", db=url, cwd=folder)
    assert done.returncode == 0, done.stderr[-3000:]
    return url, folder


def _stories(url: str) -> dict[str, str]:
    return {system.system_id: scenario.story
            for scenario, system in zip(SCENARIOS, demo_systems(get_engine(url)), strict=True)}


def test_a_database_without_the_demo_organisation_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    done = _cli("perftest.demo", "--out", str(tmp_path / "out"), db=url, cwd=tmp_path)
    assert done.returncode == 2
    assert "no demo organisation" in done.stderr and "run `readiness demo --db URL` first" in done.stderr
    assert list_runs(get_engine(url)) == []
    assert not (tmp_path / "out" / "perftest").exists()


def test_the_under_provisioned_system_carries_todays_traffic_and_breaks_before_its_baseline(demo_db):
    """Its stand-in's breaking point must not sit below the traffic the system is seen serving
    (the Capacity page would contradict itself): its own Baseline lies between the stand-in's
    capacity and the plan's Baseline target."""
    engine = get_engine(demo_db)
    stories = {scenario.story: system for scenario, system in zip(SCENARIOS, demo_systems(engine), strict=True)}
    undersized = stories["under-provisioned"]
    figures = stored_capacity_figures(engine, [undersized.system_id])[undersized.system_id]
    assert undersized.traffic_class == "FLAS" and not undersized.purchase_flow
    assert UNDERSIZED.capacity_rps < figures.baseline_rps <= UNDERSIZED.baseline_rps


@pytest.mark.slow
@pytest.mark.xdist_group("perftest-k6")  # real k6 runs measure latency: no neighbours
def test_every_test_type_is_stored_judged_as_its_system_story_says(demo_run):
    url, _ = demo_run
    stories = _stories(url)
    runs = list_runs(get_engine(url))
    verdicts = sorted((stories[r.system_id], r.test_type, r.verdict) for r in runs)
    assert verdicts == [
        ("failover", "failover", "pass"),
        ("ready", "load", "pass"),
        ("ready", "overload", "pass"),
        ("ready", "spike", "pass"),
        ("under-provisioned", "load", "fail"),
        ("under-provisioned", "overload", "fail"),
    ]
    overload = next(r for r in runs if stories[r.system_id] == "ready" and r.test_type == "overload")
    assert overload.breaking_point_rps >= overload.target_rps  # a breaking point above the FLAS target


@pytest.mark.slow
@pytest.mark.xdist_group("perftest-k6")  # real k6 runs measure latency: no neighbours
def test_each_system_gets_a_valid_plan_and_its_stand_in_is_stopped(demo_run):
    url, folder = demo_run
    plans = sorted((folder / "out" / "perftest" / "plans").glob("*.yaml"))
    assert [p.stem for p in plans] == sorted(_stories(url))
    check = _cli("perftest.cli", "plan", "check", str(plans[0]), db=url, cwd=folder)
    assert check.returncode == 0, check.stderr
    for plan in plans:
        endpoint = urlsplit(next(line.split("url: ")[1] for line in plan.read_text().splitlines() if "url: " in line))
        assert endpoint.hostname == "127.0.0.1"
        with pytest.raises(ConnectionRefusedError), socket.create_connection((endpoint.hostname, endpoint.port), 1):
            pass
    assert not list((folder / "out" / "perftest").glob("*.pid"))


@pytest.mark.slow
@pytest.mark.xdist_group("perftest-k6")  # real k6 runs measure latency: no neighbours
def test_the_performance_tests_page_shows_the_demo_runs(demo_run, monkeypatch, tmp_path):
    url, _ = demo_run
    monkeypatch.setenv("PEAK_DATABASE_URL", url)
    monkeypatch.setenv("PEAK_APP_USERS_FILE", str(demo_users_file(url, tmp_path)))  # as `make app` writes it
    st.cache_data.clear()
    st.cache_resource.clear()
    at = open_app("views/perftests.py")
    no_exceptions(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Runs"] == "6" and metrics["Systems tested"] == "3" and metrics["Failing now"] == "2"
    shown = texts(at)
    assert "No performance test stored yet" not in shown
    assert "Latest verdict per system and test type" in shown and "Breaking point against the tested target" in shown


@pytest.mark.slow
@pytest.mark.xdist_group("perftest-k6")  # real k6 runs measure latency: no neighbours
def test_collected_perftest_facts_reach_the_rules(demo_run):
    url, folder = demo_run
    stories = {story: system for system, story in _stories(url).items()}
    assert _cli("readiness.cli", "collect", "sources", "perftest", db=url, cwd=folder).returncode == 0
    assert _cli("readiness.cli", "evaluate", db=url, cwd=folder).returncode in (0, 3)
    explained = _cli("readiness.cli", "explain", stories["under-provisioned"], "--format", "json", db=url, cwd=folder)
    findings = {f["rule_id"]: f for f in json.loads(explained.stdout)["findings"]}
    load = findings["perf_load_test"]
    assert "the latest load test (run " in load["message"] and load["message"].endswith(") failed")
    assert load["evidence"][0]["source"] == "perftest"


@pytest.mark.slow
@pytest.mark.xdist_group("perftest-k6")  # real k6 runs measure latency: no neighbours
def test_running_the_demo_again_keeps_the_stored_runs(demo_run):
    url, folder = demo_run
    before = [r.run_id for r in list_runs(get_engine(url))]
    done = _cli("perftest.demo", "--out", str(folder / "out"), db=url, cwd=folder)
    assert done.returncode == 0 and "nothing run (--again runs the tests again)" in done.stderr
    assert [r.run_id for r in list_runs(get_engine(url))] == before
