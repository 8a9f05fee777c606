"""AutoProfile: SeasonalProfile's parameters chosen on the history's own last weeks, with
SeasonalNaive as the fallback when the best profile does not beat it there.

Rolling-origin validation: the profile forecasts the last weeks of the history
from their own origins; a coordinate search over :data:`SEARCH_SPACE` (a few dozen
vectorised evaluations) keeps the parameters with the lowest MAE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from kapacity.calendar import EventCalendar
from kapacity.errors import ParameterError
from kapacity.forecast.arrays import round_or_none
from kapacity.forecast.bursts import BURST_RATIO, Bursts
from kapacity.forecast.engine import ProfileEngine
from kapacity.forecast.grid import Grid
from kapacity.forecast.intervals import Errors, calibration_origins, forecast_with_intervals
from kapacity.forecast.naive import SeasonalNaive, naive_errors, seasonal_naive_values
from kapacity.forecast.params import ProfileParams
from kapacity.forecast.profile import SeasonalProfile
from kapacity.forecast.protocol import DEFAULT_LEVELS, Forecast, HistoryModel
from kapacity.forecast.short import DailyCandidates, choose
from kapacity.history import Series

SEARCH_SPACE: dict[str, tuple] = {
    "weeks": (2, 3, 4, 6, 8, 12),
    "decay": (0.6, 0.8, 1.0),
    "robust": (True, False),
    "outlier_days": (0.0, 1.25, 1.5),
    "smooth_minutes": (0, 5, 15, 30, 60),
    "daily_blend": (0.0, 0.25, 0.5, 0.75),
    "pooling": ("weekdays", "all"),
    "level_decay": (0.0, 0.3, 0.6, 0.9),
    "trend": (False, True),
    "recent_decay": (0.0, 0.3, 0.6, 0.85),
    "yearly": (0.0, 0.5, 1.0),
    "scale": (0.9, 0.95, 1.0),
}

Origins = list[tuple[int, int]]
DAILY_BACKTEST_ORIGINS = 4  # origins a day apart the short-history choice is scored on
DAILY_MARGIN = 0.1          # share by which a daily candidate must beat a burst-free weekly model


class AutoProfile(HistoryModel):
    """SeasonalProfile with parameters chosen on the history's last weeks; SeasonalNaive fallback.

    ``passes`` rounds of coordinate search over :data:`SEARCH_SPACE` pick the
    parameters with the lowest validation MAE at up to ``val_origins`` origins (by default
    3, or 2 when each holds a week of 5-minute or finer data: enough points, half the time).
    When that MAE is above ``fallback_ratio`` times seasonal naive's on the same
    points, the forecast is seasonal naive's (the fit is poor).
    """

    alias = "AutoProfile"

    def __init__(self, *, calendar: EventCalendar | None = None, passes: int = 2,
                 val_origins: int | None = None, fallback_ratio: float = 1.0,
                 start: ProfileParams | None = None,
                 search: dict[str, tuple] | None = None, min_gain: float = 0.0,
                 regular_days: bool = True) -> None:
        _check_settings(passes, val_origins, fallback_ratio, min_gain)
        self.min_gain = min_gain
        self.regular_days = regular_days
        self.calendar = calendar
        self.passes, self.val_origins, self.fallback_ratio = passes, val_origins, fallback_ratio
        self.start = start or ProfileParams()
        self.search = dict(SEARCH_SPACE if search is None else search)
        _check_search(self.start, self.search)

    def predict(self, h: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        history, levels = self.checked(h, levels)
        max_weeks = max([self.start.weeks, *self.search.get("weeks", ())])
        engine = ProfileEngine(Grid.build(history, h, self.calendar),
                               min(max_weeks, _weeks_available(history)))
        calibration = calibration_origins(history, h)
        validation = calibration[:self._validation_count(calibration)]
        params, score = self._search(engine, validation, history)
        naive = naive_errors(engine.grid.y, validation, engine.grid.slot, history.per_week)
        naive_score = _mae(naive) if naive else math.inf
        fell_back = bool(naive) and score > (self.fallback_ratio * naive_score
                                             + _tolerance(engine.grid, history))
        daily = DailyCandidates(engine.grid)
        _, bursts = daily.regular(history.n)
        why = _why_daily(history, bursts)
        if why and validation:
            return self._daily_choice(engine, daily, params, fell_back, why, bursts, history, h,
                                      levels, validation, calibration)
        if fell_back:
            notes = (f"profile validation MAE {score:.4g} above seasonal naive's "
                     f"{naive_score:.4g}: fell back to SeasonalNaive",)
            calibration = [(m, k) for m, k in calibration if m >= history.per_week]
            model, used, mean, errors = _naive_forecast(engine, history, h, calibration)
        else:
            notes = ()
            model, used = SeasonalProfile.alias, params.as_dict()
            mean, errors = engine.forecast(history.n, h, params), engine.errors(params, calibration)
        used = {**used, "selected_by": self.alias, "validation_mae": round_or_none(score),
                "naive_validation_mae": round_or_none(naive_score)}
        return forecast_with_intervals(history, mean, errors, levels, model, used, notes,
                                       event_days=engine.grid.excluded, origins=calibration)

    def _daily_choice(self, engine: ProfileEngine, daily: DailyCandidates, params: ProfileParams,
                      fell_back: bool, why: str, bursts: Bursts, history: Series, h: int,
                      levels: tuple[float, ...], validation: Origins,
                      calibration: Origins) -> Forecast:
        """Short or bursty history: the weekly model competes with the daily candidates on a
        rolling-origin backtest of the series itself; the choice and its scores are recorded."""
        grid = engine.grid
        if history.n < 2 * history.per_week:
            validation = _daily_origins(history, h, validation)
        if fell_back:
            weekly = (SeasonalNaive.alias, lambda m, k: seasonal_naive_values(
                grid.y, m, k, grid.slot, history.per_week))
        else:
            weekly = (SeasonalProfile.alias, lambda m, k: engine.forecast(m, k, params))
        runs = {weekly[0]: weekly[1], **daily.candidates()}
        # without dominant bursts the weekly model is a fair default: a daily candidate must
        # beat it clearly, not by the luck of a few origins
        margin = 0.0 if bursts.dominate else DAILY_MARGIN
        chosen, scores = choose(runs, grid.y, validation, margin)
        run = runs[chosen]
        if chosen == SeasonalProfile.alias:
            model, used = chosen, params.as_dict()
        elif chosen == SeasonalNaive.alias:
            model, used = chosen, {"season": "week"}
        else:
            model, used = DailyCandidates.ALIASES[chosen], {"candidate": chosen}
        used = {**used, "selected_by": self.alias, "bursts": bursts.as_dict(),
                "choice": {"why": why, "chosen": chosen, "backtest_mae": scores,
                           "backtest_origins": len(validation), "incumbent_margin": margin,
                           "backtest_horizon_intervals": validation[0][1]}}
        note = (f"{why}: {chosen} chosen by rolling-origin backtest over "
                f"{len(validation)} origins (MAE {scores[chosen]})")
        mean = run(history.n, h)
        errors = [(grid.y[m:m + k], run(m, k)) for m, k in calibration]
        return forecast_with_intervals(history, mean, errors, levels, model, used, (note,),
                                       event_days=grid.excluded, origins=calibration)

    def _validation_count(self, calibration: Origins) -> int:
        if self.val_origins is not None:
            return self.val_origins
        return 2 if calibration and calibration[0][1] >= 2016 else 3

    def _search(self, engine: ProfileEngine, validation: Origins,
                history: Series) -> tuple[ProfileParams, float]:
        """Coordinate search from ``start``: each pass tries every value of every parameter."""
        weeks_available = _weeks_available(history)
        best = replace(self.start, weeks=min(self.start.weeks, weeks_available))
        if not validation:
            return best, math.inf
        score = _ValidationScore(engine, validation, self.regular_days)
        skipped = set()
        if not all(engine.has_year(m) for m, _ in validation):
            skipped.add("yearly")
        if history.step >= 3600:
            skipped.add("smooth_minutes")
        best_score = score(best)
        for _ in range(self.passes):
            best, best_score, improved = self._one_pass(best, best_score, score, skipped,
                                                        weeks_available)
            if not improved:
                break
        return best, best_score

    def _one_pass(self, best: ProfileParams, best_score: float, score: _ValidationScore,
                  skipped: set[str], weeks_available: int) -> tuple[ProfileParams, float, bool]:
        improved = False
        for name, values in self.search.items():
            if name in skipped:
                continue
            for value in values:
                if name == "weeks" and value > weeks_available and value != values[0]:
                    continue
                candidate = replace(best, **{name: value})
                s = score(candidate)
                if s < best_score * (1 - self.min_gain) - 1e-12:
                    best, best_score, improved = candidate, s, True
        return best, best_score, improved


class _ValidationScore:
    """Validation MAE of a parameter set (cached): its forecasts at the validation origins.

    With ``regular_days``, event days are left out where no year of history can explain
    them: parameters are chosen for regular traffic, so a holiday in the validation weeks
    does not steer them. With a year of history the events get last year's uplift, and
    their errors count.
    """

    def __init__(self, engine: ProfileEngine, validation: Origins, regular_days: bool) -> None:
        self.engine, self.validation = engine, validation
        grid = engine.grid
        actuals = [grid.y[m:m + h] for m, h in validation]
        if regular_days:
            actuals = [np.where(grid.excluded[m:m + h], np.nan, a) if self._blank(m, h) else a
                       for (m, h), a in zip(validation, actuals, strict=True)]
        self.targets = [(np.nan_to_num(a), (~np.isnan(a)).astype(float)) for a in actuals]
        self.weight = sum(float(w.sum()) for _, w in self.targets)
        self._cache: dict[ProfileParams, float] = {}

    def _blank(self, m: int, h: int) -> bool:
        return bool(self.engine.grid.excluded[m:m + h].any()) and not self.engine.has_year(m)

    def __call__(self, p: ProfileParams) -> float:
        if p not in self._cache:
            self._cache[p] = self._score(p)
        return self._cache[p]

    def _score(self, p: ProfileParams) -> float:
        if self.weight == 0:
            return math.inf
        total = 0.0
        for (m, h), (a0, w) in zip(self.validation, self.targets, strict=True):
            f = self.engine.forecast(m, h, p)
            total += float((np.abs(a0 - np.maximum(f, 0)) * w).sum())
        return total / self.weight


def _naive_forecast(engine: ProfileEngine, history: Series, h: int,
                    calibration: Origins) -> tuple[str, dict, np.ndarray, Errors]:
    """The fallback: seasonal naive's model, parameters, forecast and calibration errors."""
    grid, P = engine.grid, history.per_week
    mean = seasonal_naive_values(grid.y, history.n, h, grid.slot, P)
    errors = naive_errors(grid.y, calibration, grid.slot, P)
    return SeasonalNaive.alias, {"season": "week"}, mean, errors


