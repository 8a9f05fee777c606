"""`readiness serve`: cycles, failing sources, the evaluation lock, signals and kills mid-run,
restarts that catch up and keep the schedule, configuration errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from operations import Service, build_sources, load_config, missed_run, next_fire
from readiness import evaluation_lock, run_evaluation, source_statuses
from readiness.errors import InputError
from readiness.models import EvaluationRun, RuleResult, ScoreSnapshot
from readiness.reports import results
from storage import get_engine, session_scope, utcnow
from tests.ops.support import READINESS, REPO, Proc, env_for_tests, wait_for
from tests.readiness.helpers import write_yaml

HOOKED = [sys.executable, "-m", "tests.ops._serve_hooked"]


def state(engine) -> dict:
    """What a partial run would disturb: counts, and runs that are not complete."""
    with session_scope(engine) as session:
        count = lambda model: session.execute(select(func.count()).select_from(model)).scalar()  # noqa: E731
        return {"runs": count(EvaluationRun), "results": count(RuleResult), "scores": count(ScoreSnapshot),
                "incomplete": session.execute(select(func.count()).select_from(EvaluationRun).where(
                    EvaluationRun.status != "complete")).scalar(),
                "orphans": session.execute(select(func.count()).select_from(RuleResult).where(
                    RuleResult.run_id.not_in(select(EvaluationRun.id)))).scalar()}


def write_config(tmp_path: Path, **doc) -> Path:
    return write_yaml(tmp_path / "serve.yaml", doc)


# ---------------------------------------------------------------- cycles in process


def test_a_cycle_collects_the_configured_sources_and_stores_a_run(org, tmp_path):
    url, engine, inventory = org
    config = load_config(write_config(tmp_path, sources=[{"type": "inventory", "path": inventory.name}]))
    assert config.sources[0].path == inventory  # relative to the config file
    before = state(engine)
    report = Service(engine, config).run_cycle()
    assert report.outcome == "complete" and report.errors == []
    assert [(s.source, s.systems) for s in report.sources] == [("inventory", 3)]
    assert state(engine)["runs"] == before["runs"] + 1
    assert report.company_score is not None and report.expired == {"reviews": [], "waivers": []}
    assert set(report.hooks) == {"flashsales", "forecasts"}  # flash sales moved along, Kapacity asked to refresh


def test_a_failing_step_is_reported_and_the_evaluation_still_runs(org, monkeypatch):
    url, engine, _ = org

    def broken(engine, *, now):
        raise RuntimeError("flash-sale store unreachable")

    monkeypatch.setattr("operations.serve.cycle_hooks", lambda: [("flashsales", broken)])
    report = Service(engine, load_config(None), sources=[]).run_cycle()
    assert report.outcome == "complete" and report.run_id
    assert report.errors == ["flashsales: RuntimeError: flash-sale store unreachable"]


def test_a_failing_source_is_recorded_and_its_facts_go_stale_while_the_run_completes(org, tmp_path):
    url, engine, inventory = org
    config = load_config(write_config(tmp_path, sources=[{"type": "inventory", "path": "missing.json"}]))
    later = utcnow() + timedelta(days=2)  # the day-old inventory facts pass their two-day freshness
    report = Service(engine, config, clock=lambda: later).run_cycle()
    assert report.outcome == "complete"
    assert "missing.json" in report.sources[0].errors[0]
    status = {s.source: s for s in source_statuses(engine)}["inventory"]
    assert status.last_error and status.last_attempt_at == later and status.last_success_at < later
    stale = [r for r in results(engine, run_id=report.run_id) if r.basis == "stale"]
    assert stale and all("stale facts: inventory last seen" in r.message for r in stale)


def test_a_cycle_is_skipped_while_another_evaluation_holds_the_lock(org, tmp_path):
    url, engine, _ = org
    before = state(engine)
    with evaluation_lock(engine) as taken:
        assert taken
        with evaluation_lock(engine) as again:
            assert not again  # not even the same process takes it twice
        assert Service(engine, load_config(None)).run_cycle().outcome == "skipped"
        done = subprocess.run([*READINESS, "serve", "--once", "--db", url], capture_output=True, text=True,
                              timeout=180, env=env_for_tests(), cwd=REPO)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["outcome"] == "skipped"
        assert "another evaluation holds the lock" in done.stderr
    assert state(engine) == before
    assert Service(engine, load_config(None)).run_cycle().outcome == "complete"


def test_a_cycle_without_its_database_fails_and_the_service_goes_on(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'gone' / 'peak.db'}")
    report = Service(engine, load_config(None), sources=[]).run_cycle()
    assert report.outcome == "failed" and report.errors[0].startswith("evaluate: ")


def test_serve_says_when_its_metrics_port_is_taken(sqlite_url):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([*READINESS, "serve", "--db", sqlite_url, "--host", "127.0.0.1", "--port", str(port)],
                              capture_output=True, text=True, timeout=180, env=env_for_tests(), cwd=REPO)
    assert done.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_serve_listens_on_loopback_unless_told_otherwise(sqlite_org, tmp_path):
    sqlite_url = sqlite_org[0]  # an organisation to evaluate: an empty one is an error now
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        default = subprocess.run([*READINESS, "serve", "--db", sqlite_url, "--port", str(port)],
                                 capture_output=True, text=True, timeout=180, env=env_for_tests(), cwd=REPO)
        config = tmp_path / "serve.yaml"
        config.write_text("host: 127.0.0.2\n")
        configured = subprocess.run([*READINESS, "serve", "--db", sqlite_url, "--port", str(port), "--config",
                                     str(config), "--once"], capture_output=True, text=True, timeout=180,
                                    env=env_for_tests(), cwd=REPO)
    assert default.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in default.stderr
    assert configured.returncode == 0, configured.stderr  # the config's host is accepted
    assert load_config(config).host == "127.0.0.2" and load_config(None).host == "127.0.0.1"


def test_the_schedule_fires_in_utc_and_knows_a_missed_run(org):
    _, engine, _ = org
    at = utcnow().replace(minute=7, second=30, microsecond=0)
    assert next_fire("*/15 * * * *", at) == at.replace(minute=15, second=0)
    assert next_fire("* * * * * */20", at) == at.replace(second=40)  # seconds as the sixth field
    assert missed_run(engine, "0 * * * *", utcnow())  # the only run is a day old
    run_evaluation(engine)
    assert not missed_run(engine, "0 * * * *", utcnow())


@pytest.mark.parametrize(("doc", "where"), [
    ({"schedule": "every hour"}, "schedule"),
    ({"sources": [{"type": "kubernetes"}]}, "sources[0].paths"),
    ({"sources": [{"type": "inventory", "path": "a.json"}, {"type": "perftest", "path": "x"}]}, "sources[1].path"),
    ({"sources": [{"type": "inventory"}]}, "sources[0].path"),
    ({"notify": {"reminder_days": [0]}}, "notify.reminder_days"),
    ({"shedule": "* * * * *"}, "shedule"),
])
def test_configuration_errors_name_the_field(tmp_path, doc, where):
    with pytest.raises(InputError) as err:
        load_config(write_config(tmp_path, **doc))
    assert f"- {where}" in str(err.value) and str(tmp_path / "serve.yaml") in str(err.value)


def test_registered_sources_are_built_by_name_and_unknown_ones_refused(tmp_path):
    config = load_config(write_config(tmp_path, sources=[{"type": "perftest"}, {"type": "kapacity"}]))
    assert [s.name for s in build_sources(config)] == ["perftest", "kapacity"]
    with pytest.raises(InputError, match=r"sources\[1\].type: unknown source 'ftp'; accepted: inventory, kubernetes, "):
        build_sources(load_config(write_config(tmp_path, sources=[{"type": "perftest"}, {"type": "ftp"}])))


def test_serve_refuses_a_bad_config_or_schedule_with_exit_1_and_2(tmp_path, sqlite_url):
    bad = write_config(tmp_path, sources=[{"type": "inventory"}])
    done = subprocess.run([*READINESS, "serve", "--once", "--db", sqlite_url, "--config", str(bad)],
                          capture_output=True, text=True, timeout=180, env=env_for_tests(), cwd=REPO)
    assert done.returncode == 1 and "sources[0].path" in done.stderr
    done = subprocess.run([*READINESS, "serve", "--once", "--db", sqlite_url, "--schedule", "hourly"],
                          capture_output=True, text=True, timeout=180, env=env_for_tests(), cwd=REPO)
    assert done.returncode == 2 and "--schedule" in done.stderr


# ---------------------------------------------------------------- signals and kills mid-run


def hooked_serve(url: str, tmp_path: Path, *args: str, pause: float) -> tuple[Proc, Path]:
    marker = tmp_path / f"paused-{len(list(tmp_path.glob('paused-*')))}"
    env = env_for_tests(OPS_TEST_PAUSE_MARKER=str(marker), OPS_TEST_PAUSE_SECONDS=str(pause))
    proc = Proc([*HOOKED, "serve", "--db", url, "--host", "127.0.0.1", "--port", "0", *args], env=env,
                cwd=REPO).start()
    return proc, marker


def cycles(proc: Proc) -> list[dict]:
    return [json.loads(line) for line in proc.stdout_lines if line.startswith("{")]


def test_sigterm_mid_run_lets_the_run_finish_then_stops(org, tmp_path):
    url, engine, _ = org
    before = state(engine)
    proc, marker = hooked_serve(url, tmp_path, "--schedule", "0 * * * *", pause=3)
    try:
        wait_for(marker.exists, 120, "the run to reach its transaction")  # catch-up: the last run is a day old
        proc.signal(signal.SIGTERM)
        assert proc.wait(120) == 0, proc.stderr
    finally:
        proc.stop()
    assert "finishing the current cycle" in proc.stderr
    [cycle] = cycles(proc)
    after = state(engine)
    assert cycle["outcome"] == "complete" and after["runs"] == before["runs"] + 1
    assert after["incomplete"] == after["orphans"] == 0


def test_a_second_signal_interrupts_the_run_and_it_rolls_back(org, tmp_path):
    url, engine, _ = org
    before = state(engine)
    proc, marker = hooked_serve(url, tmp_path, "--schedule", "0 * * * *", pause=60)
    try:
        wait_for(marker.exists, 120, "the run to reach its transaction")
        proc.signal(signal.SIGTERM)
        wait_for(lambda: "finishing the current cycle" in proc.stderr, 30, "the first signal to be handled")
        proc.signal(signal.SIGINT)
        assert proc.wait(60) == 130, proc.stderr
    finally:
        proc.stop()
    assert "rolled back" in proc.stderr
    assert state(engine) == before


def test_killed_mid_run_leaves_no_partial_run_and_a_restart_catches_up_then_keeps_the_schedule(org, tmp_path):
    url, engine, _ = org
    before = state(engine)
    proc, marker = hooked_serve(url, tmp_path, "--schedule", "* * * * * */10", pause=120)
    try:
        wait_for(marker.exists, 120, "the run to reach its transaction")
        os.killpg(proc.popen.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        proc.stop()
    assert state(engine) == before  # the run row and results it had inserted were never committed

    restarted, _ = hooked_serve(url, tmp_path, "--schedule", "* * * * * */10", pause=0)
    try:
        runs = wait_for(lambda: len(cycles(restarted)) >= 2 and cycles(restarted), 150,
                        "a catch-up run and a scheduled one")
        restarted.signal(signal.SIGTERM)
        assert restarted.wait(120) == 0, restarted.stderr
    finally:
        restarted.stop()
    assert "last scheduled run was missed" in restarted.stderr
    assert [c["outcome"] for c in runs[:2]] == ["complete", "complete"]
    scheduled = runs[1]["started_at"]
    assert int(scheduled[17:19]) % 10 < 5, scheduled  # started at its fire time (:00, :10, :20, ...)
    after = state(engine)
    assert after["runs"] >= before["runs"] + 2 and after["incomplete"] == after["orphans"] == 0
