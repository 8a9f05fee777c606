"""Scheduled refresh: ``readiness serve`` calls :func:`refresh_forecasts` each cycle
(the ``forecasts`` cycle hook), from Prometheus or from a directory of files."""

from __future__ import annotations

from datetime import datetime

from kapacity.calendar import EventCalendar
from kapacity.errors import KapacityError
from kapacity.history import parse_duration
from kapacity.runner import RunReport, RunSettings, run_catalog
from kapacity.service import ForecastSettings
from kapacity.settings import KapacityConfig
from kapacity.sources import DirectorySource, HistorySource


def refresh_forecasts(engine, *, now: datetime | None = None,
                      config: KapacityConfig | None = None) -> RunReport | str:
    """Run over the catalog from ``KAPACITY_PROMETHEUS_CONFIG`` or ``KAPACITY_HISTORY_DIR``;
    says why when it cannot. A configuration error raises, so the cycle records it."""
    config = config or KapacityConfig()
    source = _history_source(config)
    if isinstance(source, str):
        return source
    country = None if config.country.lower() == "none" else config.country.upper()
    EventCalendar(country)  # validates
    settings = RunSettings(horizon_seconds=parse_duration(config.horizon),
                           forecast=ForecastSettings(country=country))
    return run_catalog(engine, source, settings=settings, executor=config.executor, now=now)


def _history_source(config: KapacityConfig) -> HistorySource | str:
    if config.prometheus_config is not None and config.history_dir is not None:
        raise KapacityError("both KAPACITY_PROMETHEUS_CONFIG and KAPACITY_HISTORY_DIR are set; "
                            "set the one history source to refresh from")
    if config.prometheus_config is not None:
        from kapacity.sources_prometheus import load_prometheus_config

        return load_prometheus_config(config.prometheus_config)  # re-read each cycle: edits apply
    if config.history_dir is None:
        return ("skipped: no history source configured (set KAPACITY_PROMETHEUS_CONFIG or "
                "KAPACITY_HISTORY_DIR)")
    if not config.history_dir.is_dir():
        return f"skipped: KAPACITY_HISTORY_DIR {config.history_dir} is not a directory"
    return DirectorySource(config.history_dir)
