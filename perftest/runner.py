"""Run one test: guards, script, k6 subprocess, analysis, verdict, storage.

Verdicts:

- ``pass`` / ``fail``: the run is evidence about the system (thresholds, breaking
  point against the forecast, or failover recovery against its limits);
- ``invalid``: the generator did not deliver the planned load (no request sent,
  fewer requests than ``PERFTEST_MIN_DELIVERED_SHARE`` of the planned ones,
  dropped iterations above ``PERFTEST_MAX_DROPPED_SHARE``, or the spike never
  reached its FLAS rate within two minutes): not evidence either way;
- ``error``: k6 could not run the test (script error, invalid config, ...);
- ``timeout``: k6 outlived its hard time limit and was killed;
- ``interrupted``: k6 was stopped from outside (exit 105).

Refusals before k6 starts (host not allowed, bounds, missing k6, unreachable
URL) raise :class:`~perftest.errors.PerftestError` and store nothing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from perftest.analysis import (
    BreakingPoint,
    FailoverResult,
    Requests,
    Summary,
    Window,
    breaking_point,
    failover_analysis,
    parse_points,
    parse_summary,
    peak_reached_after_s,
    phase_windows,
    time_windows,
)
from perftest.errors import UsageError
from perftest.k6 import K6Binary, K6Outcome, K6Process, locate_k6, run_k6
from perftest.live import BreakWatcher
from perftest.safety import check_bounds, check_hosts, check_reachable
from perftest.scripts import render_script, script_sha256
from perftest.settings import PerftestSettings
from perftest.spec import SPIKE_MAX_RAMP_S, TestSpec, TestType
from storage import utcnow

PASS, FAIL, INVALID, ERROR, TIMEOUT, INTERRUPTED = "pass", "fail", "invalid", "error", "timeout", "interrupted"
VERDICTS = (PASS, FAIL, INVALID, ERROR, TIMEOUT, INTERRUPTED)


@dataclass
class CommandResult:
    command: str
    exit_code: int | None
    output: str
    started_epoch: float
    elapsed_s: float


@dataclass
class RunResult:
    spec: TestSpec
    verdict: str
    reasons: list[str]
    k6_version: str
    k6_exit_code: int | None
    k6_outcome: str
    killed: bool
    started_at: datetime
    finished_at: datetime
    script_sha256: str
    stderr_tail: str = ""
    summary: Summary | None = None
    phases: list[Window] = field(default_factory=list)
    timeline: list[Window] = field(default_factory=list)
    breaking: BreakingPoint | None = None
    peak_reached_after_s: float | None = None
    failover: FailoverResult | None = None
    failover_command: CommandResult | None = None
    run_id: int | None = None
    plan_path: str | None = None
    plan_sha256: str | None = None
    source: str = "cli"

    def as_dict(self) -> dict:
        """The JSON document of ``perftest run --format json``."""
        s = self.summary
        latency = None
        if s is not None:
            latency = {"p50": s.p50_ms, "p90": s.p90_ms, "p95": s.p95_ms, "p99": s.p99_ms, "max": s.max_ms, "avg": s.avg_ms}
        doc = {
            "run_id": self.run_id,
            "system_id": self.spec.system_id,
            "test_type": self.spec.test_type.value,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "target_rps": self.spec.rps,
            "peak_rps": self.spec.peak_rps(),
            "achieved_rps": None if s is None else round(s.achieved_rps, 3),
            "requests": None if s is None else s.requests,
            "latency_ms": latency,
            "error_rate": None if s is None else round(s.error_rate, 6),
            "dropped_iterations": None if s is None else s.dropped_iterations,
            "dropped_share": None if s is None else round(s.dropped_share, 6),
            "thresholds": None if s is None else s.thresholds,
            "slo": self.spec.slo.model_dump(),
            "k6": {"version": self.k6_version, "exit_code": self.k6_exit_code, "outcome": self.k6_outcome, "killed": self.killed},
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "script_sha256": self.script_sha256,
            "phases": [w.as_dict() for w in self.phases],
        }
        if self.spec.test_type is TestType.OVERLOAD:
            b = self.breaking
            doc["breaking_point_rps"] = None if b is None else b.sustained_rps
            doc["broke_at_rps"] = None if b is None else b.broke_at_rps
            doc["breaking_reason"] = None if b is None else b.reason
        if self.spec.test_type is TestType.SPIKE:
            doc["flas_rps"] = self.spec.peak_rps()
            doc["baseline_rps"] = self.spec.profile()[0].from_rps
            doc["peak_reached_after_s"] = self.peak_reached_after_s
        if self.spec.test_type is TestType.FAILOVER:
            doc["failover"] = None if self.failover is None else self.failover.as_dict()
            if self.failover_command is not None:
                doc["failover_command"] = {
                    "command": self.failover_command.command,
                    "exit_code": self.failover_command.exit_code,
                    "output": self.failover_command.output,
                }
        return doc


def run_test(
    spec: TestSpec,
    *,
    settings: PerftestSettings | None = None,
    engine: Engine | None = None,
    k6: K6Binary | None = None,
    artifacts_dir: Path | None = None,
    source: str = "cli",
    plan_path: str | None = None,
    plan_sha256: str | None = None,
    log: Callable[[str], None] = lambda _msg: None,
) -> RunResult:
    """Run ``spec`` with k6 and judge it; store the run when ``engine`` is given."""
    settings = settings or PerftestSettings()
    allowed_ips = check_hosts(spec, settings)
    check_bounds(spec, settings)
    if spec.script is not None:
        check_local_module(Path(spec.script))
    binary = k6 or locate_k6()
    check_reachable(spec)

    script_text = render_script(spec, settings, allowed_ips=allowed_ips)
    workdir = Path(tempfile.mkdtemp(prefix="perftest-"))
    try:
        script_path = workdir / "script.js"
        script_path.write_text(script_text)
        summary_path = workdir / "summary.json"
        out_path = workdir / "points.json.gz"
        time_limit = spec.planned_duration_s() + settings.kill_margin_s
        log(f"k6 v{binary.version}: {spec.test_type.value} test, up to {spec.peak_rps()} rps for {spec.planned_duration_s():g} s (limit {time_limit:g} s)")

        trigger: _Trigger | None = None
        watcher: BreakWatcher | None = None
        on_started = None
        extra_args: list[str] = []
        if spec.test_type is TestType.FAILOVER:
            trigger = _Trigger(spec, log)
            on_started = trigger.arm
        elif spec.test_type is TestType.OVERLOAD and spec.overload.stop_after_break:
            live_path = workdir / "live.jsonl"
            watcher = BreakWatcher(spec, live_path)
            on_started = watcher.arm
            extra_args = ["--out", f"json={live_path}"]
        started_at = utcnow()
        proc = run_k6(
            binary,
            script_path,
            summary_path=summary_path,
            out_path=out_path,
            time_limit_s=time_limit,
            cwd=workdir,
            on_started=on_started,
            extra_args=extra_args,
            env=_offline_env(settings, allowed_ips),
        )
        if trigger is not None:
            trigger.join()
        stopped_after = None
        if watcher is not None:
            watcher.join()
            stopped_after = watcher.stopped_at_phase
            if stopped_after:
                log(f"stopped the ramp: the service broke for good by {stopped_after}")
        finished_at = utcnow()
        result = _judge(
            spec, settings, binary, proc, summary_path, out_path, trigger,
            started_at=started_at, finished_at=finished_at, script_text=script_text,
            stopped_after=stopped_after,
        )
        result.source, result.plan_path, result.plan_sha256 = source, plan_path, plan_sha256
        if artifacts_dir is not None:
            artifacts_dir.mkdir(parents=True, exist_ok=True)
            for item in workdir.iterdir():
                if item.name != "live.jsonl":  # the uncompressed duplicate of points.json.gz
                    shutil.copy2(item, artifacts_dir / item.name)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if engine is not None:
        from perftest.store import save_run

        result.run_id = save_run(engine, result)
    log(f"verdict: {result.verdict}" + (f" ({'; '.join(result.reasons)})" if result.reasons else ""))
    return result


_REMOTE_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"`](https?:)?//""")
_LOCAL_IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"`](\.{1,2}/[^'"`]+)['"`]""")


def check_local_module(path: Path, _seen: set[Path] | None = None) -> None:
    """A custom iteration module (and what it imports) must be local: no k6 module is
    fetched from the network. Raises UsageError naming the file and line."""
    seen = _seen if _seen is not None else set()
    path = path.resolve()
    if path in seen:
        return
    seen.add(path)
    if not path.is_file():
        raise UsageError(f"script: {path} does not exist (expected a local k6 module file)")
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if _REMOTE_IMPORT.search(line):
            raise UsageError(
                f"{path}:{number}: imports a module from the network; perftest runs k6 offline. "
                "Vendor the module next to the script and import it by relative path"
            )
        for match in _LOCAL_IMPORT.finditer(line):
            check_local_module(path.parent / match.group(1), seen)


def _offline_env(settings: PerftestSettings, allowed_ips: list[str]) -> dict[str, str]:
    """Route everything but the allowed hosts through a dead proxy: a second guard (after the
    module scan and blacklistIPs) that k6 reaches nothing else, remote modules included."""
    dead = "http://127.0.0.1:9"
    no_proxy = ",".join(sorted(set(settings.allowed_hosts) | set(allowed_ips)))
    return {"HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead,
            "NO_PROXY": no_proxy, "no_proxy": no_proxy}


class _Trigger:
    """Runs the failover command ``trigger_after_s`` after k6 starts, in a thread."""

    def __init__(self, spec: TestSpec, log) -> None:
        self.spec = spec
        self.log = log
        self.result: CommandResult | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    def arm(self, proc: subprocess.Popen) -> None:
        self._thread = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self._thread.start()

    def _run(self, proc: subprocess.Popen) -> None:
        f = self.spec.failover
        assert f is not None
        # k6 needs a moment to initialise VUs before the scenario starts.
        deadline = time.monotonic() + f.trigger_after_s + 0.5
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return
            time.sleep(0.05)
        self.log(f"triggering failover: {f.command}")
        started = time.time()
        t = time.monotonic()
        try:
            done = subprocess.run(
                f.command, shell=True, capture_output=True, text=True,
                timeout=f.command_timeout_s, stdin=subprocess.DEVNULL, start_new_session=True,
            )
            code, output = done.returncode, (done.stdout + done.stderr)[-2000:]
        except subprocess.TimeoutExpired as exc:
            code = None
            output = f"failover command timed out after {f.command_timeout_s:g} s; " + str(exc.output or "")[-1000:]
        self.result = CommandResult(f.command, code, output, started, time.monotonic() - t)

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=(self.spec.failover.command_timeout_s if self.spec.failover else 0) + 10)


def _judge(
    spec: TestSpec,
    settings: PerftestSettings,
    binary: K6Binary,
    proc: K6Process,
    summary_path: Path,
    out_path: Path,
    trigger: _Trigger | None,
    *,
    started_at: datetime,
    finished_at: datetime,
    script_text: str,
    stopped_after: str | None = None,
) -> RunResult:
    result = RunResult(
        spec=spec,
        verdict=ERROR,
        reasons=[],
        k6_version=binary.version,
        k6_exit_code=proc.exit_code,
        k6_outcome=proc.outcome.value,
        killed=proc.killed,
        started_at=started_at,
        finished_at=finished_at,
        script_sha256=script_sha256(script_text),
        stderr_tail=proc.stderr_tail,
    )
    if trigger is not None:
        result.failover_command = trigger.result
    if summary_path.exists():
        result.summary = parse_summary(summary_path)
    reqs: Requests | None = parse_points(out_path) if out_path.exists() else None
    if reqs is not None and len(reqs):
        result.phases = phase_windows(spec, reqs)
        if stopped_after is not None:  # steps never started after the stop are not data
            while result.phases and result.phases[-1].requests == 0 and result.phases[-1].dropped == 0:
                result.phases.pop()
        if spec.test_type in (TestType.SPIKE, TestType.FAILOVER):
            result.timeline = time_windows(spec, reqs)

    if proc.killed:
        result.verdict = TIMEOUT
        result.reasons.append(
            f"k6 did not finish within the hard limit of {spec.planned_duration_s() + settings.kill_margin_s:g} s and was killed"
        )
        return result
    if proc.outcome is K6Outcome.INTERRUPTED and stopped_after is not None:
        # We sent the SIGINT at the confirmed break: a complete overload test, not an interruption.
        result.reasons.append(f"ramp stopped after the confirmed break ({stopped_after})")
    elif proc.outcome is K6Outcome.INTERRUPTED:
        result.verdict = INTERRUPTED
        result.reasons.append("k6 was interrupted by a signal (exit 105)")
        return result
    completed = (K6Outcome.PASSED, K6Outcome.THRESHOLDS_FAILED) + ((K6Outcome.INTERRUPTED,) if stopped_after else ())
    if proc.outcome not in completed or result.summary is None:
        result.verdict = ERROR
        result.reasons.append(f"k6 exited with {proc.exit_code} ({proc.outcome.value}): {_last_error(proc.stderr_tail)}")
        return result

    summary = result.summary
    short = _undelivered(spec, summary, settings)
    if short:
        result.verdict = INVALID
        result.reasons.append(short)
        return result
    limit = settings.max_dropped_share
    if spec.test_type is TestType.OVERLOAD:
        return _judge_overload(result, limit)
    if spec.test_type is TestType.FAILOVER:
        return _judge_failover(result, reqs, limit)

    if summary.dropped_share > limit:
        result.verdict = INVALID
        result.reasons.append(
            f"generator could not keep up: {summary.dropped_iterations} of "
            f"{summary.iterations + summary.dropped_iterations} iterations dropped "
            f"({summary.dropped_share:.1%} > {limit:.1%}); the system did not get the planned load"
        )
        return result
    if spec.test_type is TestType.SPIKE:
        result.peak_reached_after_s = peak_reached_after_s(spec, result.timeline)
        if result.peak_reached_after_s is None or result.peak_reached_after_s > SPIKE_MAX_RAMP_S:
            result.verdict = INVALID
            result.reasons.append(f"the spike never reached its FLAS rate ({spec.peak_rps()} rps) within {SPIKE_MAX_RAMP_S:g} s")
            return result
    failed = sorted(name for name, ok in summary.thresholds.items() if not ok)
    if proc.outcome is K6Outcome.THRESHOLDS_FAILED or failed:
        result.verdict = FAIL
        result.reasons.extend(f"threshold crossed: {name}" for name in failed)
    else:
        result.verdict = PASS
    return result


def _undelivered(spec: TestSpec, summary: Summary, settings: PerftestSettings) -> str | None:
    """Why the run sent too few requests to be evidence, or None.

    A run that sent nothing has thresholds that nothing crossed: without this it
    would pass. An overload ramp stopped at the break sends less than planned by
    design, so only "nothing at all" applies to it.
    """
    planned = spec.planned_requests()
    if summary.requests == 0:
        return (f"k6 sent no requests (about {planned:.0f} planned): not evidence either way; "
                "check the URL and the iteration script")
    if spec.test_type is TestType.OVERLOAD or summary.dropped_share > settings.max_dropped_share:
        return None  # dropped iterations are judged next, with a reason that says more
    share = summary.requests / planned if planned else 1.0
    if share < settings.min_delivered_share:
        return (f"k6 sent {summary.requests} requests, {share:.0%} of the about {planned:.0f} planned "
                f"(below {settings.min_delivered_share:.0%}, PERFTEST_MIN_DELIVERED_SHARE): "
                "the system did not get the planned load")
    return None


def _judge_overload(result: RunResult, limit: float) -> RunResult:
    spec = result.spec
    if not result.phases:
        result.verdict = ERROR
        result.reasons.append("k6 produced no request samples")
        return result
    bp = breaking_point(result.phases)
    result.breaking = bp
    # Drops only invalidate the steps up to the one that broke: past it they are the SUT's doing.
    considered = [w for w in result.phases if w.target_rps is not None and (bp.broke_at_rps is None or w.target_rps < bp.broke_at_rps)]
    started = sum(w.requests + w.dropped for w in considered)
    dropped = sum(w.dropped for w in considered)
    if started and dropped / started > limit:
        result.verdict = INVALID
        result.reasons.append(f"generator could not keep up below the breaking point: {dropped} of {started} iterations dropped")
        return result
    sustained = bp.sustained_rps or 0.0
    result.reasons.append(f"sustained {sustained:g} rps within SLO; {bp.reason}")
    result.verdict = PASS if sustained >= spec.rps else FAIL
    if result.verdict == FAIL:
        result.reasons.append(f"broke below the target of {spec.rps:g} rps")
    return result


def _judge_failover(result: RunResult, reqs: Requests | None, limit: float) -> RunResult:
    spec = result.spec
    f = spec.failover
    assert f is not None
    cmd = result.failover_command
    if cmd is None:
        result.verdict = ERROR
        result.reasons.append("the failover command never ran (k6 ended before the trigger time)")
        return result
    if cmd.exit_code != 0:
        result.verdict = ERROR
        result.reasons.append(f"the failover command failed (exit {cmd.exit_code}): {cmd.output.strip()[-300:]}")
        return result
    if reqs is None or reqs.origin is None or not len(reqs):
        result.verdict = ERROR
        result.reasons.append("k6 produced no request samples")
        return result
    trigger_s = cmd.started_epoch - reqs.origin
    pre = [w for w in result.timeline if w.end_s <= trigger_s]
    started = sum(w.requests + w.dropped for w in pre)
    if started and sum(w.dropped for w in pre) / started > limit:
        result.verdict = INVALID
        result.reasons.append("generator could not keep up before the failover was triggered")
        return result
    fo = failover_analysis(reqs, trigger_s=trigger_s, slo=spec.slo, settle_s=f.settle_s)
    result.failover = fo
    problems = []
    if not fo.recovered:
        problems.append("did not recover before the end of the run")
    elif fo.time_to_recovery_s is not None and fo.time_to_recovery_s > f.max_recovery_s:
        problems.append(f"time to recovery {fo.time_to_recovery_s:g} s > {f.max_recovery_s:g} s")
    if f.max_errors is not None and fo.failed_requests > f.max_errors:
        problems.append(f"{fo.failed_requests} failed requests > {f.max_errors}")
    if problems:
        result.verdict = FAIL
        result.reasons.extend(problems)
    else:
        result.verdict = PASS
        result.reasons.append(
            "no disruption" if not fo.disrupted else f"recovered in {fo.time_to_recovery_s:g} s with {fo.failed_requests} failed requests"
        )
    return result


def _last_error(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if "level=error" in ln]
    text = (lines[-1] if lines else stderr.strip().splitlines()[-1] if stderr.strip() else "no output")
    return text[-500:]
