"""Settings for scheduled refreshes (``readiness serve`` calls ``refresh_forecasts``).

Environment: where history comes from, one of ``KAPACITY_HISTORY_DIR`` (a directory of
files) or ``KAPACITY_PROMETHEUS_CONFIG`` (a Prometheus history configuration, see
:mod:`kapacity.prometheus_config`), ``KAPACITY_HORIZON``
(default ``7d``), ``KAPACITY_EXECUTOR`` (default ``serial``; ``processes:N``,
``dask:local:N`` or ``dask:tcp://scheduler:8786``), ``KAPACITY_COUNTRY`` (``US``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class KapacityConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAPACITY_", extra="ignore")

    history_dir: Path | None = None
    prometheus_config: Path | None = None
    horizon: str = "7d"
    executor: str = "serial"
    country: str = "US"
