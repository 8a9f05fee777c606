"""Kapacity tables: runs, stored forecasts per series and run, learned call ratios.

A forecast row records everything that produced it: the hash of its inputs
(history grid and values, settings, horizon, events), the model and its chosen
parameters, and the settings. Forecast points are stored compactly in
``points`` (zlib-compressed little-endian float32 triples forecast/p90/p99 on
the grid ``start + i * resolution_seconds``), so a run over thousands of series
at minute resolution stays small and fast to write.

Times are naive: UTC for histories with offsets (``tz`` names the convention to
show them in), wall-clock time for naive histories (``tz`` is None).
"""

from __future__ import annotations

from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


def _json(default: Any = None) -> Any:
    factory = (lambda: dict(default or {})) if isinstance(default, dict) else list
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


class KapacityRun(SQLModel, table=True):
    __tablename__ = "kapacity_run"
    id: int | None = Field(default=None, primary_key=True)
    started_at: NaiveDatetime
    finished_at: NaiveDatetime | None = None
    status: str = "running"  # running | complete | failed
    source: str  # where the histories came from
    horizon_seconds: int
    settings: dict = _json({})
    executor: str = "serial"
    systems: int = 0
    series: int = 0
    errors: list[str] = _json()
    version: str = ""


class KapacityForecast(SQLModel, table=True):
    __tablename__ = "kapacity_forecast"
    __table_args__ = (
        UniqueConstraint("run_id", "series_key", name="uq_kapacity_forecast_run_series"),
        Index("ix_kapacity_forecast_system_run", "system_id", "run_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="kapacity_run.id", index=True)
    system_id: str = Field(max_length=100)
    service: str | None = Field(default=None, max_length=200)  # None: the system's total
    series_key: str = Field(max_length=320)
    inputs_hash: str = Field(max_length=64, index=True)
    model: str
    params: dict = _json({})
    settings: dict = _json({})
    resolution_seconds: int
    start: NaiveDatetime
    intervals: int
    tz: str | None = None
    baseline_rps: float
    flas_rps: float
    peak_forecast_rps: float
    spike_ratio: float
    traffic_class: str | None = None  # FLAS | Baseline, on system totals
    capacity: dict = _json({})  # assumptions, growth, propagation
    points: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: NaiveDatetime


class KapacityCallRatio(SQLModel, table=True):
    __tablename__ = "kapacity_call_ratio"
    __table_args__ = (UniqueConstraint("run_id", "caller", "callee", name="uq_kapacity_call_ratio"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="kapacity_run.id", index=True)
    caller: str = Field(max_length=100)
    callee: str = Field(max_length=100)
    kind: str = "sync"
    ratio: float
    learned: bool = True  # False: no usable histories, the default ratio was assumed
    r2: float | None = None
    samples: int = 0
