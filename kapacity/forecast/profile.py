"""SeasonalProfile: a level-adjusted robust weekly profile with fixed, validated parameters.

The shape comes from :mod:`~kapacity.forecast.shape`, the level (damped trend,
recent correction) from :mod:`~kapacity.forecast.level`, last year's uplift from
:mod:`~kapacity.forecast.yearly`; :class:`~kapacity.forecast.engine.ProfileEngine`
puts them together from any origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kapacity.calendar import EventCalendar
from kapacity.errors import ParameterError
from kapacity.forecast.engine import ProfileEngine
from kapacity.forecast.grid import Grid
from kapacity.forecast.intervals import calibration_origins, forecast_with_intervals
from kapacity.forecast.params import ProfileParams
from kapacity.forecast.protocol import DEFAULT_LEVELS, Forecast, HistoryModel


class SeasonalProfile(HistoryModel):
    """Level-adjusted robust weekly profile with fixed, validated parameters.

    ``calendar`` names event days (holidays, shopping peaks): they are kept out of
    the profile, and with ``yearly > 0`` take last year's same-event uplift.
    """

    alias = "SeasonalProfile"

    def __init__(self, params: ProfileParams | None = None, *,
                 calendar: EventCalendar | None = None, **overrides) -> None:
        base = params or ProfileParams()
        try:
            self.params = replace(base, **overrides) if overrides else base
        except TypeError as exc:
            raise ParameterError(f"unknown SeasonalProfile parameter: {exc}") from exc
        self.calendar = calendar

    def predict(self, h: int, levels: Sequence[float] = DEFAULT_LEVELS) -> Forecast:
        history, levels = self.checked(h, levels)
        engine = ProfileEngine(Grid.build(history, h, self.calendar), self.params.weeks)
        mean = engine.forecast(history.n, h, self.params)
        calibration = calibration_origins(history, h)
        errors = engine.errors(self.params, calibration)
        return forecast_with_intervals(history, mean, errors, levels, self.alias,
                                       self.params.as_dict(), event_days=engine.grid.excluded,
                                       origins=calibration)
