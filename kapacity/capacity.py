"""Capacity from forecasts: Baseline (regular traffic at its forecast peak) and FLAS (surges)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kapacity.errors import ParameterError
from kapacity.forecasting import Forecast


@dataclass(frozen=True)
class CapacitySettings:
    quantile: float = 0.99
    safety_buffer: float = 0.2

    def __post_init__(self) -> None:
        if not 0.5 <= self.quantile < 1:
            raise ParameterError(f"capacity quantile {self.quantile} outside [0.5, 1)")


def baseline_rps(forecast: Forecast, settings: CapacitySettings) -> float:
    band = forecast.quantiles.get(settings.quantile)
    if band is None:
        raise ParameterError(f"forecast has no quantile {settings.quantile}")
    return float(np.max(band)) / forecast.step
