"""Capacity from forecasts: Baseline (regular traffic at its forecast peak) and FLAS (surges).

- ``peak_forecast_rps``: the highest point forecast of regular traffic over the
  horizon, in requests per second (value per interval / interval seconds).
- ``baseline_rps``: the highest forecast quantile (``quantile``, default p99) of
  regular traffic over the horizon: what regular traffic needs at its peak.
  Known flash sales are not in it; they are FLAS's job.
- ``spike_ratio``: the largest historical surge: the mean of the next two
  minutes over the mean of the previous ten, seasonally adjusted, counted only
  where the previous ten minutes carried at least half the median traffic (so
  night-time noise does not count). At resolutions coarser than two minutes
  the windows are one interval each, and surges shorter than an interval are
  invisible (said in the assumptions).
- ``flas_rps``: what the system must absorb without autoscaling in a sudden
  surge: the largest of the historical surge on top of the forecast peak
  (``spike_ratio * peak_forecast_rps``), the forecast including declared flash
  sales at their times, and the Baseline; times ``1 + safety_buffer``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from kapacity.errors import ParameterError
from kapacity.events import KnownEvent, apply_events, event_multipliers
from kapacity.forecast import Forecast, circular_mean, col_median, week_slots
from kapacity.history import DAY, Series

RAMP_NEXT_SECONDS = 120
RAMP_PREVIOUS_SECONDS = 600


@dataclass(frozen=True)
class CapacitySettings:
    """How capacity is derived from a forecast; every field is reported as an assumption."""

    quantile: float = 0.99          # forecast quantile that Baseline must hold at peak
    safety_buffer: float = 0.2      # extra share on top of the FLAS need
    min_base_share: float = 0.5     # ramps count only above this share of median traffic
    ramp_weeks: int = 8             # weeks of history searched for ramps

    def __post_init__(self) -> None:
        if not 0.5 <= self.quantile < 1:
            raise ParameterError(f"capacity quantile {self.quantile} outside [0.5, 1); "
                                 "use e.g. 0.9 or 0.99")
        if not 0 <= self.safety_buffer <= 5:
            raise ParameterError(f"safety buffer {self.safety_buffer} outside 0 to 5 "
                                 "(0.2 means 20% on top)")
        if not 0 <= self.min_base_share <= 1:
            raise ParameterError(f"min_base_share {self.min_base_share} outside 0 to 1")
        if not 1 <= self.ramp_weeks <= 520:
            raise ParameterError(f"ramp_weeks {self.ramp_weeks} outside 1 to 520")

    def as_dict(self) -> dict:
        return asdict(self)


def baseline_rps(forecast: Forecast, settings: CapacitySettings) -> float:
    """The highest ``settings.quantile`` forecast over the horizon, per second."""
    band = forecast.quantiles.get(settings.quantile)
    if band is None:
        raise ParameterError(f"forecast has no quantile {settings.quantile}; "
                             f"it has {sorted(forecast.quantiles)}")
    return float(np.max(band)) / forecast.step


@dataclass(frozen=True)
class Ramp:
    at: int          # epoch seconds where the surge starts
    ratio: float     # seasonally adjusted next/previous ratio
    rps: float       # mean rate over the next window


def largest_ramps(series: Series, settings: CapacitySettings, top: int = 3) -> tuple[list[Ramp], dict]:
    """The ``top`` largest surges (at least an hour apart) in the last ``ramp_weeks`` weeks,
    and how they were measured."""
    step = series.step
    n_next = max(1, round(RAMP_NEXT_SECONDS / step))
    n_prev = max(1, round(RAMP_PREVIOUS_SECONDS / step))
    lo = max(0, series.n - settings.ramp_weeks * series.per_week)
    y = series.values[lo:]
    how = _ramp_method(step, n_next, n_prev)
    if y.size < n_prev + n_next + 1:
        return [], how
    ok = ~np.isnan(y)
    median = float(np.nanmedian(y)) if ok.any() else 0.0
    floor = max(settings.min_base_share * median, 1e-9)
    surges = _surge_ratios(y, _expected(series, lo), n_next, n_prev, floor)
    if surges is None:
        return [], how
    how["min_previous_rps"] = round(floor / step, 6)
    return _largest_apart(series, lo, *surges, top), how


def _ramp_method(step: int, n_next: int, n_prev: int) -> dict:
    how = {"next_seconds": n_next * step, "previous_seconds": n_prev * step,
           "window": f"mean of the next {n_next * step} s over the previous {n_prev * step} s"}
    if step > RAMP_NEXT_SECONDS:
        how["note"] = (f"resolution {step} s is coarser than the {RAMP_NEXT_SECONDS} s ramp "
                       "window: surges shorter than an interval are invisible")
    return how


def _surge_ratios(y: np.ndarray, expected: np.ndarray, n_next: int, n_prev: int,
                  floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """At each point ``t``: the next window's mean over the previous window's, over the same
    ratio of the ``expected`` profile (-inf where a window has gaps or the previous mean is
    below ``floor``); as (t, ratio, next window's mean). None when no point qualifies."""
    ok = ~np.isnan(y)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    ccount = np.concatenate([[0], np.cumsum(ok)])
    esum = np.concatenate([[0.0], np.cumsum(expected)])
    t = np.arange(n_prev, y.size - n_next + 1)
    nxt = (csum[t + n_next] - csum[t]) / n_next
    prv = (csum[t] - csum[t - n_prev]) / n_prev
    full = ((ccount[t + n_next] - ccount[t]) == n_next) & ((ccount[t] - ccount[t - n_prev]) == n_prev)
    e_next = (esum[t + n_next] - esum[t]) / n_next
    e_prev = (esum[t] - esum[t - n_prev]) / n_prev
    valid = full & (prv >= floor) & (e_next > 0) & (e_prev > 0)
    if not valid.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(valid, (nxt / prv) / (e_next / e_prev), -np.inf)
    return t, ratio, nxt


def _largest_apart(series: Series, lo: int, t: np.ndarray, ratio: np.ndarray, nxt: np.ndarray,
                   top: int) -> list[Ramp]:
    """The ``top`` largest ratios at least an hour apart, largest first (ties: earlier first)."""
    step = series.step
    # the top candidates only (a full sort of every minute is wasted work); ties keep time order
    top_n = min(ratio.size, 2000)
    candidates = np.argpartition(-ratio, top_n - 1)[:top_n] if top_n < ratio.size else np.arange(ratio.size)
    order = candidates[np.lexsort((candidates, -ratio[candidates]))]
    picked: list[Ramp] = []
    gap = max(1, 3600 // step)
    for i in order:
        if not np.isfinite(ratio[i]) or len(picked) >= top:
            break
        start = lo + int(t[i])
        if any(abs(start - (p.at - series.start) // step) < gap for p in picked):
            continue
        picked.append(Ramp(series.start + start * step, round(float(ratio[i]), 4),
                           round(float(nxt[i]) / step, 6)))
    return picked


def _expected(series: Series, lo: int) -> np.ndarray:
    """Smoothed weekly median profile at every point from ``lo`` (for seasonal adjustment)."""
    times = series.times()[lo:]
    slots = week_slots(series.wall_seconds(times), series.step)
    P = series.per_week
    y = series.values[lo:]
    weeks = max(1, math.ceil(y.size / P))
    M = np.full((weeks, P), np.nan)
    rows = (y.size - 1 - np.arange(y.size)) // P
    M[rows, slots] = y
    profile = col_median(M)
    fill = np.nanmean(profile) if np.isfinite(profile).any() else 1.0
    profile = np.where(np.isnan(profile), fill, profile)
    width = max(1, round(1800 / series.step)) if series.step < 1800 else 1
    if width > 1:
        profile = circular_mean(profile, width)
    return np.maximum(profile, 1e-9)[slots]


def growth(series: Series) -> dict:
    """Week-over-week, month-over-month (4 weeks) and year-over-year (52 weeks) growth.

    Of volume (sum over complete days) and of daily peaks (mean of each day's
    highest interval), comparing the latest window with the one before it (WoW,
    MoM) or 364 days before it (YoY). None where either window lacks data.
    """
    times = series.times()
    days = np.floor_divide(series.wall_seconds(times), DAY)
    ok = ~np.isnan(series.values)
    first = int(days[0])
    idx = days - first
    n_days = int(idx[-1]) + 1
    count = np.bincount(idx[ok], minlength=n_days)
    volume = np.bincount(idx[ok], series.values[ok], minlength=n_days)
    peak = np.full(n_days, -np.inf)
    np.maximum.at(peak, idx[ok], series.values[ok])
    complete = count >= 0.9 * series.per_day
    last = int(np.flatnonzero(complete)[-1]) if complete.any() else -1
    out = {}
    for key, length, back in (("wow", 7, 7), ("mom", 28, 28), ("yoy", 28, 364)):
        out[key] = _compare(volume, peak, complete, last, length, back, series.step)
    return out


def _compare(volume, peak, complete, last, length, back, step) -> dict | None:
    now = np.arange(last - length + 1, last + 1)
    then = now - back
    if last < 0 or then[0] < 0:
        return None
    both = complete[now] & complete[then]
    if both.sum() < 0.8 * length:
        return None
    v_now, v_then = volume[now][both].sum(), volume[then][both].sum()
    p_now, p_then = peak[now][both].mean(), peak[then][both].mean()
    return {
        "volume": _ratio(v_now, v_then),
        "daily_peak": _ratio(p_now, p_then),
        "days": int(both.sum()),
        "daily_peak_rps_now": round(float(p_now) / step, 4),
    }


def _ratio(now: float, then: float) -> float | None:
    return None if then <= 0 else round(float(now / then - 1), 4)


@dataclass(frozen=True)
class RampSeen:
    """One of the largest historical surges, as reported: when, how steep, at what rate."""

    at: str          # local time the surge started
    ratio: float     # seasonally adjusted next/previous ratio
    rps: float       # mean rate over the next window


@dataclass(frozen=True)
class CapacityAssumptions:
    """How the figures were derived, reported with them (``assumptions`` in JSON)."""

    baseline: str
    quantile: float
    peak_forecast_at: str
    peak_factor: float
    expected_peak_interval_rps: float
    flas: str
    flas_driver: str                       # the candidate FLAS was taken from
    flas_candidates_rps: dict[str, float]
    safety_buffer: float
    ramp: dict                             # how ramps were measured (windows, floor, notes)
    largest_ramps: list[RampSeen]
    declared_multiplier_max: float
    declared_events: list[dict]
    model: str
    model_params: dict
    notes: list[str]


@dataclass(frozen=True)
class CapacityResult:
    """Baseline and FLAS capacity of one series, with the assumptions that produced them."""

    series: str | None
    resolution_seconds: int
    start: str                             # first forecast interval (JSON ``from``)
    end: str                               # last forecast interval (JSON ``to``)
    baseline_rps: float
    flas_rps: float
    peak_forecast_rps: float
    spike_ratio: float
    assumptions: CapacityAssumptions
    growth: dict

    def as_dict(self) -> dict:
        """The JSON form: ``kapacity capacity --format json`` and the stored run rows."""
        return {_JSON_NAMES.get(k, k): v for k, v in asdict(self).items()}


_JSON_NAMES = {"start": "from", "end": "to"}

BASELINE_TEXT = "highest p{pct} forecast of regular traffic over the horizon (known flash sales excluded)"
FLAS_TEXT = ("largest of: historical surge ratio x forecast peak, forecast with declared "
             "flash sales, Baseline; times (1 + safety_buffer)")


def capacity(series: Series, forecast: Forecast, settings: CapacitySettings,
             events: Sequence[KnownEvent] = ()) -> dict:
    """:func:`capacity_result` in its JSON form (what the CLI prints)."""
    return capacity_result(series, forecast, settings, events).as_dict()


def capacity_result(series: Series, forecast: Forecast, settings: CapacitySettings,
                    events: Sequence[KnownEvent] = ()) -> CapacityResult:
    """Baseline and FLAS capacity for one series, with the assumptions that produced them."""
    step = forecast.step
    peak_i = int(np.argmax(forecast.mean))
    peak_rps = float(forecast.mean[peak_i]) / step
    base = baseline_rps(forecast, settings)
    ramps, how = largest_ramps(series, settings)
    spike = max([1.0, *[r.ratio for r in ramps]])
    declared_rps, used = _declared(forecast, events)
    candidates = {
        "historical_surge_at_peak": spike * peak_rps,
        "declared_flash_sales": declared_rps,
        "baseline": base,
    }
    driver = max(candidates, key=lambda k: (candidates[k], k))
    flas = (1 + settings.safety_buffer) * candidates[driver]
    fmt = series.format_times
    assumptions = CapacityAssumptions(
        baseline=BASELINE_TEXT.format(pct=_pct(settings.quantile)),
        quantile=settings.quantile,
        peak_forecast_at=fmt(np.array([forecast.start + peak_i * step]))[0],
        peak_factor=forecast.peak_factor,
        expected_peak_interval_rps=_r(peak_rps * forecast.peak_factor),
        flas=FLAS_TEXT, flas_driver=driver,
        flas_candidates_rps={k: _r(v) for k, v in candidates.items()},
        safety_buffer=settings.safety_buffer, ramp=how,
        largest_ramps=[RampSeen(fmt(np.array([r.at]))[0], r.ratio, r.rps) for r in ramps],
        declared_multiplier_max=max([1.0, *[e["multiplier"] for e in used]]),
        declared_events=used, model=forecast.model, model_params=forecast.params,
        notes=list(forecast.notes) + list(series.notes))
    return CapacityResult(
        series.name, step, fmt(np.array([forecast.start]))[0],
        fmt(np.array([forecast.times()[-1]]))[0], _r(base), _r(flas), _r(peak_rps), _r(spike),
        assumptions, growth(series))


def _declared(forecast: Forecast, events: Sequence[KnownEvent]) -> tuple[float, list[dict]]:
    """Peak rate of the forecast with the declared events added (0 when none touches it),
    and those events."""
    with_events = apply_events(forecast, events)
    _, used = event_multipliers(forecast, events)
    return (float(np.max(with_events.mean)) / forecast.step if used else 0.0), used


def _pct(q: float) -> str:
    text = f"{q * 100:.2f}".rstrip("0").rstrip(".")
    return text


def _r(x: float) -> float:
    return round(float(x), 6)
