"""The `perftest` command line: target, run, plan check, results, trends.

Data goes to stdout, progress and errors to stderr. Exit codes: 0 passed,
1 error (k6 missing or failing, unreachable URL, invalid or timed-out run),
2 usage (bad arguments, invalid plan, host not on the allow-list),
3 a test ran and failed its SLOs (gate failed).
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clikit import (
    EXIT_ERROR,
    EXIT_GATE_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    DbOption,
    Format,
    FormatOption,
    cli_app,
    emit,
    emit_json,
    fail,
    open_engine,
    say,
)
from clikit import run as run_app
from perftest.errors import PerftestError, UsageError

if TYPE_CHECKING:
    from perftest.runner import RunResult
    from perftest.spec import TestType

# Each command imports what it runs (plans, k6, the store, the target) in its body, so `perftest
# --help` and a mistyped option answer at once (benchmarks/cli_speed.py). What the options show
# is written out here for the same reason; tests/clikit/test_startup.py keeps it equal to its source.


class TestTypeChoice(StrEnum):
    """perftest.spec.TestType, the values of --type."""

    load = "load"
    spike = "spike"
    overload = "overload"
    failover = "failover"

    __test__ = False  # not a pytest class


DEFAULT_BASE_LATENCY_MS = 10.0  # perftest.target.DEFAULT_BASE_LATENCY_S, in ms
DEFAULT_MAX_QUEUE_MS = 1000.0  # perftest.target.DEFAULT_MAX_QUEUE_S, in ms

app = cli_app("Load, spike, overload and failover tests with k6, judged against SLOs.", pretty_exceptions_enable=False)
plan_app = cli_app("Test plans (YAML, one per system).")
app.add_typer(plan_app, name="plan")


def parse_duration(text: str) -> float:
    """'90', '90s', '2m', '1h30m', '500ms' -> seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise typer.BadParameter(f"{text!r} is not a duration; use e.g. 30s, 2m, 1h30m or seconds")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * scale[u] for n, u in parts)


# --- target -------------------------------------------------------------------


@app.command()
def target(
    capacity_rps: Annotated[float, typer.Option("--capacity-rps", help="Requests per second served within SLO.")],
    port: Annotated[int, typer.Option("--port", help="Port (0: a free one).")] = 0,
    host: Annotated[str, typer.Option("--host", help="Loopback address to listen on.")] = "127.0.0.1",
    base_latency_ms: Annotated[float, typer.Option("--base-latency-ms", help="Latency below capacity.")] = DEFAULT_BASE_LATENCY_MS,
    max_queue_ms: Annotated[float, typer.Option("--max-queue-ms", help="Queueing beyond this is shed with 503.")] = DEFAULT_MAX_QUEUE_MS,
    pid_file: Annotated[Path | None, typer.Option("--pid-file", help="Write the process id here while serving.")] = None,
) -> None:
    """Start the local capacity-limited target; prints its URL on stdout, serves until stopped."""
    from perftest.target import serve

    if capacity_rps <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--capacity-rps")
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise typer.BadParameter("the target only listens on loopback (127.0.0.1, ::1, localhost)", param_hint="--host")

    def ready(h: str, p: int) -> None:
        typer.echo(f"http://{h}:{p}")
        say(f"target: capacity {capacity_rps:g} rps, base latency {base_latency_ms:g} ms, sheds past {max_queue_ms:g} ms of queue")

    serve(
        capacity_rps, port=port, host=host, base_latency_s=base_latency_ms / 1000,
        max_queue_s=max_queue_ms / 1000, pid_file=pid_file, on_ready=ready,
    )


# --- run ----------------------------------------------------------------------


