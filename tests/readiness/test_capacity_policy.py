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


SEASON_2027 = {"key": "peak-2027", "peak_starts_on": "2027-11-26", "peak_ends_on": "2027-12-31",
               "target_date": "2027-10-31"}


def _kapacity(to: str) -> dict:
    return {"baseline_rps": 42.0, "flas_rps": 210.0, "forecast_from": "2024-09-30T00:00:00", "forecast_to": to}


def test_a_kapacity_forecast_ending_before_the_peak_is_ignored_as_if_kapacity_had_not_run():
    facts = Facts({"inventory": _inventory(), "kapacity": _kapacity("2024-10-06T23:00:00"), "season": SEASON_2027})
    figures = readiness.capacity_figures(facts)
    assert (figures.baseline_rps, figures.flas_rps, figures.forecast_source) == (30, 120, "inventory")
    assert "ends 2024-10-06, before the peak window of peak-2027 starts (2027-11-26)" in figures.forecast_note
    _, _, origin = readiness.capacity.forecast(facts)
    assert origin.startswith("inventory: Kapacity's forecast window ends 2024-10-06")


def test_a_kapacity_forecast_reaching_the_peak_or_without_a_season_is_used():
    reaching = Facts({"inventory": _inventory(), "kapacity": _kapacity("2027-11-30T00:00:00"), "season": SEASON_2027})
    no_season = Facts({"inventory": _inventory(), "kapacity": _kapacity("2024-10-06T23:00:00")})
    for facts in (reaching, no_season):
        figures = readiness.capacity_figures(facts)
        assert (figures.baseline_rps, figures.forecast_source, figures.forecast_note) == (42.0, "kapacity", "")
