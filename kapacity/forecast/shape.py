"""SeasonalProfile's weekly shape: weeks side by side, each over its level, combined.

The last weeks before an origin are laid side by side by wall-clock time of week
(so DST moves the daily cycle with local time) in a matrix, row 0 the week that
ends at the origin. Each week's level is its size against the median profile;
days far off that profile (outages, holidays) are blanked; each week is divided by
its level, clipped to 3 MADs per slot, and the weeks are combined with
exponentially decaying weights. The combined shape is then filled, smoothed along
the week and blended with a daily shape pooled over days (less noise at minute
resolution).
"""

from __future__ import annotations

import numpy as np

from kapacity.forecast.arrays import circular_mean, col_median, nanmean
from kapacity.forecast.grid import Grid
from kapacity.forecast.params import ProfileParams


def week_matrix(grid: Grid, m: int, weeks: int) -> np.ndarray:
    """``weeks`` rows of a week each, row 0 ending at origin ``m``; event days are gaps."""
    lo = max(0, m - weeks * grid.P)
    idx = np.arange(lo, m)
    rows = (m - 1 - idx) // grid.P
    M = np.full((weeks, grid.P), np.nan)
    values = np.where(grid.excluded[lo:m], np.nan, grid.y[lo:m])
    M[rows, grid.slot[lo:m]] = values
    return M


def week_levels(M: np.ndarray, base: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each week's level (in units of the mean value) against the median profile of all weeks."""
    base = col_median(M) if base is None else base
    usable = ~np.isnan(M) & ~np.isnan(base)
    num = np.where(usable, M, 0.0).sum(axis=1)
    den = np.where(usable, base, 0.0).sum(axis=1)
    scale = np.nanmean(base) if np.isfinite(base).any() else np.nan
    # a week counts when a quarter of it (or a whole day, for short histories) has data
    enough = usable.sum(axis=1) >= min(0.25 * M.shape[1], M.shape[1] / 7)
    with np.errstate(invalid="ignore", divide="ignore"):
        levels = np.where((den > 0) & enough, num / den * scale, np.nan)
    return levels, base


def without_outlier_days(M: np.ndarray, D: int, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """The week matrix without days off by ``factor`` (0: keep all), and each week's level."""
    levels, base = week_levels(M)
    if factor and M.shape[0] >= 2:
        dropped = _drop_outlier_days(M, levels, base, factor, D)
        if dropped is not M:
            return dropped, week_levels(dropped, base)[0]
    return M, levels


def _drop_outlier_days(M: np.ndarray, levels: np.ndarray, base: np.ndarray, factor: float,
                       D: int) -> np.ndarray:
    """Blank days whose total is off the level-scaled median profile by ``factor`` or more."""
    K = M.shape[0]
    days = M.reshape(K, 7, D)
    expected = base.reshape(7, D)
    usable = ~np.isnan(days) & ~np.isnan(expected)[None]
    actual_sum = np.where(usable, days, 0.0).sum(axis=2)
    expected_sum = np.where(usable, expected[None], 0.0).sum(axis=2)
    scale = np.nanmean(base) if np.isfinite(base).any() else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = actual_sum / (expected_sum * (levels / scale)[:, None])
    covered = usable.sum(axis=2) >= 0.5 * D
    bad = covered & np.isfinite(ratio) & ((ratio > factor) | (ratio < 1 / factor))
    if not bad.any():
        return M
    days = days.copy()
    days[bad] = np.nan
    return days.reshape(K, -1)


def normalised_weeks(M: np.ndarray, levels: np.ndarray,
                     robust: bool) -> tuple[np.ndarray, np.ndarray]:
    """Each week divided by its level (with ``robust``, each slot clipped to 3 MADs), as
    (values with gaps as 0, 1 where there is a value)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        S = M / np.where(levels > 0, levels, np.nan)[:, None]
    if robust and M.shape[0] >= 3:
        med = col_median(S)
        mad = col_median(np.abs(S - med))
        spread = 3.0 * 1.4826 * np.maximum(mad, 0.05 * np.abs(med) + 1e-9)
        S = np.clip(S, med - spread, med + spread)
    ok = ~np.isnan(S)
    return np.where(ok, S, 0.0).astype(np.float32), ok


def weighted_shape(filled: np.ndarray, ok: np.ndarray, weeks: int, decay: float) -> np.ndarray:
    """The first ``weeks`` normalised weeks combined, each older week weighted by ``decay``."""
    weights = decay ** np.arange(weeks, dtype=float)
    # explicit sums, not BLAS: threaded BLAS stalls on a busy machine
    wsum = (ok[:weeks] * weights[:, None]).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shape = (filled[:weeks] * weights[:, None]).sum(axis=0, dtype=float) / wsum
    shape[wsum == 0] = np.nan
    return shape


def finished_shape(shape: np.ndarray, D: int, step: int, p: ProfileParams) -> np.ndarray:
    """The combined shape with gaps filled, smoothed by ``smooth_minutes``, daily-blended."""
    width = max(1, int(round(p.smooth_minutes * 60 / step)))
    shape = _fill_from_days(shape, D)
    if width > 1:
        shape = circular_mean(shape, width)
    if p.daily_blend > 0:
        shape = (1 - p.daily_blend) * shape + p.daily_blend * _pooled_days(shape, D, p.pooling)
    return shape


def _fill_from_days(shape: np.ndarray, D: int) -> np.ndarray:
    """Fill slots no week covered from the mean over days, then from the overall mean."""
    if not np.isnan(shape).any():
        return shape
    days = shape.reshape(7, D)
    if not np.isfinite(shape).any():
        return np.ones_like(shape)
    counts = (~np.isnan(days)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tod = np.where(counts > 0, np.nansum(days, axis=0) / counts, np.nan)
    overall = float(np.nanmean(shape))
    tod = np.where(np.isnan(tod), overall, tod)
    return np.where(np.isnan(days), tod[None, :], days).reshape(-1)


def _day_groups(pooling: str) -> list[list[int]]:
    return [list(range(7))] if pooling == "all" else [[0, 1, 2, 3, 4], [5], [6]]


def _pooled_days(shape: np.ndarray, D: int, pooling: str) -> np.ndarray:
    """Each day's level times the mean time-of-day shape of its pooling group."""
    days = shape.reshape(7, D)
    with np.errstate(invalid="ignore", divide="ignore"):
        day_level = nanmean(days, axis=1)
        unit = days / np.where(day_level > 0, day_level, np.nan)[:, None]
    out = np.empty_like(days)
    for group in _day_groups(pooling):
        with np.errstate(invalid="ignore"):
            mean_shape = nanmean(unit[group], axis=0) if len(group) > 1 else unit[group[0]]
        mean_shape = np.where(np.isnan(mean_shape), 1.0, mean_shape)
        for d in group:
            out[d] = (day_level[d] if np.isfinite(day_level[d]) else 0.0) * mean_shape
    return out.reshape(-1)
