"""The one capacity policy (readiness.capacity_figures): forecasts and running capacity, with sources."""

from __future__ import annotations

import readiness
from readiness import Facts


def _inventory(**compute) -> dict:
    return {"compute": [{"id": "svc/api", "replicas": 4, "rps_per_replica": 25, "forecast_baseline_rps": 30,
                         "forecast_flas_rps": 120, "autoscaling": {"enabled": True, "max": 12}, **compute}]}


def test_inventory_alone_gives_forecast_and_running_capacity():
    figures = readiness.capacity_figures(Facts({"inventory": _inventory()}))
    assert (figures.baseline_rps, figures.flas_rps, figures.forecast_source) == (30, 120, "inventory")
    assert (figures.provisioned_rps, figures.autoscaling_ceiling_rps, figures.compute_source) == (100, 300, "inventory")


def test_kapacity_wins_the_forecast_and_kubernetes_wins_what_runs():
    facts = Facts({"inventory": _inventory(),
                   "kapacity": {"baseline_rps": 42.0, "flas_rps": 210.0},
                   "kubernetes": {"compute": [{"id": "Deployment shop/api", "replicas": 9, "rps_per_replica": 25}]}})
    figures = readiness.capacity_figures(facts)
    assert (figures.baseline_rps, figures.flas_rps, figures.forecast_source) == (42.0, 210.0, "kapacity")
    assert (figures.provisioned_rps, figures.compute_source) == (225, "kubernetes")
    assert figures.autoscaling_ceiling_rps == 225  # no autoscaling on the workload: its replicas


def test_missing_figures_say_none():
    figures = readiness.capacity_figures(Facts({"inventory": {"compute": [{"id": "svc/api", "replicas": 2}]}}))
    assert (figures.baseline_rps, figures.flas_rps, figures.forecast_source) == (None, None, "none")
    assert figures.provisioned_rps is None and figures.compute_source == "inventory"
    assert readiness.capacity_figures(Facts()).compute_source == "none"
