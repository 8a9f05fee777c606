"""Persist runs and read them back: results, latest per system and test type, trends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from perftest.models import (
    PerftestBreakingPoint,
    PerftestFailover,
    PerftestRun,
    PerftestSummary,
    PerftestWindow,
)
from storage import session_scope


def save_run(engine: Engine, result) -> int:
    """Store one :class:`~perftest.runner.RunResult` in a single transaction; return its id."""
    spec = result.spec
    with session_scope(engine) as session:
        run = PerftestRun(
            system_id=spec.system_id,
            test_type=spec.test_type.value,
            verdict=result.verdict,
            reasons=list(result.reasons),
            url=spec.endpoints[0].url,
            target_rps=spec.rps,
            peak_rps=spec.peak_rps(),
            planned_duration_s=spec.planned_duration_s(),
            started_at=result.started_at,
            finished_at=result.finished_at,
            k6_version=result.k6_version,
            k6_exit_code=result.k6_exit_code,
            k6_outcome=result.k6_outcome,
            killed=result.killed,
            script_sha256=result.script_sha256,
            settings=spec.model_dump(mode="json"),
            source=result.source,
            plan_path=result.plan_path,
            plan_sha256=result.plan_sha256,
            stderr_tail=result.stderr_tail[-4000:],
        )
        session.add(run)
        session.flush()
        run_id = run.id
        s = result.summary
        if s is not None:
            extra = {}
            if result.peak_reached_after_s is not None:
                extra["peak_reached_after_s"] = result.peak_reached_after_s
            session.add(
                PerftestSummary(
                    run_id=run_id,
                    requests=s.requests,
                    achieved_rps=s.achieved_rps,
                    error_rate=s.error_rate,
                    p50_ms=s.p50_ms,
                    p90_ms=s.p90_ms,
                    p95_ms=s.p95_ms,
                    p99_ms=s.p99_ms,
                    max_ms=s.max_ms,
                    avg_ms=s.avg_ms,
                    iterations=s.iterations,
                    dropped_iterations=s.dropped_iterations,
                    dropped_share=s.dropped_share,
                    thresholds=s.thresholds,
                    extra=extra,
                )
            )
        for kind, windows in (("phase", result.phases), ("time", result.timeline)):
            for w in windows:
                session.add(
                    PerftestWindow(
                        run_id=run_id, kind=kind, label=w.label, start_s=w.start_s, end_s=w.end_s,
                        target_rps=w.target_rps, requests=w.requests, achieved_rps=w.achieved_rps,
                        error_rate=w.error_rate, p95_ms=w.p95_ms, p99_ms=w.p99_ms, dropped=w.dropped,
                        within_slo=w.within_slo, breaches=list(w.breaches),
                    )
                )
        if result.breaking is not None:
            b = result.breaking
            session.add(
                PerftestBreakingPoint(
                    run_id=run_id, sustained_rps=b.sustained_rps, broke_at_rps=b.broke_at_rps, reason=b.reason
                )
            )
        if result.failover_command is not None:
            c, f = result.failover_command, result.failover
            session.add(
                PerftestFailover(
                    run_id=run_id,
                    command=c.command,
                    command_exit_code=c.exit_code,
                    command_output=c.output,
                    trigger_s=f.trigger_s if f else 0.0,
                    disrupted=f.disrupted if f else False,
                    time_to_recovery_s=f.time_to_recovery_s if f else None,
                    recovered=f.recovered if f else False,
                    failed_requests=f.failed_requests if f else 0,
                    requests_during=f.requests_during if f else 0,
                    p95_during_ms=f.p95_during_ms if f else None,
                    p99_during_ms=f.p99_during_ms if f else None,
                    max_during_ms=f.max_during_ms if f else None,
                )
            )
    return run_id


@dataclass(frozen=True)
class RunRow:
    """A stored run flattened for listing, trends and facts."""

    run_id: int
    system_id: str | None
    test_type: str
    verdict: str
    reasons: list
    started_at: datetime
    target_rps: float
    peak_rps: float
    achieved_rps: float | None
    p95_ms: float | None
    p99_ms: float | None
    error_rate: float | None
    dropped_share: float | None
    breaking_point_rps: float | None
    broke_at_rps: float | None
    time_to_recovery_s: float | None
    peak_reached_after_s: float | None
    slo: dict
    k6_version: str
    script_sha256: str

    def as_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "system_id": self.system_id,
            "test_type": self.test_type,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "started_at": self.started_at.isoformat(),
            "target_rps": self.target_rps,
            "peak_rps": self.peak_rps,
            "achieved_rps": self.achieved_rps,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "error_rate": self.error_rate,
            "dropped_share": self.dropped_share,
            "breaking_point_rps": self.breaking_point_rps,
            "broke_at_rps": self.broke_at_rps,
            "time_to_recovery_s": self.time_to_recovery_s,
            "peak_reached_after_s": self.peak_reached_after_s,
            "slo": self.slo,
            "k6_version": self.k6_version,
            "script_sha256": self.script_sha256,
        }


def list_runs(
    engine: Engine,
    *,
    system_id: str | None = None,
    test_type: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[RunRow]:
    """Stored runs, newest first."""
    with session_scope(engine) as session:
        query = (
            select(PerftestRun, PerftestSummary, PerftestBreakingPoint, PerftestFailover)
            .join(PerftestSummary, PerftestSummary.run_id == PerftestRun.id, isouter=True)
            .join(PerftestBreakingPoint, PerftestBreakingPoint.run_id == PerftestRun.id, isouter=True)
            .join(PerftestFailover, PerftestFailover.run_id == PerftestRun.id, isouter=True)
            .order_by(PerftestRun.started_at.desc(), PerftestRun.id.desc())
        )
        if system_id is not None:
            query = query.where(PerftestRun.system_id == system_id)
        if test_type is not None:
            query = query.where(PerftestRun.test_type == test_type)
        if since is not None:
            query = query.where(PerftestRun.started_at >= since)
        if limit is not None:
            query = query.limit(limit)
        rows = session.exec(query).all()
        return [_row(run, summary, bp, fo) for run, summary, bp, fo in rows]


def _row(run: PerftestRun, summary, bp, fo) -> RunRow:
    return RunRow(
        run_id=run.id,
        system_id=run.system_id,
        test_type=run.test_type,
        verdict=run.verdict,
        reasons=list(run.reasons or []),
        started_at=run.started_at,
        target_rps=run.target_rps,
        peak_rps=run.peak_rps,
        achieved_rps=summary.achieved_rps if summary else None,
        p95_ms=summary.p95_ms if summary else None,
        p99_ms=summary.p99_ms if summary else None,
        error_rate=summary.error_rate if summary else None,
        dropped_share=summary.dropped_share if summary else None,
        breaking_point_rps=bp.sustained_rps if bp else None,
        broke_at_rps=bp.broke_at_rps if bp else None,
        time_to_recovery_s=fo.time_to_recovery_s if fo else None,
        peak_reached_after_s=(summary.extra or {}).get("peak_reached_after_s") if summary else None,
        slo=dict((run.settings or {}).get("slo") or {}),
        k6_version=run.k6_version,
        script_sha256=run.script_sha256,
    )


def windows_for(engine: Engine, run_id: int, kind: str | None = None) -> list[PerftestWindow]:
    with session_scope(engine) as session:
        query = select(PerftestWindow).where(PerftestWindow.run_id == run_id).order_by(PerftestWindow.kind, PerftestWindow.start_s)
        if kind is not None:
            query = query.where(PerftestWindow.kind == kind)
        return list(session.exec(query).all())


def trends(engine: Engine, *, system_id: str | None = None) -> list[dict]:
    """Per system and test type, runs oldest to newest with the change in the headline figure.

    The headline figure is the breaking point for overload tests, the time to
    recovery for failover tests and the p95 latency otherwise.
    """
    runs = list(reversed(list_runs(engine, system_id=system_id)))
    series: dict[tuple, list[RunRow]] = {}
    for r in runs:
        series.setdefault((r.system_id, r.test_type), []).append(r)
    out = []
    for (system, test_type), rows in sorted(series.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        metric = {"overload": "breaking_point_rps", "failover": "time_to_recovery_s"}.get(test_type, "p95_ms")
        judged = [r for r in rows if r.verdict in ("pass", "fail")]
        values = [getattr(r, metric) for r in judged]
        first = next((v for v in values if v is not None), None)
        last = next((v for v in reversed(values) if v is not None), None)
        out.append(
            {
                "system_id": system,
                "test_type": test_type,
                "metric": metric,
                "runs": len(rows),
                "judged_runs": len(judged),
                "passes": sum(r.verdict == "pass" for r in judged),
                "first": first,
                "last": last,
                "change": None if first is None or last is None else round(last - first, 3),
                "points": [
                    {"run_id": r.run_id, "started_at": r.started_at.isoformat(), "verdict": r.verdict, metric: getattr(r, metric)}
                    for r in rows
                ],
            }
        )
    return out
