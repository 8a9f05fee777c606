"""Scheduled refresh: ``readiness serve`` calls :func:`refresh_forecasts` each cycle."""

from __future__ import annotations

from datetime import datetime

from kapacity.calendar import EventCalendar
from kapacity.history import parse_duration
from kapacity.runner import RunReport, RunSettings, run_catalog
from kapacity.service import ForecastSettings
from kapacity.settings import KapacityConfig
from kapacity.sources import DirectorySource


def refresh_forecasts(engine, *, now: datetime | None = None,
                      config: KapacityConfig | None = None) -> RunReport | str:
    """Run over the catalog from ``KAPACITY_HISTORY_DIR``; says why when it cannot."""
    config = config or KapacityConfig()
    if config.history_dir is None:
        return "skipped: no history source configured (set KAPACITY_HISTORY_DIR)"
    if not config.history_dir.is_dir():
        return f"skipped: KAPACITY_HISTORY_DIR {config.history_dir} is not a directory"
    country = None if config.country.lower() == "none" else config.country.upper()
    EventCalendar(country)  # validates
    settings = RunSettings(horizon_seconds=parse_duration(config.horizon),
                           forecast=ForecastSettings(country=country))
    return run_catalog(engine, DirectorySource(config.history_dir), settings=settings,
                       executor=config.executor, now=now)
