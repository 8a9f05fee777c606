"""Kapacity as a fact source for the readiness rules: Baseline and FLAS capacity per system.

Where a run made a peak projection (kapacity/projection.py) for the season's peak
days, its figures are the system's ``baseline_rps`` / ``flas_rps`` and its window is
the facts' ``forecast_from`` / ``forecast_to`` (what the capacity policy checks
against the season); the regular forecast's figures and window and the history's
span stay in the facts as evidence (``regular_forecast``, ``history_from`` /
``history_to``, ``basis``). Without a projection the regular forecast's figures
stand, and ``projection_missing`` says why there is none.

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
                    projected = _projected(row.capacity.get("projection"))
                    entry[row.service] = {"baseline_rps": row.baseline_rps,
                                          "flas_rps": row.flas_rps,
                                          "peak_forecast_rps": row.peak_forecast_rps,
                                          "spike_ratio": row.spike_ratio,
                                          **({"baseline_rps": projected["baseline_rps"],
                                              "flas_rps": projected["flas_rps"],
                                              "basis": "peak projection"} if projected else {})}
            errors = list(run.errors)
        return CollectedFacts(self.name, by_system, origin=f"kapacity run {run_id}", errors=errors)


def _projected(projection: dict | None) -> dict | None:
    """The peak projection when it has figures (None when missing or not made)."""
    return projection if projection and projection.get("baseline_rps") is not None else None


def _facts(row: KapacityForecast, horizon_seconds: int) -> dict:
    """A system's facts: the peak projection's figures when there is one (its window is the peak's),
    else the regular forecast's; both stay in the facts as evidence."""
    facts = _regular(row, horizon_seconds)
    projection = row.capacity.get("projection")
    projected = _projected(projection)
    regular = {k: facts[k] for k in ("baseline_rps", "flas_rps", "forecast_from", "forecast_to")}
    history = (projection or {}).get("history") or {}
    facts.update(regular_forecast=regular, history_from=history.get("from"), history_to=history.get("to"))
    if projected is None:
        facts["basis"] = "forecast"
        if projection and projection.get("missing"):
            facts["projection_missing"] = projection["missing"]
        return facts
    window = projected["window"]
    facts.update(
        basis="peak projection", baseline_rps=projected["baseline_rps"], flas_rps=projected["flas_rps"],
        flas_driver=projected["flas_driver"], forecast_from=window["starts_on"],
        forecast_to=window["ends_on"], peak_season=window.get("key"),
        projection={"peak_rps": projected["peak_rps"], "uplift": projected["uplift"],
                    "growth": projected["growth"], "basis": projected["basis"][:3],
                    "declared_events": [e.get("name") for e in projected.get("declared_events", [])]})
    return facts


def _regular(row: KapacityForecast, horizon_seconds: int) -> dict:
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
