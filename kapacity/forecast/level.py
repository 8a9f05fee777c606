"""SeasonalProfile's level: the smoothed weekly level, an optional damped growth trend, and a
decaying correction from the last hours."""

from __future__ import annotations

import numpy as np

from kapacity.forecast.arrays import constant
from kapacity.forecast.grid import Grid
from kapacity.forecast.params import ProfileParams


def level_path(levels: np.ndarray, recent: np.ndarray, h: int, p: ProfileParams,
               P: int) -> np.ndarray:
    """Forecast level for each of ``h`` points after the origin.

    ``levels`` are the weeks' levels, newest first, weighted by ``level_decay`` per week
    of age; with ``trend``, a damped Theil-Sen growth carries on from their centre.
    With no level at all, the mean of ``recent`` (the last week's values) holds.
    """
    ok = np.isfinite(levels)
    if not ok.any():
        return constant(float(np.nanmean(recent)) if np.isfinite(recent).any() else 0.0, h)
    ages = np.arange(levels.size, dtype=float)
    w = np.where(ok, p.level_decay ** ages, 0.0)
    w[np.argmax(ok)] = max(w[np.argmax(ok)], 1e-12)
    level = float((w * np.where(ok, levels, 0.0)).sum() / w.sum())
    if not p.trend or ok.sum() < 3 or level <= 0:
        return constant(level, h)
    slope = _theil_sen_log_slope(ages[ok], levels[ok])
    age = float((w * ages).sum() / w.sum()) + 0.5  # weeks between the level's centre and m
    return level * np.exp(slope * _damped_weeks(age, h, p.damping, P))


def _damped_weeks(age: float, h: int, damping: float, P: int) -> np.ndarray:
    """Weeks of growth each of ``h`` points gets: ``age`` plus its lead, damped per week."""
    weeks_ahead = age + (np.arange(h) + 1) / P
    if damping >= 1:
        return weeks_ahead
    return damping * (1 - damping ** weeks_ahead) / (1 - damping)


def _theil_sen_log_slope(ages: np.ndarray, levels: np.ndarray) -> float:
    """Weekly growth rate of log level; clipped to +-10% a week."""
    logs = np.log(np.maximum(levels, 1e-9))
    i, j = np.triu_indices(ages.size, 1)
    slopes = (logs[i] - logs[j]) / (ages[j] - ages[i])  # older week has larger age
    return float(np.clip(np.median(slopes), -0.1, 0.1))


def recent_correction(f: np.ndarray, shape: np.ndarray, level: np.ndarray, grid: Grid, m: int,
                      h: int, p: ProfileParams) -> np.ndarray:
    """``f`` times how far the last ``recent_hours`` ran off the profile, decaying per day.

    No correction when fewer than half of those hours (outside event days) have data.
    """
    n_recent = max(1, int(p.recent_hours * 3600 // grid.step))
    lo = max(0, m - n_recent)
    actual = grid.y[lo:m]
    fitted = level[0] * shape[grid.slot[lo:m]]
    ok = ~np.isnan(actual) & ~np.isnan(fitted) & ~grid.excluded[lo:m]
    if ok.sum() >= max(2, n_recent // 2) and fitted[ok].sum() > 0:
        ratio = float(np.clip(actual[ok].sum() / fitted[ok].sum(), 0.33, 3.0))
        lead_days = (np.arange(h) + 1) / grid.D
        return f * (1 + (ratio - 1) * p.recent_decay ** lead_days)
    return f
