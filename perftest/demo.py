"""Demo performance tests: short real k6 runs for a few demo systems, stored like any user's.

Run after ``readiness demo`` (``make demo`` does): ``python -m perftest.demo --db URL``.
Three systems of the demo catalog, picked deterministically (FLAS and critical
first), each get a test plan in ``<out>/perftest/plans/`` and a stand-in
service (``python -m perftest.target`` on 127.0.0.1, in its own process) whose
capacity tells a story:

- ready: load, spike and overload pass, the breaking point above the FLAS target;
- under-provisioned: the load test misses its SLOs, the service breaks below its target;
- failover: the service is restarted under load and recovers within its limit.

The plans go through perftest's public path (plan, specs, ``run_test``), so each
run is judged and stored with its plan path and SHA-256 exactly as
``perftest run --plan`` stores it. About a minute on two cores (``--quick``:
shorter phases). Runs already stored for the chosen systems are kept and
nothing runs again unless ``--again``. The stand-ins are stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from perftest.errors import PerftestError, UsageError
from perftest.plans import load_plan, resolve_targets, specs_from_plan
from perftest.runner import RunResult, run_test
from perftest.store import list_runs
from perftest.target import free_port
from storage import database_url, get_engine, migrate

HOST = "127.0.0.1"
MAX_QUEUE_MS = 500  # past half a second of queue the stand-in sheds with 503: overload shows as errors too
SLO = {"p95_ms": 300, "p99_ms": 800, "error_rate": 0.01}
SAFETY_FACTOR = 1.2
TIER_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass(frozen=True)
class Scenario:
    """One demo system's story: its stand-in's real capacity and the targets its plan sets."""

    story: str
    capacity_rps: float
    baseline_rps: float
    flas_rps: float | None
    required: tuple[str, ...] | None  # None: what the traffic class requires
    overload: tuple[float, float, float] = (0.9, 0.15, 1.6)  # start, step, max factor of the target
    failover: bool = False


# Rates stay below ~200 rps: what k6 and the stand-in sustain on a busy 2-core machine.
READY = Scenario("ready", capacity_rps=140, baseline_rps=40, flas_rps=100, required=None)
UNDERSIZED = Scenario("under-provisioned", capacity_rps=40, baseline_rps=50, flas_rps=110,
                      required=("load", "overload"), overload=(0.25, 0.25, 1.0))
FAILOVER = Scenario("failover", capacity_rps=300, baseline_rps=20, flas_rps=None, required=("failover",),
                    failover=True)
SCENARIOS = (READY, UNDERSIZED, FAILOVER)


@dataclass(frozen=True)
class Timing:
    """Phase lengths in seconds: short, so the demo step takes about a minute."""

    load_s: float
    spike: tuple[float, float, float, float]  # warmup, ramp, hold, cooldown
    step_s: float
    failover_s: float
    trigger_after_s: float


FULL = Timing(load_s=6, spike=(2, 3, 4, 1), step_s=2, failover_s=10, trigger_after_s=3)
QUICK = Timing(load_s=3, spike=(1, 2, 2, 0), step_s=1.5, failover_s=8, trigger_after_s=2)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(engine, out: Path, *, quick: bool = False, again: bool = False,
        log: Callable[[str], None] = _say) -> list[RunResult]:
    """Run the demo tests and store them; returns the runs (none when already stored and not ``again``)."""
    picks = list(zip(SCENARIOS, demo_systems(engine), strict=True))
    if not again and any(list_runs(engine, system_id=system.system_id, limit=1) for _, system in picks):
        log("perftest demo: runs are already stored for " + ", ".join(s.system_id for _, s in picks)
            + "; nothing run (--again runs the tests again)")
        return []
    timing = QUICK if quick else FULL
    folder = out / "perftest"
    (folder / "plans").mkdir(parents=True, exist_ok=True)
    results: list[RunResult] = []
    for scenario, system in picks:
        with StandIn(scenario.capacity_rps, folder / f"{system.system_id}.pid") as target:
            plan = load_plan(write_plan(folder / "plans", system, scenario, target, timing))
            specs = specs_from_plan(plan, resolve_targets(plan), catalog_class=system.traffic_class)
            for spec in specs:
                log(f"{system.system_id} ({scenario.story}): {spec.test_type.value} test")
                results.append(run_test(spec, engine=engine, source="plan", plan_path=str(plan.path),
                                        plan_sha256=plan.sha256, log=log))
    return results


def demo_systems(engine) -> list:
    """One catalog system per scenario, FLAS systems first (critical first, purchase flow first).

    The stand-ins serve what k6 sustains on a small machine, so the stories must fit the systems'
    own figures (the one capacity policy's forecasts): ready is the first purchase-flow system
    whose Baseline and FLAS forecasts lie within the ready plan's targets, so its measured breaking
    point tells the truth about it; under-provisioned is the first FLAS system outside the purchase
    flow (its low breaking point is its own story, not a limit on every flash sale) whose Baseline
    lies between its stand-in's capacity and the plan's Baseline (it carries today's traffic and
    breaks before its Baseline); failover the most critical of the rest. Without such systems, the
    first FLAS systems."""
    from readiness import active_systems, stored_capacity_figures

    systems = active_systems(engine)
    if not _is_demo_catalog(systems):
        raise UsageError(
            "the database holds no demo organisation (the catalog is empty or not the demo's); "
            "run `readiness demo --db URL` first. The perftest demo stores runs only for the demo's "
            "systems, never as evidence about a real catalog"
        )
    ranked = sorted(systems, key=lambda s: (s.traffic_class != "FLAS", TIER_ORDER.get(s.tier, 9),
                                            not s.purchase_flow, s.system_id))
    figures = stored_capacity_figures(engine, [s.system_id for s in ranked if s.traffic_class == "FLAS"])

    def fits(system, scenario: Scenario, above: float = 0.0) -> bool:
        f = figures.get(system.system_id)
        return bool(f and f.baseline_rps and f.flas_rps and above < f.baseline_rps <= scenario.baseline_rps
                    and f.flas_rps <= scenario.flas_rps)

    ready = next((s for s in ranked if s.purchase_flow and fits(s, READY)), ranked[0])
    outside_flow = [s for s in ranked if s.traffic_class == "FLAS" and not s.purchase_flow
                    and s.system_id != ready.system_id]
    # Its stand-in must carry today's traffic and break before the Baseline: a breaking point
    # below the traffic the system is seen serving would contradict the Capacity page.
    undersized = next((s for s in outside_flow if fits(s, UNDERSIZED, above=UNDERSIZED.capacity_rps)),
                      next(iter(outside_flow), next(s for s in ranked if s.system_id != ready.system_id)))
    rest = [s for s in systems if s.system_id not in (ready.system_id, undersized.system_id)]
    failover = min(rest, key=lambda s: (TIER_ORDER.get(s.tier, 9), s.system_id))
    return [ready, undersized, failover]


def _is_demo_catalog(systems) -> bool:
    """The demo's ids (``SYS-0001``, ``team-001``) and enough systems for the scenarios."""
    return len(systems) >= len(SCENARIOS) and all(
        re.fullmatch(r"SYS-\d{4,}", s.system_id) and re.fullmatch(r"team-\d{3,}", s.team) for s in systems)


def write_plan(folder: Path, system, scenario: Scenario, target: StandIn, timing: Timing) -> Path:
    """The system's test plan against its stand-in, as an owner would keep it."""
    targets = {"baseline_rps": scenario.baseline_rps}
    if scenario.flas_rps is not None:
        targets["flas_rps"] = scenario.flas_rps
    doc = {"version": 1, "system": system.system_id, "safety_factor": SAFETY_FACTOR, "slo": SLO,
           "targets": targets, "endpoints": _endpoints(system, target.url), "tests": _tests(scenario, target, timing)}
    header = (f"# Demo plan for {system.system_id} ({system.name}): {scenario.story}.\n"
              f"# The endpoints are a stand-in stopped after the demo; to run the plan again, serve it with\n"
              f"#   {shlex.join(target.argv())}\n")
    path = folder / f"{system.system_id}.yaml"
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False, width=200), encoding="utf-8")
    return path