@app.command()
def run(
    test_type: Annotated[TestTypeChoice | None, typer.Option("--type", help="load | spike | overload | failover (with --plan: only this one).")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Endpoint URL.")] = None,
    rps: Annotated[float | None, typer.Option("--rps", help="Load rate; spike FLAS peak; overload forecast; failover steady rate.")] = None,
    duration: Annotated[str, typer.Option("--duration", help="load/failover: total; spike: hold at peak (30s, 2m).")] = "60s",
    method: Annotated[str, typer.Option("--method")] = "GET",
    body: Annotated[str | None, typer.Option("--body", help="Request body.")] = None,
    header: Annotated[list[str] | None, typer.Option("--header", help="Header 'Name: value' (repeatable).")] = None,
    script: Annotated[Path | None, typer.Option("--script", help="k6 module whose default export is one iteration.")] = None,
    p95_ms: Annotated[float, typer.Option("--p95-ms", help="SLO: p95 latency limit.")] = 500.0,
    p99_ms: Annotated[float, typer.Option("--p99-ms", help="SLO: p99 latency limit.")] = 1000.0,
    error_rate: Annotated[float, typer.Option("--error-rate", help="SLO: failed share allowed (0-1).")] = 0.01,
    baseline_rps: Annotated[float | None, typer.Option("--baseline-rps", help="spike: rate before/after (default rps/5).")] = None,
    ramp: Annotated[str, typer.Option("--ramp", help="spike: ramp time to the peak, <= 2m.")] = "60s",
    warmup: Annotated[str, typer.Option("--warmup", help="spike: time at baseline first.")] = "10s",
    cooldown: Annotated[str, typer.Option("--cooldown", help="spike: time at baseline after.")] = "10s",
    step_duration: Annotated[str, typer.Option("--step-duration", help="overload: time per step.")] = "10s",
    start_factor: Annotated[float, typer.Option("--start-factor", help="overload: first step x rps.")] = 0.5,
    max_factor: Annotated[float, typer.Option("--max-factor", help="overload: last step x rps.")] = 2.0,
    step_factor: Annotated[float, typer.Option("--step-factor", help="overload: step size x rps.")] = 0.1,
    keep_ramping: Annotated[bool, typer.Option("--keep-ramping", help="overload: run every step even after the confirmed break.")] = False,
    failover_command: Annotated[str | None, typer.Option("--failover-command", help="failover: shell command that triggers it.")] = None,
    trigger_after: Annotated[str, typer.Option("--trigger-after", help="failover: steady load before the trigger.")] = "10s",
    max_recovery: Annotated[str, typer.Option("--max-recovery", help="failover: limit on time to recovery.")] = "30s",
    max_errors: Annotated[int | None, typer.Option("--max-errors", help="failover: limit on failed requests.")] = None,
    plan: Annotated[Path | None, typer.Option("--plan", help="Run the plan's required tests (with --system).")] = None,
    system: Annotated[str | None, typer.Option("--system", help="System id (required with --plan).")] = None,
    fmt: FormatOption = Format.table,
    db: DbOption = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not store the result.")] = False,
    artifacts: Annotated[Path | None, typer.Option("--artifacts", help="Keep script, summary and points here.")] = None,
) -> None:
    """Run one test (--type/--url/--rps) or a system's plan (--plan/--system)."""
    from perftest.runner import run_test
    from perftest.settings import PerftestSettings
    from perftest.spec import (
        SLO,
        Endpoint,
        FailoverSettings,
        OverloadSettings,
        SpikeSettings,
        TestSpec,
        TestType,
    )

    test_type = TestType(test_type) if test_type is not None else None
    settings = PerftestSettings()
    try:
        if plan is not None:
            engine = None if no_store else open_engine(db)
            specs, plan_obj = _plan_specs(plan, system, test_type, engine)
            ref = {"source": "plan", "plan_path": str(plan), "plan_sha256": plan_obj.sha256}
        else:
            if test_type is None or url is None or rps is None:
                raise UsageError("give --type, --url and --rps (or --plan FILE --system ID)")
            headers = {}
            for h in header or []:
                name, sep, value = h.partition(":")
                if not sep or not name.strip():
                    raise UsageError(f"--header {h!r}: expected 'Name: value'")
                headers[name.strip()] = value.strip()
            spec = TestSpec(
                test_type=test_type,
                endpoints=[Endpoint(url=url, method=method, body=body, headers=headers)],
                rps=rps,
                duration_s=parse_duration(duration),
                slo=SLO(p95_ms=p95_ms, p99_ms=p99_ms, error_rate=error_rate),
                system_id=system,
                script=script,
                overload=OverloadSettings(step_s=parse_duration(step_duration), start_factor=start_factor, max_factor=max_factor,
                                          step_factor=step_factor, stop_after_break=not keep_ramping),
                spike=SpikeSettings(baseline_rps=baseline_rps, warmup_s=parse_duration(warmup), ramp_s=parse_duration(ramp), cooldown_s=parse_duration(cooldown)),
                failover=None if failover_command is None else FailoverSettings(
                    command=failover_command, trigger_after_s=parse_duration(trigger_after),
                    max_recovery_s=parse_duration(max_recovery), max_errors=max_errors,
                ),
            )
            specs = [spec]
            ref = {"source": "cli"}
            engine = None if no_store else open_engine(db)
    except PerftestError as exc:
        raise fail(exc, code=exc.exit_code) from exc
    except ValueError as exc:  # pydantic validation of the arguments
        raise fail(_validation_text(exc), code=EXIT_USAGE) from exc

    results: list[RunResult] = []
    for spec in specs:
        try:
            results.append(run_test(spec, settings=settings, engine=engine, artifacts_dir=artifacts, log=say, **ref))
        except PerftestError as exc:
            raise fail(exc, code=exc.exit_code) from exc
    _print_results(results, fmt, single=plan is None)
    raise typer.Exit(_exit_code(results))


def _plan_specs(path: Path, system: str | None, only: TestType | None, engine):
    from perftest.plans import load_plan, resolve_targets, specs_from_plan

    plan_obj = load_plan(path)
    if system is None:
        raise UsageError("--system is required with --plan")
    if system != plan_obj.system_id:
        raise UsageError(f"--system {system!r} does not match the plan's system {plan_obj.system_id!r} ({path})")
    catalog_class = _catalog_class(engine, system)
    targets = resolve_targets(plan_obj, engine)
    specs = specs_from_plan(plan_obj, targets, catalog_class=catalog_class, only=[only] if only else None)
    return specs, plan_obj


def _catalog_class(engine, system_id: str) -> str | None:
    """The system's traffic class from the readiness catalog, when both exist."""
    if engine is None:
        return None
    try:
        from readiness import get_system
    except ImportError:
        return None
    try:
        found = get_system(engine, system_id)
    except Exception:  # catalog not set up in this database
        return None
    return getattr(found, "traffic_class", None) if found else None


def _exit_code(results: list[RunResult]) -> int:
    from perftest.runner import FAIL, PASS

    verdicts = {r.verdict for r in results}
    if verdicts <= {PASS}:
        return EXIT_OK
    if verdicts <= {PASS, FAIL}:
        return EXIT_GATE_FAILED
    return EXIT_ERROR


_OPTION_FOR = {
    "rps": "--rps", "duration_s": "--duration", "slo.p95_ms": "--p95-ms", "slo.p99_ms": "--p99-ms",
    "slo.error_rate": "--error-rate", "spike.ramp_s": "--ramp", "spike.warmup_s": "--warmup",
    "spike.cooldown_s": "--cooldown", "spike.baseline_rps": "--baseline-rps", "overload.step_s": "--step-duration",
    "overload.start_factor": "--start-factor", "overload.max_factor": "--max-factor",
    "overload.step_factor": "--step-factor", "failover.trigger_after_s": "--trigger-after",
    "failover.max_recovery_s": "--max-recovery", "failover.max_errors": "--max-errors",
    "endpoints.0.url": "--url", "endpoints.0.method": "--method",
}


def _validation_text(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for e in errors():
            field = ".".join(str(p) for p in e["loc"]) or "arguments"
            field = _OPTION_FOR.get(field) or _OPTION_FOR.get(f"spike.{field}") or _OPTION_FOR.get(f"overload.{field}") or _OPTION_FOR.get(f"failover.{field}") or field
            parts.append(f"{field}: {e['msg'].removeprefix('Value error, ')}")
        return "; ".join(parts)
    return str(exc)


def _print_results(results: list[RunResult], fmt: Format, *, single: bool) -> None:
    docs = [r.as_dict() for r in results]
    if fmt == Format.json:
        emit_json(docs[0] if single and docs else docs)
        return
    rows = [_flat(d) for d in docs]
    _emit(rows, fmt, ["run_id", "system_id", "test_type", "verdict", "target_rps", "achieved_rps", "p95_ms", "p99_ms", "error_rate", "breaking_point_rps", "reasons"])


def _flat(doc: dict) -> dict:
    lat = doc.get("latency_ms") or {}
    return {
        **{k: doc.get(k) for k in ("run_id", "system_id", "test_type", "verdict", "target_rps", "achieved_rps", "error_rate", "breaking_point_rps")},
        "p95_ms": lat.get("p95"),
        "p99_ms": lat.get("p99"),
        "reasons": "; ".join(doc.get("reasons") or []),
    }


# --- plan ---------------------------------------------------------------------


@plan_app.command("check")
def plan_check(
    file: Annotated[Path, typer.Argument(help="Plan file (YAML).")],
    fmt: FormatOption = Format.table,
    db: Annotated[str | None, typer.Option("--db", help="Also read the system's traffic class from the catalog and Kapacity's targets in this database.")] = None,
) -> None:
    """Validate a plan; list the tests it requires and their target rates."""
    from perftest.plans import load_plan, resolve_targets, specs_from_plan

    try:
        plan_obj = load_plan(file)
        engine = open_engine(db) if db else None
        catalog_class = _catalog_class(engine, plan_obj.system_id)
        targets = resolve_targets(plan_obj, engine) if (plan_obj.doc.targets is not None or engine is not None) else None
        specs = specs_from_plan(plan_obj, targets, catalog_class=catalog_class) if targets else []
    except PerftestError as exc:
        raise fail(exc, code=exc.exit_code) from exc
    required = [t.value for t in plan_obj.required_tests(catalog_class)]
    rows = [
        {"system_id": s.system_id, "test_type": s.test_type.value, "target_rps": round(s.rps, 3),
         "peak_rps": s.peak_rps(), "duration_s": s.planned_duration_s()}
        for s in specs
    ]
    if fmt == Format.json:
        emit_json({
            "file": str(file), "valid": True, "system_id": plan_obj.system_id, "sha256": plan_obj.sha256,
            "traffic_class": plan_obj.traffic_class(catalog_class),
            "required_tests": required,
            "targets_from": targets.source if targets else "kapacity (at run time)",
            "tests": rows,
        })
        return
    say(f"{file}: valid plan for {plan_obj.system_id} ({plan_obj.traffic_class(catalog_class)}); requires {', '.join(required)}")
    if rows:
        _emit(rows, fmt, ["system_id", "test_type", "target_rps", "peak_rps", "duration_s"])
    else:
        say("targets come from Kapacity at run time")


# --- results ------------------------------------------------------------------


@app.command()
def results(
    system: Annotated[str | None, typer.Option("--system", help="Only this system.")] = None,
    test_type: Annotated[TestTypeChoice | None, typer.Option("--type", help="Only this test type.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many runs, newest first.")] = 50,
    fmt: FormatOption = Format.table,
    db: DbOption = None,
) -> None:
    """Stored runs, newest first."""
    from perftest.store import list_runs

    engine = open_engine(db)
    rows = [r.as_dict() for r in list_runs(engine, system_id=system, test_type=test_type.value if test_type else None, limit=limit)]
    if fmt == Format.json:
        emit_json(rows)
        return
    for r in rows:
        r["reasons"] = "; ".join(r["reasons"])
    _emit(rows, fmt, ["run_id", "started_at", "system_id", "test_type", "verdict", "target_rps", "achieved_rps", "p95_ms", "p99_ms", "error_rate", "breaking_point_rps", "time_to_recovery_s", "reasons"])


@app.command("trends")
def trends_cmd(
    system: Annotated[str | None, typer.Option("--system", help="Only this system.")] = None,
    fmt: FormatOption = Format.table,
    db: DbOption = None,
) -> None:
    """Per system and test type: the headline figure across runs (first, last, change)."""
    from perftest.store import trends

    engine = open_engine(db)
    rows = trends(engine, system_id=system)
    _emit(rows, fmt, ["system_id", "test_type", "metric", "runs", "judged_runs", "passes", "first", "last", "change"])


# --- output -------------------------------------------------------------------


def _emit(rows: list[dict], fmt: Format, columns: list[str]) -> None:
    emit(rows, fmt, columns, rule=False, cell=_short if fmt == Format.table else str)


def _short(value) -> str:
    """Tables show at most three decimals."""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def main() -> None:
    run_app(app, errors=(PerftestError,))


if __name__ == "__main__":
    main()
