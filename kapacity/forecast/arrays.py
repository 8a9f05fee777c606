"""Small numpy helpers the models (and the capacity ramps) share."""

from __future__ import annotations

import math

import numpy as np


def col_median(A: np.ndarray) -> np.ndarray:
    """Median of each column ignoring NaN (sort-based: fast on short, wide matrices)."""
    s = np.sort(np.ascontiguousarray(A.T), axis=1)  # NaN sorts last
    count = (~np.isnan(A)).sum(axis=0)
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, None)
    cols = np.arange(A.shape[1])
    out = 0.5 * (s[cols, lo] + s[cols, hi])
    out[count == 0] = np.nan
    return out


def nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean ignoring NaN; NaN (without a warning) where a row or column has no values."""
    counts = (~np.isnan(a)).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, np.nansum(a, axis=axis) / counts, np.nan)


def circular_mean(x: np.ndarray, width: int) -> np.ndarray:
    """Moving average of ``width`` points around each point, wrapping at the ends (a week)."""
    half = width // 2
    padded = np.concatenate([x[-half:], x, x[:width - half - 1]]) if half else x
    c = np.concatenate([[0.0], np.cumsum(padded)])
    return (c[width:] - c[:-width]) / width


def constant(value: float, h: int) -> np.ndarray:
    """A flat path as a read-only view: no memory for ``h`` copies of one number."""
    return np.broadcast_to(np.float64(value), (h,))


def published(x: np.ndarray) -> np.ndarray:
    """Values as a forecast publishes them: finite, not negative, rounded to 6 decimals."""
    x = np.where(np.isfinite(x), x, 0.0)
    return np.round(np.maximum(x, 0.0), 6)


def round_or_none(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 6)
