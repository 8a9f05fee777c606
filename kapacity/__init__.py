"""Kapacity: traffic forecasts, Baseline and FLAS capacity, traffic dependencies.

Public surface (import from here only):

- files, no database: ``read_history``, ``Series``, ``forecast_series``,
  ``ForecastSettings``, ``capacity`` (its JSON form) and ``capacity_result``
  (a typed ``CapacityResult``), ``CapacitySettings``, ``growth``, ``backtest``,
  ``KnownEvent``, ``read_events``, the models ``AutoProfile``,
  ``SeasonalProfile``, ``SeasonalNaive`` and their ``Forecast``, and the errors;
- runs: ``run_catalog``, ``RunSettings``, ``DirectorySource``, ``HistorySource``,
  ``PrometheusHistorySource`` and ``load_prometheus_config`` (one from its YAML file);
- with a database (imported on first use, see below): ``KapacityFactSource``,
  ``refresh_forecasts``, and the read functions ``capacity_targets``,
  ``system_capacity``, ``forecast_points``, ``list_runs``, ``latest_run_id``,
  ``call_ratios``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kapacity.backtest import backtest
from kapacity.capacity import CapacityResult, CapacitySettings, capacity, capacity_result, growth
from kapacity.errors import EventError, HistoryError, KapacityError, ParameterError
from kapacity.events import KnownEvent, read_events
from kapacity.forecast import AutoProfile, Forecast, SeasonalNaive, SeasonalProfile
from kapacity.history import Series, read_history
from kapacity.runner import RunSettings, run_catalog
from kapacity.service import ForecastSettings, forecast_series
from kapacity.sources import DirectorySource, HistorySource
from kapacity.sources_prometheus import PrometheusHistorySource, load_prometheus_config

# Why some names load on first use: they need the database layer (SQLModel and
# SQLAlchemy, about 1.5 s and 40 MB to import) or pydantic-settings, and many
# users of this package need neither: the file commands (`kapacity forecast`,
# `capacity`, `backtest`, `growth`), each forecast worker of `kapacity run`, and
# flash sales reading histories and events.
_STORE_READS = ("call_ratios", "capacity_targets", "forecast_points", "latest_run_id",
                "list_runs", "system_capacity")

if TYPE_CHECKING:  # pragma: no cover - the same names, for type checkers and editors
    from kapacity.facts import KapacityFactSource
    from kapacity.refresh import refresh_forecasts
    from kapacity.store import (
        call_ratios,
        capacity_targets,
        forecast_points,
        latest_run_id,
        list_runs,
        system_capacity,
    )


def __getattr__(name: str) -> Any:
    """The database-backed names, imported when first asked for."""
    if name in _STORE_READS:
        from kapacity import store

        return getattr(store, name)
    if name == "KapacityFactSource":
        from kapacity.facts import KapacityFactSource

        return KapacityFactSource
    if name == "refresh_forecasts":
        from kapacity.refresh import refresh_forecasts

        return refresh_forecasts
    raise AttributeError(f"module 'kapacity' has no attribute {name!r}")


__all__ = [
    "AutoProfile", "CapacityResult", "CapacitySettings", "DirectorySource", "EventError",
    "Forecast", "ForecastSettings", "HistoryError", "HistorySource", "KapacityError",
    "KapacityFactSource", "KnownEvent", "ParameterError", "PrometheusHistorySource", "RunSettings", "SeasonalNaive",
    "SeasonalProfile", "Series", "backtest", "capacity", "capacity_result", "forecast_series",
    "growth", "load_prometheus_config", "read_events", "read_history", "refresh_forecasts", "run_catalog",
    # read functions
    "call_ratios", "capacity_targets", "forecast_points", "latest_run_id", "list_runs",
    "system_capacity",
]
