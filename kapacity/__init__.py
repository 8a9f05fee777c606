"""Kapacity: traffic forecasts, Baseline and FLAS capacity, traffic dependencies.

Public surface (import from here only):

- files, no database: ``read_history``, ``Series``, ``forecast_series``,
  ``ForecastSettings``, ``capacity``, ``CapacitySettings``, ``growth``,
  ``backtest``, ``KnownEvent``, ``read_events``, the models ``AutoProfile``,
  ``SeasonalProfile``, ``SeasonalNaive``, and the errors;
- with a database (imported on first use, so the core never needs one):
  ``run_catalog``, ``RunSettings``, ``DirectorySource``, ``HistorySource``,
  ``KapacityFactSource``, ``refresh_forecasts``, ``capacity_targets``,
  ``system_capacity``, ``forecast_points``, ``list_runs``, ``latest_run_id``,
  ``call_ratios``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kapacity.backtest import backtest
from kapacity.capacity import CapacitySettings, capacity, growth
from kapacity.errors import EventError, HistoryError, KapacityError, ParameterError
from kapacity.events import KnownEvent, read_events
from kapacity.forecast import AutoProfile, Forecast, SeasonalNaive, SeasonalProfile
from kapacity.history import Series, read_history
from kapacity.service import ForecastSettings, forecast_series

_LAZY = {
    "run_catalog": "kapacity.runner", "RunSettings": "kapacity.runner",
    "DirectorySource": "kapacity.sources", "HistorySource": "kapacity.sources",
    "KapacityFactSource": "kapacity.facts",
    "capacity_targets": "kapacity.store", "system_capacity": "kapacity.store",
    "forecast_points": "kapacity.store", "list_runs": "kapacity.store",
    "latest_run_id": "kapacity.store", "call_ratios": "kapacity.store",
    "refresh_forecasts": "kapacity.refresh",
}

if TYPE_CHECKING:  # pragma: no cover
    from kapacity.facts import KapacityFactSource  # noqa: F401
    from kapacity.refresh import refresh_forecasts  # noqa: F401
    from kapacity.runner import RunSettings, run_catalog  # noqa: F401
    from kapacity.sources import DirectorySource, HistorySource  # noqa: F401
    from kapacity.store import (  # noqa: F401
        call_ratios,
        capacity_targets,
        forecast_points,
        latest_run_id,
        list_runs,
        system_capacity,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kapacity' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "AutoProfile", "CapacitySettings", "EventError", "Forecast", "ForecastSettings",
    "HistoryError", "KapacityError", "KnownEvent", "ParameterError", "SeasonalNaive",
    "SeasonalProfile", "Series", "backtest", "capacity", "forecast_series", "growth",
    "read_events", "read_history", *sorted(_LAZY),
]
