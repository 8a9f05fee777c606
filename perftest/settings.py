"""Safety limits and defaults, from the environment (``PERFTEST_*``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class PerftestSettings(BaseSettings):
    """``PERFTEST_ALLOWED_HOSTS=127.0.0.1,staging.example`` etc."""

    model_config = SettingsConfigDict(env_prefix="PERFTEST_", extra="ignore")

    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = LOOPBACK_HOSTS
    max_duration_s: float = Field(3600.0, gt=0, description="longest run allowed, seconds")
    max_rps: float = Field(2000.0, gt=0, description="highest request rate allowed")
    max_dropped_share: float = Field(0.01, ge=0, le=1, description="dropped iterations above this share make a run invalid")
    min_delivered_share: float = Field(0.5, ge=0, le=1, description="fewer requests than this share of the planned ones make a run invalid")
    request_timeout_s: float = Field(5.0, gt=0, description="per-request timeout in generated scripts")
    max_vus: int = Field(2000, gt=0, description="cap on k6 VUs per run")
    kill_margin_s: float = Field(60.0, gt=0, description="seconds past the planned duration before a k6 run is killed")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            return tuple(h.strip().lower() for h in value.split(",") if h.strip())
        return tuple(h.lower() for h in value)