def _endpoints(system, base_url: str) -> list[dict]:
    """The system's catalogued services, each a path on the stand-in."""
    endpoints = [{"name": s["name"], "url": base_url + s["endpoint"], "method": s.get("method", "GET")}
                 for s in system.services if s.get("name") and str(s.get("endpoint", "")).startswith("/")]
    return endpoints or [{"name": "default", "url": base_url + "/"}]


def _tests(scenario: Scenario, target: StandIn, timing: Timing) -> dict:
    tests: dict = {}
    if scenario.required is not None:
        tests["required"] = list(scenario.required)
    if scenario.failover:
        tests["failover"] = {"command": target.restart_command(), "duration_s": timing.failover_s,
                             "trigger_after_s": timing.trigger_after_s, "max_recovery_s": 10}
        return tests
    warmup, ramp, hold, cooldown = timing.spike
    start, step, top = scenario.overload
    tests["load"] = {"duration_s": timing.load_s}
    tests["spike"] = {"warmup_s": warmup, "ramp_s": ramp, "hold_s": hold, "cooldown_s": cooldown}
    tests["overload"] = {"step_s": timing.step_s, "start_factor": start, "max_factor": top, "step_factor": step}
    return tests


class StandIn:
    """A system's stand-in: the local target in its own process (the demo's own work cannot
    stall it), restartable through its pid file for the failover test."""

    def __init__(self, capacity_rps: float, pid_file: Path) -> None:
        self.capacity_rps = capacity_rps
        self.pid_file = pid_file
        self.port = free_port(HOST)
        self.url = f"http://{HOST}:{self.port}"
        self._proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "perftest.target", "--capacity-rps", f"{self.capacity_rps:g}",
                "--host", HOST, "--port", str(self.port), "--max-queue-ms", str(MAX_QUEUE_MS),
                "--pid-file", str(self.pid_file)]

    def restart_command(self) -> str:
        """Stop the running stand-in, start a new one a second later, exit once it serves."""
        pid_file = shlex.quote(str(self.pid_file))
        return (f"old=$(cat {pid_file}); {{ kill $old && sleep 1 && exec {shlex.join(self.argv())} >/dev/null 2>&1; }} & "
                f"for i in $(seq 100); do sleep 0.1; now=$(cat {pid_file} 2>/dev/null); "
                f"[ -n \"$now\" ] && [ \"$now\" != \"$old\" ] && exit 0; done; exit 1")

    def __enter__(self) -> StandIn:
        self.pid_file.unlink(missing_ok=True)
        self._proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
        if self._proc.stdout.readline().strip() != self.url:  # it prints its URL once it listens
            self.stop()
            raise PerftestError(f"the stand-in target did not start on {self.url} ({shlex.join(self.argv())})")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop our process and any incarnation a failover command started in its place."""
        proc = self._proc
        pid = _read_pid(self.pid_file)
        if pid is not None and proc is not None and pid != proc.pid:
            _stop_incarnation(pid, self.pid_file)
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            proc.stdout.close()
        self.pid_file.unlink(missing_ok=True)


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _stop_incarnation(pid: int, pid_file: Path) -> None:
    """SIGTERM a restarted stand-in (not our child) and wait until it removes its pid file."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while _read_pid(pid_file) == pid and time.monotonic() < deadline:
        time.sleep(0.05)
    if _read_pid(pid_file) == pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def summary(results: list[RunResult]) -> str:
    verdicts = Counter(r.verdict for r in results)
    systems = dict.fromkeys(r.spec.system_id for r in results)
    return (f"{len(results)} runs for {', '.join(systems)}: "
            + ", ".join(f"{count} {verdict}" for verdict, count in sorted(verdicts.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perftest.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="Database URL (default: PEAK_DATABASE_URL or sqlite:///peak.db).")
    parser.add_argument("--out", default="demo", type=Path, help="Folder for the demo plans (default: demo).")
    parser.add_argument("--quick", action="store_true", help="Shorter phases (for tests; less steady figures).")
    parser.add_argument("--again", action="store_true", help="Run the tests even if the demo's runs are stored.")
    args = parser.parse_args(argv)
    engine = get_engine(database_url(args.db))
    migrate(engine)
    started = time.monotonic()
    try:
        results = run(engine, args.out, quick=args.quick, again=args.again)
    except PerftestError as exc:
        _say(f"error: {exc}")
        return exc.exit_code
    if results:
        _say(f"perftest demo: {summary(results)} in {time.monotonic() - started:.0f} s; "
             f"plans in {args.out / 'perftest' / 'plans'}; see `perftest results`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
