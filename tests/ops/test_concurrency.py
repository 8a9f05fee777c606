"""Concurrent writers on one database: two service instances, the service and the app/CLI,
two importers. Nothing is lost and no evaluation overlaps another (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from datetime import timedelta

from sqlalchemy import func, select

from governance import approve_waiver, audit_log, list_waivers, request_waiver
from operations import Service, load_config
from readiness import latest_facts, load_rules
from readiness.models import FactRecord
from readiness.reports import results
from storage import session_scope, utcnow
from tests.ops.support import READINESS, REPO, Proc, env_for_tests, wait_for
from tests.ops.test_serve import HOOKED, cycles, state
from tests.readiness.helpers import compute, write_inventory

RULES = load_rules()


def hooked(url, tmp_path) -> tuple[Proc, object, object]:
    """A serve process that stops inside its first run's transaction until ``release`` is touched."""
    marker, release = tmp_path / "paused", tmp_path / "release"
    env = env_for_tests(OPS_TEST_PAUSE_MARKER=str(marker), OPS_TEST_PAUSE_SECONDS="150",
                        OPS_TEST_RELEASE=str(release))
    proc = Proc([*HOOKED, "serve", "--db", url, "--host", "127.0.0.1", "--port", "0", "--schedule", "0 * * * *"],
                env=env, cwd=REPO).start()
    return proc, marker, release


def test_a_second_instance_skips_while_the_first_evaluates(org, tmp_path):
    url, engine, _ = org
    before = state(engine)
    first, marker, release = hooked(url, tmp_path)
    try:
        wait_for(marker.exists, 120, "the first instance to be inside its run")
        second = subprocess.run([*READINESS, "serve", "--once", "--db", url], capture_output=True, text=True,
                                timeout=180, env=env_for_tests(), cwd=REPO)
        still_running = not cycles(first)
        release.touch()
        wait_for(lambda: cycles(first), 120, "the first instance to finish its run")
        first.signal(signal.SIGTERM)
        assert first.wait(60) == 0, first.stderr
    finally:
        first.stop()
    assert second.returncode == 0, second.stderr
    assert still_running and json.loads(second.stdout)["outcome"] == "skipped"
    assert cycles(first)[0]["outcome"] == "complete"
    after = state(engine)
    assert after["runs"] == before["runs"] + 1 and after["incomplete"] == after["orphans"] == 0


def test_a_waiver_approved_while_a_run_is_being_stored_is_not_lost(org, tmp_path):
    url, engine, _ = org
    [failing] = [r.rule_id for r in results(engine, system_id="SYS-3", statuses=("fail", "no_data"))
                 if RULES.by_id()[r.rule_id].meta.waivable and RULES.by_id()[r.rule_id].meta.kind == "automated"][:1]
    waiver = request_waiver(engine, "SYS-3", failing, actor_name="dee", reason="Mailer moves next quarter",
                            expires=(utcnow() + timedelta(days=30)).date(), ruleset=RULES)
    service, marker, release = hooked(url, tmp_path)
    try:
        wait_for(marker.exists, 120, "the service to be inside its run")
        if engine.dialect.name == "sqlite":  # one writer at a time: the approval waits for the run's commit
            threading.Timer(2, release.touch).start()
        approved = approve_waiver(engine, waiver["id"], actor_name="ada", ruleset=RULES)  # the app, meanwhile
        assert approved["state"] == "approved"
        release.touch()
        run = wait_for(lambda: cycles(service), 120, "the service's run")[0]
        service.signal(signal.SIGTERM)
        assert service.wait(60) == 0, service.stderr
    finally:
        service.stop()
    assert run["outcome"] == "complete"
    [stored] = [w for w in list_waivers(engine) if w["id"] == waiver["id"]]
    assert stored["state"] == "approved" and stored["approved_by"] == "ada"
    assert [e["action"] for e in audit_log(engine, entity=f"waiver:{waiver['id']}")] == [
        "waiver.requested", "waiver.approved"]
    following = Service(engine, load_config(None), sources=[]).run_cycle()
    [result] = results(engine, run_id=following.run_id, system_id="SYS-3", statuses=("waived",))
    assert result.rule_id == failing and result.basis == "waiver"


def test_two_processes_importing_the_same_new_inventory_at_once_store_one_version(org, tmp_path):
    url, engine, inventory = org
    new = write_inventory(tmp_path / "new.json", [compute("SYS-1", "api", replicas=7), compute("SYS-2", "scorer"),
                                                  compute("SYS-3", "mailer")])
    go = tmp_path / "go"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.ops._worker", url, str(go), "import-inventory", str(new)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                                env=env_for_tests()) for _ in range(2)]
    try:
        wait_for(lambda: len(list(tmp_path.glob("go.ready.*"))) == 2, 120, "both workers at the barrier")
        go.touch()
        outputs = [w.communicate(timeout=120) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
    answers = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert [a["ok"] for a in answers] == [True, True], answers
    with session_scope(engine) as session:
        versions = session.execute(select(func.count()).select_from(FactRecord).where(
            FactRecord.system_id == "SYS-1", FactRecord.source == "inventory")).scalar()
    assert versions == 2  # the original and the new one, once
    assert latest_facts(engine, ["SYS-1"])["SYS-1"]["inventory"].data["compute"][0]["replicas"] == 7
