"""The model protocol every forecaster follows (statsforecast's shape), and what it returns.

A model is constructed with validated parameters; ``fit(history)`` keeps the
history, ``predict(h, levels)`` returns a :class:`Forecast` (the point forecast
and upper quantiles on the history's grid), and ``alias`` names the model in
results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, Self

import numpy as np

from kapacity.errors import ParameterError
from kapacity.history import Series

DEFAULT_LEVELS = (0.9, 0.99)


@dataclass(frozen=True)
class Forecast:
    """A forecast on the history's grid: ``mean[i]`` for the interval at ``start + i*step``."""

    name: str | None
    start: int
    step: int
    tz: str | None
    mean: np.ndarray
    quantiles: dict[float, np.ndarray]
    model: str
    params: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    peak_factor: float = 1.0  # actual daily peak over the forecast's daily maximum (calibrated)

    @property
    def h(self) -> int:
        return int(self.mean.shape[0])

    def times(self) -> np.ndarray:
        return self.start + self.step * np.arange(self.h, dtype=np.int64)


class Forecaster(Protocol):
    """The model protocol: construct with validated parameters, fit, predict."""

    alias: str

    def fit(self, history: Series) -> Self: ...

    def predict(self, h: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast: ...


class HistoryModel:
    """What every model shares: ``fit`` keeps the history, ``checked`` validates a predict call."""

    alias: str
    _history: Series | None = None

    def fit(self, history: Series) -> Self:
        self._history = history
        return self

    def checked(self, h: int, levels: Sequence[float]) -> tuple[Series, tuple[float, ...]]:
        """The fitted history and the sorted quantile levels; a bad call is a ParameterError."""
        if self._history is None:
            raise ParameterError(f"{self.alias}: call fit(history) before predict(h)")
        levels = check_levels(levels)
        if not isinstance(h, int | np.integer) or h < 1:
            raise ParameterError(f"horizon h={h!r} must be a positive number of intervals")
        return self._history, levels


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    out = tuple(sorted({float(q) for q in levels}))
    for q in out:
        if not 0.5 <= q < 1:
            raise ParameterError(f"quantile level {q} outside [0.5, 1); use e.g. 0.9 or 0.99")
    return out
