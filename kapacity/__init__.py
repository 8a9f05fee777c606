"""Kapacity: traffic forecasts, Baseline and FLAS capacity, traffic dependencies.

Public surface (import from here only):

- files, no database: ``read_history``, ``Series``, ``forecast_series``,
  ``ForecastSettings``, ``capacity`` (its JSON form) and ``capacity_result``
  (a typed ``CapacityResult``), ``CapacitySettings``, ``growth``, ``backtest``,
  ``KnownEvent``, ``read_events``, the models ``AutoProfile``,
  ``SeasonalProfile``, ``SeasonalNaive`` and their ``Forecast``, and the errors;
- runs: ``run_catalog``, ``RunSettings``, ``DirectorySource``, ``HistorySource``,
  ``PrometheusHistorySource`` and ``load_prometheus_config`` (one from its YAML file);
- with a database: ``KapacityFactSource``,
  ``refresh_forecasts``, and the read functions ``capacity_targets``,
  ``system_capacity``, ``forecast_points``, ``list_runs``, ``latest_run_id``,
  ``call_ratios``.

Every name loads from its module on first use (PEP 562): the file commands (`kapacity
forecast`, `capacity`, `backtest`, `growth`), each forecast worker of `kapacity run` and flash
sales reading histories need no database layer (SQLModel and SQLAlchemy, about 1.5 s and 40 MB to
import), and `kapacity --help` or a perftest plan needs not even pandas.
"""

from storage import lazy_surface

_EXPORTS = {
    "backtest": "kapacity.backtest",
    "CapacityResult": "kapacity.capacity",
    "CapacitySettings": "kapacity.capacity",
    "capacity": "kapacity.capacity",
    "capacity_result": "kapacity.capacity",
    "growth": "kapacity.capacity",
    "EventError": "kapacity.errors",
    "HistoryError": "kapacity.errors",
    "KapacityError": "kapacity.errors",
    "ParameterError": "kapacity.errors",
    "KnownEvent": "kapacity.events",
    "read_events": "kapacity.events",
    "AutoProfile": "kapacity.forecast",
    "Forecast": "kapacity.forecast",
    "SeasonalNaive": "kapacity.forecast",
    "SeasonalProfile": "kapacity.forecast",
    "Series": "kapacity.history",
    "read_history": "kapacity.history",
    "RunSettings": "kapacity.runner",
    "run_catalog": "kapacity.runner",
    "ForecastSettings": "kapacity.service",
    "forecast_series": "kapacity.service",
    "DirectorySource": "kapacity.sources",
    "HistorySource": "kapacity.sources",
    "PrometheusHistorySource": "kapacity.sources_prometheus",
    "load_prometheus_config": "kapacity.sources_prometheus",
    # with a database
    "KapacityFactSource": "kapacity.facts",
    "refresh_forecasts": "kapacity.refresh",
    "call_ratios": "kapacity.store",
    "capacity_targets": "kapacity.store",
    "forecast_points": "kapacity.store",
    "latest_run_id": "kapacity.store",
    "list_runs": "kapacity.store",
    "system_capacity": "kapacity.store",
}

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


lazy_surface(__name__, _EXPORTS)
