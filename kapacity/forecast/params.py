"""SeasonalProfile's parameters: what each one does, and their accepted ranges."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from kapacity.errors import ParameterError


@dataclass(frozen=True)
class ProfileParams:
    """SeasonalProfile's parameters; construction validates them."""

    weeks: int = 6                # weeks of history in the profile
    decay: float = 0.8            # weight of each older week relative to the next
    robust: bool = True           # clip each slot's outliers (3 MADs) before averaging weeks
    outlier_days: float = 1.5     # drop days whose total is off by this factor (0: keep all)
    smooth_minutes: int = 0       # moving-average width along the week (0: none)
    daily_blend: float = 0.0      # weight of the day-pooled shape (0: pure weekly shape)
    pooling: str = "weekdays"     # days pooled for the daily shape: "all" or "weekdays"
    level_decay: float = 0.5      # weight of each older week's level (0: last week only)
    trend: bool = False           # damped growth trend of weekly levels
    damping: float = 0.9          # per-week damping of that trend
    recent_hours: int = 24        # window of the short-term level correction
    recent_decay: float = 0.0     # per-day persistence of that correction (0: off)
    yearly: float = 0.0           # weight of last year's deviations around the same dates
    events: float = 1.0           # weight of last year's uplift on the same named event days
    scale: float = 1.0            # final factor: below 1 moves a mean towards the median of
                                  # bursty traffic (MAE is smallest at the median)

    def __post_init__(self) -> None:
        problems = [f"{name}={_shown(getattr(self, name))} ({accepted})"
                    for name, ok, accepted in _RANGES if not ok(getattr(self, name))]
        if problems:
            raise ParameterError("invalid SeasonalProfile parameters: " + ", ".join(problems))

    def as_dict(self) -> dict:
        return asdict(self)


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _between(lo: float, hi: float) -> Callable[[Any], bool]:
    return lambda value: lo <= value <= hi


# (parameter, test, what is accepted), in the order problems are reported
_RANGES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("weeks", _between(1, 104), "1 to 104"),
    *((name, _between(0, 1), "0 to 1")
      for name in ("decay", "level_decay", "damping", "daily_blend", "yearly", "events")),
    ("scale", _between(0.5, 1.5), "0.5 to 1.5"),
    ("recent_decay", lambda value: 0 <= value < 1, "0 to below 1"),
    ("outlier_days", lambda value: value == 0 or 1 < value <= 10, "0, or above 1 up to 10"),
    ("smooth_minutes", _between(0, 24 * 60), "0 to 1440"),
    ("recent_hours", _between(1, 24 * 7), "1 to 168"),
    ("pooling", lambda value: value in {"all", "weekdays"}, "'all' or 'weekdays'"),
)
