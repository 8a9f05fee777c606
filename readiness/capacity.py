"""The capacity policy, in one place: what a system is forecast to need, what it can
absorb, and which source each figure comes from. The capacity rules, the flash-sale
review and perftest's targets all ask here.

- Forecast (Baseline and FLAS requests/s): Kapacity's figures when it has run for the
  system and its forecast window reaches the season's peak window, else the inventory's
  ``forecast_baseline_rps`` / ``forecast_flas_rps`` summed over its compute services. A
  forecast that ends before the peak starts says nothing about the peak: it is ignored
  as if Kapacity had not run, and the origin (in the rules' evidence) says why.
- Compute services: the inventory's and the Kubernetes workloads merged per service
  (``Facts.compute``, precedence in readiness/precedence.py): what runs is what the
  cluster says runs; services only the inventory knows still count.
- Provisioned: running replicas x requests per replica, no scaling: what absorbs a
  surge within two minutes. Autoscaling ceiling: the same at autoscaling's maximum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from readiness.precedence import compute_sources
from readiness.rulekit import Facts, SystemView

if TYPE_CHECKING:  # the rules import this module; `readiness explain` loads them without SQLAlchemy
    from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class CapacityFigures:
    """One system's capacity figures and where each comes from ("none" when missing)."""

    baseline_rps: float | None
    flas_rps: float | None
    forecast_source: str  # kapacity | inventory | none
    provisioned_rps: float | None
    autoscaling_ceiling_rps: float | None
    compute_source: str  # kubernetes | inventory | kubernetes+inventory (some services each) | none
    forecast_note: str = ""  # why a Kapacity forecast was not used, when it was not


def capacity_figures(facts: Facts) -> CapacityFigures:
    baseline, flas, origin = forecast(facts)
    compute = facts.compute()
    compute_source = compute_sources(compute, facts.assets("compute", "kubernetes"))
    source, _, note = origin.partition(": ")
    return CapacityFigures(
        baseline_rps=baseline, flas_rps=flas, forecast_source=source if (baseline or flas) else "none",
        forecast_note=note,
        provisioned_rps=provisioned_rps(compute) if compute else None,
        autoscaling_ceiling_rps=autoscaling_ceiling_rps(compute) if compute else None,
        compute_source=compute_source)


def stored_capacity_figures(engine: Engine, system_ids: Iterable[str],
                            today: date | None = None) -> dict[str, CapacityFigures]:
    """The policy's figures for systems, from their latest stored facts (every id gets an entry),
    judged against the current season as an evaluation judges them."""
    from readiness.facts import latest_facts
    from readiness.seasons import current_season, season_facts

    ids = list(system_ids)
    stored = latest_facts(engine, ids)
    season = current_season(engine, today)
    extra = {"season": season_facts(season)} if season is not None else {}
    return {system_id: capacity_figures(Facts({**{source: dict(fact.data or {})
                                                  for source, fact in stored.get(system_id, {}).items()},
                                               **extra}))
            for system_id in ids}


def forecast(facts: Facts) -> tuple[float | None, float | None, str]:
    """(baseline rps, FLAS rps, where from): Kapacity when it has run and its forecast reaches
    the season's peak, else the inventory ("inventory: <why Kapacity's was not used>")."""
    kapacity = facts.source("kapacity")
    origin = "inventory"
    if kapacity and kapacity.get("baseline_rps") is not None:
        short = _short_of_peak(kapacity, facts.source("season"))
        if short is None:
            return kapacity.get("baseline_rps"), kapacity.get("flas_rps"), "kapacity"
        origin = f"inventory: {short}"
    compute = facts.assets("compute")
    baseline = sum(c["forecast_baseline_rps"] for c in compute if c.get("forecast_baseline_rps") is not None)
    flas = sum(c["forecast_flas_rps"] for c in compute if c.get("forecast_flas_rps") is not None)
    return (baseline or None), (flas or None), origin


def _short_of_peak(kapacity: dict, season: dict | None) -> str | None:
    """Why a Kapacity forecast is no evidence for the season's peak, or None when it is."""
    peak_starts = (season or {}).get("peak_starts_on")
    ends = kapacity.get("forecast_to")
    if not peak_starts or not ends:
        return None  # no season, or a forecast that does not say its window: nothing to check
    if date.fromisoformat(str(ends)[:10]) >= date.fromisoformat(peak_starts):
        return None
    return (f"Kapacity's forecast window ends {str(ends)[:10]}, before the peak window of "
            f"{season.get('key', 'the season')} starts ({peak_starts}): not evidence for the peak")


def autoscaling_ceiling_rps(compute: list[dict]) -> float | None:
    """Requests/s at autoscaling's maximum, or None when any asset lacks the figures."""
    total = 0.0
    for asset in compute:
        scaling = asset.get("autoscaling") or {}
        per_replica = asset.get("rps_per_replica")
        ceiling = scaling.get("max") if scaling.get("enabled") else asset.get("replicas")
        if per_replica is None or ceiling is None:
            return None
        total += per_replica * ceiling
    return total


def provisioned_rps(compute: list[dict]) -> float | None:
    """Requests/s the replicas running now serve, with no scaling."""
    total = 0.0
    for asset in compute:
        if asset.get("rps_per_replica") is None:
            return None
        total += asset["rps_per_replica"] * asset.get("replicas", 1)
    return total


def peak_need(system: SystemView, facts: Facts) -> tuple[float | None, str, str]:
    """(rps, which forecast, where from): FLAS systems must hold the FLAS rate, others the Baseline."""
    baseline, flas, origin = forecast(facts)
    if system.traffic_class == "FLAS" and flas is not None:
        return max(flas, baseline or 0.0), "FLAS", origin
    return baseline, "Baseline", origin
