"""Synthetic traffic for Kapacity tests: daily and weekly cycles, noise, growth, surges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kapacity.history import Series

DAY = 86_400


def weekly_pattern(times_wall: np.ndarray) -> np.ndarray:
    """A business-hours shape: low at night, peak at 13:00, weekends at 60%."""
    hour = (times_wall % DAY) / 3600
    weekday = ((times_wall // DAY) + 3) % 7
    daily = 0.25 + np.exp(-((hour - 13) ** 2) / 18)
    return daily * np.where(weekday >= 5, 0.6, 1.0)


def synthetic(*, days: int = 35, step: int = 300, level: float = 100.0, noise: float = 0.1,
              weekly_growth: float = 0.0, seed: int = 0, start: str = "2024-01-01T00:00:00",
              name: str | None = None, tz: str | None = None) -> Series:
    """A regular series with the weekly pattern, multiplicative noise and optional growth."""
    rng = np.random.default_rng(seed)
    start_s = int(pd.Timestamp(start).value // 1_000_000_000)
    n = days * DAY // step
    times = start_s + step * np.arange(n)
    base = level * weekly_pattern(times) * (1 + weekly_growth) ** (np.arange(n) * step / (7 * DAY))
    values = np.round(base * (1 + noise * rng.standard_normal(n)).clip(0.05), 3)
    return Series(name, start_s, step, values, tz, "synthetic")


def write_csv(path: Path, rows: list[tuple], header: str = "timestamp,value") -> Path:
    lines = [header] + [",".join(str(c) for c in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def series_csv(path: Path, series: Series, *, with_series: bool = False) -> Path:
    from kapacity.history import series_frame

    frame = series_frame([series])
    if with_series and "series" not in frame:
        frame["series"] = series.name or "s"
    frame.to_csv(path, index=False)
    return path
