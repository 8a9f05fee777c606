"""The forecasting service: settings, one call per series, files in and rows out.

This is what the CLI, the backtest, the benchmark and the catalog run call, so
they all measure and store the same thing. No database here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from kapacity.calendar import EventCalendar
from kapacity.errors import ParameterError
from kapacity.events import KnownEvent, apply_events
from kapacity.forecast import (
    DEFAULT_LEVELS,
    AutoProfile,
    Forecast,
    Forecaster,
    SeasonalNaive,
    SeasonalProfile,
)
from kapacity.history import Series

MODELS = ("auto", "profile", "naive")


@dataclass(frozen=True)
class ForecastSettings:
    """Everything besides the history that decides a forecast (recorded with each result)."""

    model: str = "auto"
    levels: tuple[float, ...] = DEFAULT_LEVELS
    country: str | None = "US"
    subdiv: str | None = None
    peaks: bool = True
    extra_levels: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ParameterError(f"model {self.model!r} not known; use one of {', '.join(MODELS)}")
        levels = tuple(sorted({*self.levels, *self.extra_levels}))
        for q in levels:
            if not 0.5 <= q < 1:
                raise ParameterError(f"quantile level {q} outside [0.5, 1)")
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "extra_levels", ())
        self.calendar()  # validates the country

    def calendar(self) -> EventCalendar | None:
        if self.country is None and not self.peaks:
            return None
        return EventCalendar(self.country, self.subdiv, self.peaks)

    def make_model(self) -> Forecaster:
        if self.model == "naive":
            return SeasonalNaive()
        if self.model == "profile":
            return SeasonalProfile(calendar=self.calendar())
        return AutoProfile(calendar=self.calendar())

    def as_dict(self) -> dict:
        return asdict(self)


def forecast_series(series: Series, h: int, settings: ForecastSettings | None = None,
                    events: Sequence[KnownEvent] = ()) -> Forecast:
    """Forecast ``h`` intervals of regular traffic, then add known events (if any)."""
    settings = settings or ForecastSettings()
    forecast = settings.make_model().fit(series).predict(h, settings.levels)
    return apply_events(forecast, events) if events else forecast


def horizon_intervals(series: Series, seconds: int) -> int:
    if seconds < series.step:
        raise ParameterError(f"horizon {seconds}s is shorter than the history's resolution "
                             f"({series.step}s)")
    return int(seconds // series.step)


def forecast_frame(forecast: Forecast, *, with_series: bool, levels: Sequence[float] = (0.9, 0.99)
                   ) -> pd.DataFrame:
    """``timestamp,forecast,p90,p99`` (+ ``series``) rows in the history's time convention."""
    from kapacity.history import format_timestamps

    data = {"timestamp": format_timestamps(forecast.times(), forecast.tz),
            "forecast": forecast.mean}
    for q in levels:
        data[quantile_column(q)] = forecast.quantiles[q]
    frame = pd.DataFrame(data)
    if with_series:
        frame["series"] = forecast.name
    return frame


def quantile_column(q: float) -> str:
    text = f"{q * 100:.4f}".rstrip("0").rstrip(".")
    return "p" + text.replace(".", "_")


def inputs_hash(series: Series, settings: ForecastSettings, h: int,
                events: Sequence[KnownEvent] = ()) -> str:
    """Hash of everything that decides a forecast: the grid, values, settings, horizon, events."""
    digest = hashlib.sha256()
    head = {"name": series.name, "start": series.start, "step": series.step, "tz": series.tz,
            "n": series.n, "h": h, "settings": settings.as_dict(),
            "events": [e.as_dict() for e in events if e.applies_to(series.name)]}
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    digest.update(np.ascontiguousarray(series.values, dtype="<f8").tobytes())
    return digest.hexdigest()