def _daily_origins(history: Series, h: int, fallback: Origins) -> Origins:
    """For a short history: backtest origins a day apart (horizons overlap), newest first, each
    with two days before it, up to :data:`DAILY_BACKTEST_ORIGINS`: more of the scarce history
    is scored than at origins a horizon apart."""
    k, D = min(h, history.per_week), history.per_day
    out = [(m, k) for m in range(history.n - k, 2 * D - 1, -D)][:DAILY_BACKTEST_ORIGINS]
    return out or fallback


def _why_daily(history: Series, bursts: Bursts) -> str:
    """Why the daily candidates compete ('' when the weekly model alone decides)."""
    days = history.n / history.per_day
    if history.n < 2 * history.per_week:
        return f"history of {days:.1f} days is shorter than two weekly cycles"
    if bursts.dominate:
        return (f"bursts dominate (max {bursts.max_over_median:.0f}x the median, "
                f"above {BURST_RATIO:g}x)")
    return ""


def _mae(errors: Errors) -> float:
    total, count = 0.0, 0
    for actual, f in errors:
        ok = ~np.isnan(actual) & ~np.isnan(f)
        total += float(np.abs(actual[ok] - np.maximum(f[ok], 0)).sum())
        count += int(ok.sum())
    return total / count if count else math.inf


