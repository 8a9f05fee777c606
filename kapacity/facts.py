"""Kapacity as a fact source for the readiness rules: Baseline and FLAS capacity per system.

``KapacityFactSource().collect(engine)`` reads the newest complete ``kapacity run``
and offers, per SystemID, the capacity the capacity rules compare with what is
provisioned. The content holds no run id (only the inputs hash), so a rerun on
the same data is the same fact version; the run is named in ``origin``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from kapacity.models import KapacityForecast, KapacityRun
from kapacity.store import latest_run_id
from storage import session_scope


@dataclass
class KapacityFactSource:
    """Facts ``{baseline_rps, flas_rps, ...}`` per system from a stored run (default: newest)."""

    name: str = "kapacity"
    freshness: timedelta = field(default_factory=lambda: timedelta(days=8))
    run_id: int | None = None
    services: bool = True

    def collect(self, engine: Engine):
        from readiness import CollectedFacts

        run_id = self.run_id if self.run_id is not None else latest_run_id(engine)
        if run_id is None:
            return CollectedFacts(self.name, {}, origin="kapacity: no complete run",
                                  errors=["no complete kapacity run yet (run `kapacity run`)"])
        by_system: dict[str, dict] = {}
        with session_scope(engine) as session:
            run = session.get(KapacityRun, run_id)
            if run is None or run.status != "complete":
                return CollectedFacts(self.name, {}, origin=f"kapacity run {run_id}",
                                      errors=[f"kapacity run {run_id} is not complete"])
            rows = session.exec(select(KapacityForecast).where(KapacityForecast.run_id == run_id)
                                .order_by(KapacityForecast.series_key)).scalars()
            for row in rows:
                if row.service is None:
                    by_system.setdefault(row.system_id, {}).update(_facts(row, run.horizon_seconds))
                elif self.services:
                    entry = by_system.setdefault(row.system_id, {}).setdefault("services", {})
                    entry[row.service] = {"baseline_rps": row.baseline_rps,
                                          "flas_rps": row.flas_rps,
                                          "peak_forecast_rps": row.peak_forecast_rps,
                                          "spike_ratio": row.spike_ratio}
            errors = list(run.errors)
        return CollectedFacts(self.name, by_system, origin=f"kapacity run {run_id}", errors=errors)


def _facts(row: KapacityForecast, horizon_seconds: int) -> dict:
    assumptions = row.capacity.get("assumptions", {})
    propagation = row.capacity.get("propagation") or {}
    growth = row.capacity.get("growth") or {}
    return {
        "baseline_rps": row.baseline_rps,
        "flas_rps": row.flas_rps,
        "peak_forecast_rps": row.peak_forecast_rps,
        "spike_ratio": row.spike_ratio,
        "traffic_class": row.traffic_class,
        "quantile": assumptions.get("quantile"),
        "safety_buffer": assumptions.get("safety_buffer"),
        "flas_driver": assumptions.get("flas_driver"),
        "received_surge_rps": propagation.get("received_surge_rps"),
        "forecast_from": row.capacity.get("from"),
        "forecast_to": row.capacity.get("to"),
        "horizon_seconds": horizon_seconds,
        "resolution_seconds": row.resolution_seconds,
        "model": row.model,
        "inputs_hash": row.inputs_hash,
        "growth": {k: (v or {}).get("volume") for k, v in growth.items()},
    }
