"""Bursts apart from the regular signal: a robust daily baseline, and what rises far above it.

A short history of a new service or an infrastructure metric (bytes, load-balancer
requests) is often dominated by bursts of hundreds of times the median. Copied into a
forecast they become "next Tuesday's peak"; averaged into a profile they lift every
day. So the models forecast the *regular* part: each value clipped to the time-of-day
median of the days before it plus :data:`CLIP_MADS` robust spreads. The bursts stay in
the actuals the intervals are calibrated on, so their risk reaches p99 (and, through
the historical surge ratio, FLAS capacity), not the point forecast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kapacity.forecast.arrays import circular_mean, col_median

BURST_RATIO = 20.0   # max over median above which bursts dominate a history
CLIP_MADS = 5.0      # regular band: time-of-day median + this many robust spreads
BASE_DAYS = 14       # days the time-of-day median looks back over


@dataclass(frozen=True)
class Bursts:
    """How bursty a history is: max over median, and the share of intervals above the band."""

    max_over_median: float
    clipped_share: float

    @property
    def dominate(self) -> bool:
        return self.max_over_median > BURST_RATIO

    def as_dict(self) -> dict:
        return {"max_over_median": round(self.max_over_median, 3),
                "clipped_share": round(self.clipped_share, 6),
                "dominate_above": BURST_RATIO, "band": f"time-of-day median + {CLIP_MADS:g} MADs"}


def day_matrix(y: np.ndarray, tod: np.ndarray, day: np.ndarray, m: int, days: int,
               D: int) -> np.ndarray:
    """``days`` rows of a calendar day each (row 0 the day of point ``m - 1``), by time of day."""
    if m <= 0:
        return np.full((days, D), np.nan)
    idx = np.arange(max(0, m - (days + 1) * D), m)
    rows = day[m - 1] - day[idx]
    keep = rows < days
    M = np.full((days, D), np.nan)
    M[rows[keep], tod[idx[keep]]] = y[idx[keep]]
    return M


def daily_baseline(M: np.ndarray, step: int) -> np.ndarray:
    """Time-of-day median over the rows of ``M``, gaps filled, smoothed over about an hour."""
    base = col_median(M)
    if not np.isfinite(base).any():
        return np.zeros(M.shape[1])
    base = np.where(np.isnan(base), float(np.nanmedian(base)), base)
    width = max(1, round(3600 / step))
    return circular_mean(base, width) if width > 1 else base


def regular_part(y: np.ndarray, tod: np.ndarray, day: np.ndarray, m: int, D: int,
                 step: int) -> tuple[np.ndarray, Bursts]:
    """``y[:m]`` with bursts clipped to the regular band, and how bursty it was."""
    values = y[:m]
    base = daily_baseline(day_matrix(y, tod, day, m, BASE_DAYS, D), step)[tod[:m]]
    ok = ~np.isnan(values)
    if not ok.any():
        return values.copy(), Bursts(1.0, 0.0)
    median = float(np.median(values[ok]))
    spread = 1.4826 * float(np.median(np.abs(values[ok] - base[ok])))
    spread = max(spread, 0.05 * abs(median) + 1e-9)
    ceiling = base + CLIP_MADS * spread
    above = ok & (values > ceiling)
    regular = np.where(above, ceiling, values)
    ratio = float(values[ok].max()) / median if median > 0 else 1.0
    return regular, Bursts(ratio, float(above.sum()) / int(ok.sum()))
