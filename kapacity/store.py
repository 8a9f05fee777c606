"""Storing runs and forecasts, and the read functions other packages call.

Writes happen in this process only, in batches of systems, one transaction
each; a run row is ``running`` until :func:`finish_run` marks it ``complete``
(or :func:`fail_run` ``failed``), and readers only see complete runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from kapacity.history import format_timestamps
from kapacity.models import KapacityCallRatio, KapacityForecast, KapacityRun
from kapacity.points import decode_points
from storage import session_scope, utcnow

BATCH_SYSTEMS = 50


def start_run(engine: Engine, *, source: str, settings, executor: str, version: str,
              now: datetime | None = None) -> int:
    with session_scope(engine) as session:
        run = KapacityRun(started_at=now or utcnow(), source=source,
                          horizon_seconds=settings.horizon_seconds, settings=settings.as_dict(),
                          executor=executor, version=version)
        session.add(run)
        session.flush()
        return int(run.id)


class RunWriter:
    """Buffers forecast rows and writes them ``BATCH_SYSTEMS`` systems at a time."""

    def __init__(self, engine: Engine, run_id: int, settings, *, now: datetime | None = None) -> None:
        self.engine, self.run_id, self.settings = engine, run_id, settings
        self.now = now or utcnow()
        self._rows: list[KapacityForecast] = []
        self._systems = 0
        self.series = 0

    def add(self, result) -> None:
        settings = self.settings.as_dict()
        for s in result.series:
            cap = s.capacity
            self._rows.append(KapacityForecast(
                run_id=self.run_id, system_id=result.system_id, service=s.service,
                series_key=s.series_key, inputs_hash=s.inputs_hash, model=s.model,
                params=s.params, settings=settings, resolution_seconds=s.step,
                start=utc_naive(s.start), intervals=s.intervals, tz=s.tz,
                baseline_rps=cap.baseline_rps, flas_rps=cap.flas_rps,
                peak_forecast_rps=cap.peak_forecast_rps, spike_ratio=cap.spike_ratio,
                traffic_class=None, capacity=s.stored_capacity(), points=s.points,
                created_at=self.now))
            s.points = b""  # the row holds the bytes now; the result keeps only summaries
            self.series += 1
        self._systems += 1
        if self._systems >= BATCH_SYSTEMS:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            self._systems = 0
            return
        with session_scope(self.engine) as session:
            session.add_all(self._rows)
        self._rows, self._systems = [], 0


def utc_naive(epoch: int) -> datetime:
    """Epoch seconds as the naive UTC datetime the tables store (SQLite drops zones)."""
    return datetime.fromtimestamp(int(epoch), UTC).replace(tzinfo=None)


def finish_run(engine: Engine, run_id: int, deps: dict, *, errors: list[str], systems: int,
               series: int, now: datetime | None = None) -> None:
    with session_scope(engine) as session:
        totals = {row.system_id: row for row in session.exec(
            select(KapacityForecast).where(KapacityForecast.run_id == run_id,
                                           KapacityForecast.service.is_(None))).scalars()}
        for system_id, info in sorted(deps["systems"].items()):
            row = totals.get(system_id)
            if row is None:
                continue
            row.traffic_class = info["traffic_class"]
            row.flas_rps = info["flas_rps"]
            row.capacity = {**row.capacity, "flas_rps": info["flas_rps"],
                            "traffic_class": info["traffic_class"],
                            "propagation": info["propagation"]}
            projection = _propagated_projection(row.capacity.get("projection"), info["propagation"],
                                                row.peak_forecast_rps)
            if projection is not None:
                row.capacity = {**row.capacity, "projection": projection}
        for ratio in deps["ratios"]:
            session.add(KapacityCallRatio(run_id=run_id, caller=ratio.caller, callee=ratio.callee,
                                          kind=ratio.kind, ratio=ratio.ratio, learned=ratio.learned,
                                          r2=ratio.r2, samples=ratio.samples))
        session.execute(update(KapacityRun).where(KapacityRun.id == run_id).values(
            status="complete", finished_at=now or utcnow(), systems=systems, series=series,
            errors=list(errors) + [f"cycle broken at {a} -> {b}" for a, b in deps["dropped_edges"]]))


def _propagated_projection(projection: dict | None, propagation: dict,
                           peak_forecast_rps: float) -> dict | None:
    """A system's peak projection with the surge its callers send on the peak days: the propagated
    FLAS need of the regular forecast, scaled by how much busier the projected peak is."""
    propagated = propagation.get("propagated_flas_rps")
    if not projection or projection.get("peak_rps") is None or not propagated or peak_forecast_rps <= 0:
        return None
    scale = max(1.0, projection["peak_rps"] / peak_forecast_rps)
    need = round(propagated * scale, 6)
    out = {**projection, "propagated_flas_rps": need}
    if need > projection["flas_rps"]:
        out.update(flas_rps=need, flas_driver="propagated_surge")
    return out


def fail_run(engine: Engine, run_id: int, message: str, *, now: datetime | None = None) -> None:
    with session_scope(engine) as session:
        session.execute(update(KapacityRun).where(KapacityRun.id == run_id).values(
            status="failed", finished_at=now or utcnow(), errors=[message]))


# -- reading -------------------------------------------------------------------------------

def latest_run_id(engine: Engine, system_id: str | None = None) -> int | None:
    """The newest complete run (that has ``system_id``, when given)."""
    with session_scope(engine) as session:
        query = select(func.max(KapacityRun.id)).where(KapacityRun.status == "complete")
        if system_id is not None:
            query = query.where(KapacityRun.id.in_(
                select(KapacityForecast.run_id).where(KapacityForecast.system_id == system_id)))
        return session.execute(query).scalar()


def list_runs(engine: Engine, limit: int = 20) -> list[dict]:
    with session_scope(engine) as session:
        runs = session.exec(select(KapacityRun).order_by(KapacityRun.id.desc()).limit(limit)).scalars()
        return [{"run_id": r.id, "status": r.status, "started_at": r.started_at,
                 "finished_at": r.finished_at, "source": r.source, "systems": r.systems,
                 "series": r.series, "errors": len(r.errors), "executor": r.executor,
                 "horizon_seconds": r.horizon_seconds} for r in runs]


def system_capacity(engine: Engine, *, run_id: int | None = None,
                    services: bool = False) -> list[dict]:
    """Capacity per system total (and per service with ``services``) of a complete run."""
    run_id = run_id if run_id is not None else latest_run_id(engine)
    if run_id is None:
        return []
    with session_scope(engine) as session:
        query = select(KapacityForecast).where(KapacityForecast.run_id == run_id)
        if not services:
            query = query.where(KapacityForecast.service.is_(None))
        rows = session.exec(query.order_by(KapacityForecast.series_key)).scalars()
        return [_summary(r) for r in rows]


def latest_totals(engine: Engine) -> dict[str, dict]:
    """Each system's total from the newest complete run that forecast it (no points):
    what a subset run propagates with for the systems it does not rerun."""
    fc = KapacityForecast.__table__
    complete = select(KapacityRun.id).where(KapacityRun.status == "complete")
    newest = (select(fc.c.system_id, func.max(fc.c.run_id).label("run_id"))
              .where(fc.c.service.is_(None), fc.c.run_id.in_(complete)).group_by(fc.c.system_id).subquery())
    query = (select(fc.c.system_id, fc.c.peak_forecast_rps, fc.c.flas_rps, fc.c.capacity)
             .join(newest, (fc.c.system_id == newest.c.system_id) & (fc.c.run_id == newest.c.run_id))
             .where(fc.c.service.is_(None)))
    with engine.connect() as connection:
        return {system_id: {"peak_forecast_rps": peak, "flas_rps": flas, "capacity": capacity}
                for system_id, peak, flas, capacity in connection.execute(query)}


def _summary(row: KapacityForecast) -> dict:
    propagation = row.capacity.get("propagation") or {}
    return {"run_id": row.run_id, "system_id": row.system_id, "service": row.service,
            "baseline_rps": row.baseline_rps, "flas_rps": row.flas_rps,
            "peak_forecast_rps": row.peak_forecast_rps, "spike_ratio": row.spike_ratio,
            "traffic_class": row.traffic_class, "model": row.model,
            "inputs_hash": row.inputs_hash, "resolution_seconds": row.resolution_seconds,
            "start": row.start, "intervals": row.intervals, "tz": row.tz,
            "flas_driver": row.capacity.get("assumptions", {}).get("flas_driver"),
            "received_surge_rps": propagation.get("received_surge_rps"),
            "growth": row.capacity.get("growth"), "projection": row.capacity.get("projection"),
            "created_at": row.created_at}


def forecast_points(engine: Engine, system_id: str, service: str | None = None, *,
                    run_id: int | None = None) -> pd.DataFrame:
    """A stored forecast as ``timestamp,forecast,p90,p99`` rows (empty when none)."""
    run_id = run_id if run_id is not None else latest_run_id(engine, system_id)
    columns = ["timestamp", "forecast", "p90", "p99"]
    if run_id is None:
        return pd.DataFrame(columns=columns)
    key = system_id if service is None else f"{system_id}/{service}"
    with session_scope(engine) as session:
        row = session.exec(select(KapacityForecast).where(
            KapacityForecast.run_id == run_id, KapacityForecast.series_key == key)).scalar_one_or_none()
        if row is None or not row.points:
            return pd.DataFrame(columns=columns)
        points = decode_points(row.points, row.intervals)
        start = int(pd.Timestamp(row.start).value // 1_000_000_000)
        times = start + row.resolution_seconds * np.arange(row.intervals, dtype=np.int64)
        names = row.capacity.get("assumptions", {}).get("points_rows") or ["forecast", "q0.9", "q0.99"]
        frame = pd.DataFrame({"timestamp": format_timestamps(times, row.tz)})
        for i, name in enumerate(names):
            label = name if name == "forecast" else "p" + f"{float(name[1:]) * 100:g}".replace(".", "_")
            frame[label] = points[i]
        return frame


def capacity_targets(engine: Engine, system_id: str) -> dict | None:
    """Baseline and FLAS rates for one system from the newest complete run (perftest targets)."""
    run_id = latest_run_id(engine, system_id)
    if run_id is None:
        return None
    with session_scope(engine) as session:
        row = session.exec(select(KapacityForecast).where(
            KapacityForecast.run_id == run_id, KapacityForecast.system_id == system_id,
            KapacityForecast.service.is_(None))).scalar_one_or_none()
        if row is None:
            return None
        projection = row.capacity.get("projection") or {}
        if projection.get("baseline_rps") is not None:  # the season's peak days, not next week
            return {"baseline_rps": projection["baseline_rps"], "flas_rps": projection["flas_rps"],
                    "peak_forecast_rps": projection["peak_rps"], "traffic_class": row.traffic_class,
                    "basis": "peak projection", "reference": f"run-{run_id}:{row.inputs_hash[:12]}"}
        return {"baseline_rps": row.baseline_rps, "flas_rps": row.flas_rps,
                "peak_forecast_rps": row.peak_forecast_rps, "traffic_class": row.traffic_class,
                "basis": "forecast", "reference": f"run-{run_id}:{row.inputs_hash[:12]}"}


def call_ratios(engine: Engine, *, run_id: int | None = None) -> list[dict]:
    run_id = run_id if run_id is not None else latest_run_id(engine)
    if run_id is None:
        return []
    with session_scope(engine) as session:
        rows = session.exec(select(KapacityCallRatio).where(KapacityCallRatio.run_id == run_id)
                            .order_by(KapacityCallRatio.caller, KapacityCallRatio.callee)).scalars()
        return [{"caller": r.caller, "callee": r.callee, "kind": r.kind, "ratio": r.ratio,
                 "learned": r.learned, "r2": r.r2, "samples": r.samples} for r in rows]


def peak_projections(engine: Engine, *, systems: list[str] | None = None, run_id: int | None = None,
                     services: bool = True) -> list[dict]:
    """The peak projection of each series of a complete run (default: each system's newest),
    with its regular forecast's figures beside it; ``projection`` is None where the run made none."""
    with session_scope(engine) as session:
        query = select(KapacityForecast)
        if run_id is not None:
            query = query.where(KapacityForecast.run_id == run_id)
        else:
            fc = KapacityForecast.__table__
            complete = select(KapacityRun.id).where(KapacityRun.status == "complete")
            newest = (select(fc.c.system_id, func.max(fc.c.run_id).label("run_id"))
                      .where(fc.c.run_id.in_(complete)).group_by(fc.c.system_id).subquery())
            query = query.join(newest, (KapacityForecast.system_id == newest.c.system_id)
                               & (KapacityForecast.run_id == newest.c.run_id))
        if systems:
            query = query.where(KapacityForecast.system_id.in_(systems))
        if not services:
            query = query.where(KapacityForecast.service.is_(None))
        rows = session.exec(query.order_by(KapacityForecast.series_key)).scalars()
        return [{"run_id": r.run_id, "system_id": r.system_id, "service": r.service,
                 "baseline_rps": r.baseline_rps, "flas_rps": r.flas_rps,
                 "peak_forecast_rps": r.peak_forecast_rps, "traffic_class": r.traffic_class,
                 "projection": r.capacity.get("projection")} for r in rows]
