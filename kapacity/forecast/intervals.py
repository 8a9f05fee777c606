"""Prediction intervals and the daily peak factor, from a model's own out-of-sample errors.

The model forecasts from earlier origins of the same history (:func:`calibration_origins`);
its errors there are scaled by ``(forecast + c) ** beta`` (beta chosen by pinball loss),
and the scaled error's empirical quantile, with the finite-sample conformal correction,
is added back. So the width follows the traffic level through the day, and coverage is
calibrated on the series itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kapacity.forecast.arrays import published
from kapacity.forecast.protocol import Forecast
from kapacity.history import Series

# (actual, forecast) pairs at earlier origins of the history
Errors = list[tuple[np.ndarray, np.ndarray]]
MIN_ERRORS = 10  # fewer observed errors than this calibrate nothing (default widths)


def origins(n: int, h: int, *, needed: int, count: int) -> list[int]:
    """Up to ``count`` origins stepping back by ``h`` from ``n - h``, each with ``needed`` before."""
    out = []
    m = n - h
    while m >= needed and len(out) < count:
        out.append(m)
        m -= h
    return out


def calibration_origins(history: Series, h: int) -> list[tuple[int, int]]:
    """(origin, horizon) pairs, newest first, whose errors calibrate the intervals."""
    h_val = min(h, history.per_week)
    # enough out-of-sample errors for a p99 (about 2000), at most 12 origins
    count = int(np.clip(math.ceil(2000 / h_val), 3, 12))
    needed = min(history.per_week * 2, max(2 * history.per_day, history.n // 3))
    return [(m, h_val) for m in origins(history.n, h_val, needed=needed, count=count)]


@dataclass(frozen=True)
class Calibration:
    """Scaled-error quantiles: ``mean + scaled[q] * (mean + offset) ** beta`` is level ``q``."""

    beta: float
    offset: float
    scaled: dict[float, float]

    @classmethod
    def fit(cls, errors: Errors, levels: Sequence[float]) -> Calibration:
        actual = np.concatenate([a for a, _ in errors]) if errors else np.array([])
        fc = np.concatenate([np.maximum(f, 0) for _, f in errors]) if errors else np.array([])
        ok = ~np.isnan(actual) & ~np.isnan(fc)
        actual, fc = actual[ok], fc[ok]
        if actual.size < MIN_ERRORS:
            return cls(0.5, 1.0, {q: 3.0 * (1 + 2 * (q - 0.9) * 10) for q in levels})
        offset = 0.1 * float(np.mean(fc)) + 1e-6
        best = None
        for beta in (0.0, 0.5, 1.0):
            scale = (fc + offset) ** beta
            z = (actual - fc) / scale
            scaled = {q: conformal_quantile(z, q) for q in levels}
            loss = sum(pinball(actual, fc + scaled[q] * scale, q) for q in levels)
            if best is None or loss < best[0] - 1e-12:
                best = (loss, cls(beta, offset, scaled))
        return best[1]

    def apply(self, mean: np.ndarray) -> dict[float, np.ndarray]:
        """Each level's band over ``mean``; a higher level never lies below a lower one."""
        m = np.maximum(mean, 0)
        scale = (m + self.offset) ** self.beta
        out, floor = {}, m
        for q in sorted(self.scaled):
            band = np.maximum(m + max(self.scaled[q], 0.0) * scale, floor)
            out[q] = published(band)
            floor = out[q]
        return out


def peak_factor(errors: Errors, per_day: int) -> float:
    """Median ratio of each day's actual peak to the forecast's daily maximum, out of sample.

    A smooth forecast's daily maximum sits below the noisy actual peak (at minute
    resolution, well below); this factor turns it into a forecast of the daily peak.
    """
    ratios = []
    for actual, f in errors:
        for d in range(actual.size // per_day):
            a, g = actual[d * per_day:(d + 1) * per_day], f[d * per_day:(d + 1) * per_day]
            ok = ~np.isnan(a)
            if ok.sum() >= 0.8 * per_day and g[ok].max() > 0:
                ratios.append(float(a[ok].max() / g[ok].max()))
    if len(ratios) < 3:
        return 1.0
    return round(float(np.clip(np.median(ratios), 0.5, 5.0)), 4)


def conformal_quantile(z: np.ndarray, q: float) -> float:
    n = z.size
    rank = min(n, math.ceil((n + 1) * q))
    return float(np.partition(z, rank - 1)[rank - 1])


def pinball(actual: np.ndarray, pred: np.ndarray, q: float) -> float:
    diff = actual - pred
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


def forecast_with_intervals(history: Series, mean: np.ndarray, errors: Errors,
                            levels: Sequence[float], model: str, params: dict,
                            notes: tuple[str, ...] = (), *, event_days: np.ndarray | None = None,
                            origins: Sequence[tuple[int, int]] = ()) -> Forecast:
    """The forecast after ``history``: ``mean``, with quantiles and peak factor from ``errors``.

    ``event_days`` (True on calendar event days over history and horizon; ``origins`` are
    the (origin, horizon) pairs the errors were made at, in the same order) keeps those
    days out of the calibration: a Black Friday the model could not know must not widen
    every later day's p99 (nor move the peak factor). Event days in the horizon keep the
    band of all errors where it is wider.
    """
    regular, has_events = _without_event_days(errors, event_days, origins)
    quantiles = Calibration.fit(regular, levels).apply(mean)
    if has_events and event_days is not None:
        ahead = event_days[history.n:history.n + mean.size]
        if ahead.any():
            wide = Calibration.fit(errors, levels).apply(mean)
            quantiles = {q: np.where(ahead, np.maximum(wide[q], band), band)
                         for q, band in quantiles.items()}
    return Forecast(history.name, history.end + history.step, history.step, history.tz,
                    published(mean), quantiles, model, params, notes,
                    peak_factor=peak_factor(regular, history.per_day))


def _without_event_days(errors: Errors, event_days: np.ndarray | None,
                        origins: Sequence[tuple[int, int]]) -> tuple[Errors, bool]:
    """``errors`` with the actuals on event days blanked, and whether any were."""
    if event_days is None or not errors:
        return errors, False
    if len(origins) != len(errors):
        raise ValueError(f"{len(errors)} error windows for {len(origins)} origins")
    masks = [event_days[m:m + k] for m, k in origins]
    if not any(mask.any() for mask in masks):
        return errors, False
    regular = [(np.where(mask, np.nan, a), f) for mask, (a, f) in zip(masks, errors, strict=True)]
    if sum(int((~np.isnan(a)).sum()) for a, _ in regular) < MIN_ERRORS:
        return errors, False  # (nearly) all event days: their errors beat no errors at all
    return regular, True