def _tolerance(grid: Grid, history: Series) -> float:
    """A millionth of the traffic level: float32 sums are not exact."""
    return 1e-6 * float(np.nanmean(np.abs(grid.y[:history.n]))) if history.observed else 0.0


def _weeks_available(history: Series) -> int:
    return max(1, history.n // history.per_week)


def _check_settings(passes: int, val_origins: int | None, fallback_ratio: float,
                    min_gain: float) -> None:
    if not 1 <= passes <= 5:
        raise ParameterError(f"passes={passes} outside 1 to 5")
    if val_origins is not None and not 1 <= val_origins <= 12:
        raise ParameterError(f"val_origins={val_origins} outside 1 to 12")
    if not 0.5 <= fallback_ratio <= 2:
        raise ParameterError(f"fallback_ratio={fallback_ratio} outside 0.5 to 2")
    if not 0 <= min_gain < 0.5:
        raise ParameterError(f"min_gain={min_gain} outside 0 to 0.5")


def _check_search(start: ProfileParams, search: dict[str, tuple]) -> None:
    """Every searched name is a parameter, and every candidate value is valid (fails early)."""
    for name, values in search.items():
        if name not in ProfileParams.__dataclass_fields__:
            raise ParameterError(f"unknown search parameter {name!r}")
        for value in values:
            replace(start, **{name: value})
