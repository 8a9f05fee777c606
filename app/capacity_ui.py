"""Capacity views over Kapacity's stored forecasts (empty states until ``kapacity run`` has stored some)."""

from __future__ import annotations

from app import data, ui

NO_FORECAST = ("No forecast yet", "kapacity run")


def kapacity_ready(url: str) -> bool:
    return data.kapacity() is not None and data.kapacity_has_data(url)


def system_forecast(url: str, system_id: str) -> None:
    if not kapacity_ready(url):
        ui.empty(*NO_FORECAST)
        return
    ui.empty("No forecast for this system yet", f"kapacity run --system {system_id}")
