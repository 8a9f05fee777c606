"""Real k6 against the local capacity-limited target: the issue's done-when checks.

Durations are shortened; rates stay modest so a 2-core machine keeps up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from perftest.errors import UsageError
from perftest.k6 import K6Binary
from perftest.runner import run_test
from perftest.settings import PerftestSettings
from perftest.spec import SLO, Endpoint, FailoverSettings, OverloadSettings, SpikeSettings, TestSpec
from perftest.store import list_runs
from perftest.target import free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("perftest-k6")]

# p95 well above the target's 10-30 ms below capacity, so a busy shared machine does not
# fake a breach; p99 at the target's shedding point; errors at 1%.
SLO_TIGHT = SLO(p95_ms=250, p99_ms=1000, error_rate=0.01)


def _ep(target, path="/work"):
    return [Endpoint(url=target.url + path)]


# For the breaking-point checks the target sheds past 0.5 s of queue, so overload shows as
# errors (robust to a busy machine) as well as latency.
SLO_CAPACITY = SLO(p95_ms=500, p99_ms=1500, error_rate=0.01)


@pytest.mark.parametrize("capacity", [50, 120])
def test_overload_breaking_point_is_within_15_percent_of_capacity(capacity, process_target_factory, shared_engine, k6):
    target = process_target_factory(capacity, max_queue_s=0.5)
    forecast = 0.8 * capacity
    spec = TestSpec(
        test_type="overload", endpoints=_ep(target), rps=forecast, slo=SLO_CAPACITY, system_id="checkout",
        overload=OverloadSettings(step_s=2.5, start_factor=0.9, max_factor=1.8, step_factor=0.075),
    )
    result = run_test(spec, engine=shared_engine, k6=k6)
    doc = result.as_dict()
    steps = [(p["target_rps"], p["p95_ms"], p["error_rate"], p["dropped"]) for p in doc["phases"]]
    assert doc["breaking_point_rps"] == pytest.approx(capacity, rel=0.15), steps
    assert doc["broke_at_rps"] > doc["breaking_point_rps"]
    assert doc["verdict"] == "pass"  # sustained more than the forecast
    # The ramp stopped at the confirmed break instead of pounding a broken service up to 1.8x.
    assert doc["k6"]["exit_code"] == 105 and any("ramp stopped" in r for r in doc["reasons"])
    assert doc["phases"][-1]["target_rps"] < spec.peak_rps()
    stored = list_runs(shared_engine, test_type="overload")
    assert any(r.run_id == result.run_id and r.breaking_point_rps == doc["breaking_point_rps"] for r in stored)


def test_overload_fails_when_the_service_breaks_below_the_forecast(process_target_factory, k6):
    target = process_target_factory(40)
    spec = TestSpec(test_type="overload", endpoints=_ep(target), rps=60, slo=SLO_TIGHT,
                    overload=OverloadSettings(step_s=2, start_factor=0.5, max_factor=1.0, step_factor=0.25))
    result = run_test(spec, k6=k6)
    assert result.verdict == "fail"
    assert result.breaking.sustained_rps < 60


def test_load_below_capacity_passes_and_well_above_fails(process_target_factory, shared_engine, k6):
    target = process_target_factory(50)
    below = run_test(TestSpec(test_type="load", endpoints=_ep(target), rps=35, duration_s=4, slo=SLO_CAPACITY),
                     engine=shared_engine, k6=k6).as_dict()
    above = run_test(TestSpec(test_type="load", endpoints=_ep(target), rps=90, duration_s=4, slo=SLO_CAPACITY),
                     engine=shared_engine, k6=k6).as_dict()
    assert below["verdict"] == "pass" and below["k6"]["exit_code"] == 0
    assert below["achieved_rps"] == pytest.approx(35, rel=0.1)
    assert below["latency_ms"]["p50"] < 100 and below["error_rate"] == 0
    assert above["verdict"] == "fail" and above["k6"]["exit_code"] == 99
    assert "threshold crossed: http_req_duration:p(95)<500" in above["reasons"]
    assert "threshold crossed: http_req_failed:rate<0.01" in above["reasons"]
    assert above["dropped_iterations"] == 0  # the failure is the system's, not the generator's


def test_spike_reaches_its_flas_rate_within_two_minutes(process_target_factory, k6):
    target = process_target_factory(120)
    spec = TestSpec(test_type="spike", endpoints=_ep(target), rps=80, duration_s=2, slo=SLO_TIGHT,
                    spike=SpikeSettings(baseline_rps=10, warmup_s=1, ramp_s=4, cooldown_s=0))
    doc = run_test(spec, k6=k6).as_dict()
    assert doc["verdict"] == "pass"
    assert doc["baseline_rps"] == 10 and doc["flas_rps"] == 80
    assert doc["peak_reached_after_s"] is not None and doc["peak_reached_after_s"] <= 6  # ramp 4 s (+1 s windows)
    peak = next(p for p in doc["phases"] if p["label"] == "peak")
    assert peak["achieved_rps"] == pytest.approx(80, rel=0.1)


def test_generator_that_cannot_keep_up_makes_the_run_invalid(target_factory, k6):
    target = target_factory(1000, base_latency_s=0.5)  # each request holds a VU for 0.5 s
    settings = PerftestSettings(max_vus=5)  # 5 VUs can start at most 10 iterations/s
    spec = TestSpec(test_type="load", endpoints=_ep(target), rps=40, duration_s=3)
    result = run_test(spec, settings=settings, k6=k6)
    assert result.verdict == "invalid"
    assert "generator could not keep up" in result.reasons[0]


def test_k6_script_error_is_an_error_run_and_keeps_earlier_results(target_factory, engine, k6, tmp_path):
    target = target_factory(100)
    good = run_test(TestSpec(test_type="load", endpoints=_ep(target), rps=10, duration_s=1, system_id="s1"), engine=engine, k6=k6)
    broken = tmp_path / "iteration.js"
    broken.write_text("export default function (ep) { this is not javascript\n")
    bad = run_test(TestSpec(test_type="load", endpoints=_ep(target), rps=10, duration_s=1, system_id="s1", script=broken),
                   engine=engine, k6=k6)
    assert bad.verdict == "error" and bad.k6_exit_code == 107
    assert "script_error" in bad.reasons[0]
    runs = {r.run_id: r.verdict for r in list_runs(engine)}
    assert runs == {good.run_id: "pass", bad.run_id: "error"}


def test_custom_iteration_module_runs_under_the_generated_profile(target_factory, k6, tmp_path):
    target = target_factory(100)
    module = tmp_path / "iteration.js"
    module.write_text(
        "import http from 'k6/http';\n"
        "export default function (ep) { http.get(ep.url + '?from=custom'); }\n"
    )
    result = run_test(TestSpec(test_type="load", endpoints=_ep(target), rps=20, duration_s=2, script=module), k6=k6)
    assert result.verdict == "pass" and result.summary.requests >= 38
    assert target.server.stats.served >= 38


def test_hung_k6_is_killed_at_the_time_limit_and_recorded(tmp_path, engine, target_factory):
    target = target_factory(100)
    fake = tmp_path / "k6"
    fake.write_text("#!/bin/sh\nif [ \"$1\" = version ]; then echo 'k6 v1.1.0'; exit 0; fi\nexec sleep 600\n")
    fake.chmod(0o755)
    settings = PerftestSettings(kill_margin_s=1)
    started = time.monotonic()
    result = run_test(TestSpec(test_type="load", endpoints=_ep(target), rps=5, duration_s=1), settings=settings,
                      engine=engine, k6=K6Binary(path=str(fake), version="1.1.0"))
    assert time.monotonic() - started < 15
    assert result.verdict == "timeout" and result.killed
    stored = list_runs(engine)
    assert [(r.run_id, r.verdict) for r in stored] == [(result.run_id, "timeout")]


# --- failover against a restartable local service -------------------------------------------


def _start_target(port: int, pid_file: Path) -> None:
    subprocess.Popen(
        [sys.executable, "-m", "perftest.target", "--capacity-rps", "300", "--port", str(port), "--pid-file", str(pid_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not pid_file.exists():
        assert time.monotonic() < deadline, "target did not start"
        time.sleep(0.05)


@pytest.fixture
def restartable_target(tmp_path):
    port = free_port()
    pid_file = tmp_path / "target.pid"
    _start_target(port, pid_file)
    restart = (
        f"kill $(cat {pid_file}) && sleep 1 && "
        f"{sys.executable} -m perftest.target --capacity-rps 300 --port {port} --pid-file {pid_file} "
        f">/dev/null 2>&1 & "
        f"for i in $(seq 100); do [ -s {pid_file} ] && exit 0; sleep 0.1; done; exit 1"
    )
    yield f"http://127.0.0.1:{port}", restart
    killed: set[int] = set()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # a restart still under way may write a new pid
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid not in killed:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            killed.add(pid)
        elif pid is None and killed:
            break
        time.sleep(0.1)


def test_failover_measures_time_to_recovery_of_a_restarted_service(restartable_target, engine, k6):
    url, restart = restartable_target
    spec = TestSpec(
        test_type="failover", endpoints=[Endpoint(url=url + "/work")], rps=20, duration_s=9, system_id="ledger-db",
        failover=FailoverSettings(command=restart, trigger_after_s=2, max_recovery_s=8, settle_s=2),
    )
    result = run_test(spec, engine=engine, k6=k6)
    fo = result.failover
    assert result.failover_command.exit_code == 0
    assert fo.disrupted and fo.recovered
    assert 1.0 <= fo.time_to_recovery_s <= 8
    assert fo.failed_requests > 0
    assert result.verdict == "pass"
    stored = list_runs(engine, system_id="ledger-db")
    assert stored[0].time_to_recovery_s == fo.time_to_recovery_s


def test_failover_slower_than_its_limit_fails(restartable_target, k6):
    url, restart = restartable_target
    spec = TestSpec(
        test_type="failover", endpoints=[Endpoint(url=url + "/work")], rps=20, duration_s=9,
        failover=FailoverSettings(command=restart, trigger_after_s=2, max_recovery_s=0.5, settle_s=2),
    )
    result = run_test(spec, k6=k6)
    assert result.verdict == "fail"
    assert any("time to recovery" in r for r in result.reasons)


def test_remote_module_imports_are_refused_before_k6_runs(target_factory, engine, k6, tmp_path):
    target = target_factory(100)
    helper = tmp_path / "lib" / "helper.js"
    helper.parent.mkdir()
    helper.write_text("import { uuidv4 } from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';\nexport const id = uuidv4;\n")
    module = tmp_path / "iteration.js"
    module.write_text("import http from 'k6/http';\nimport { id } from './lib/helper.js';\nexport default function (ep) { http.get(ep.url); }\n")
    with pytest.raises(UsageError, match=r"helper\.js:1: imports a module from the network"):
        run_test(TestSpec(test_type="load", endpoints=_ep(target), rps=5, duration_s=1, script=module), engine=engine, k6=k6)
    assert list_runs(engine) == []


def test_a_custom_module_cannot_reach_hosts_off_the_allow_list(target_factory, k6, tmp_path):
    target = target_factory(100)
    module = tmp_path / "iteration.js"
    module.write_text("import http from 'k6/http';\n"
                      "export default function (ep) { http.get('http://10.255.255.1/', { timeout: '1s' }); }\n")
    result = run_test(TestSpec(test_type="load", endpoints=_ep(target), rps=5, duration_s=1, script=module), k6=k6)
    assert result.verdict == "fail" and result.summary.error_rate == 1.0
    assert target.server.stats.served == 0
