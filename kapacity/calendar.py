"""Event days: public holidays of a country (the ``holidays`` package) and shopping peaks.

Shopping peaks are the same everywhere a payments company sees them: Black
Friday and Cyber Monday (the Friday and Monday after US Thanksgiving), Christmas
Eve, Christmas Day, Boxing Day and New Year's Eve. Each day is named, so a
forecast can look up how last year's same event differed from a normal day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from kapacity.errors import ParameterError

PEAK_EVENTS = ("Black Friday", "Cyber Monday", "Christmas Eve", "Christmas Day", "Boxing Day",
               "New Year's Eve")
EPOCH = date(1970, 1, 1)


def thanksgiving(year: int) -> date:
    """US Thanksgiving: the fourth Thursday of November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7 + 21)


def shopping_peaks(year: int) -> dict[date, str]:
    tg = thanksgiving(year)
    return {
        tg + timedelta(days=1): "Black Friday",
        tg + timedelta(days=4): "Cyber Monday",
        date(year, 12, 24): "Christmas Eve",
        date(year, 12, 25): "Christmas Day",
        date(year, 12, 26): "Boxing Day",
        date(year, 12, 31): "New Year's Eve",
    }


@dataclass(frozen=True)
class EventCalendar:
    """Named event days for one country (and optional subdivision), as epoch day numbers."""

    country: str | None = "US"
    subdiv: str | None = None
    peaks: bool = True

    def __post_init__(self) -> None:
        if self.country is not None:
            try:
                holidays.country_holidays(self.country, subdiv=self.subdiv, years=2020)
            except (NotImplementedError, KeyError) as exc:
                raise ParameterError(
                    f"holiday calendar {self.country!r}"
                    f"{f' subdivision {self.subdiv!r}' if self.subdiv else ''} not known to the "
                    "holidays package; use an ISO country code like US, GB, DE, AU") from exc

    def days(self, first_day: int, last_day: int) -> dict[int, str]:
        """``{epoch_day: name}`` for event days between two epoch day numbers (inclusive)."""
        years = range((EPOCH + timedelta(days=first_day)).year - 1,
                      (EPOCH + timedelta(days=last_day)).year + 2)
        table = _table(self.country, self.subdiv, self.peaks, tuple(years))
        return {d: n for d, n in table.items() if first_day <= d <= last_day}

    def describe(self) -> str:
        where = "no public holidays" if self.country is None else (
            f"public holidays of {self.country}{f'-{self.subdiv}' if self.subdiv else ''}")
        return where + (" and shopping peaks (" + ", ".join(PEAK_EVENTS) + ")" if self.peaks else "")


@lru_cache(maxsize=64)
def _table(country: str | None, subdiv: str | None, peaks: bool,
           years: tuple[int, ...]) -> dict[int, str]:
    out: dict[int, str] = {}
    if country is not None:
        calendar = holidays.country_holidays(country, subdiv=subdiv, years=years)
        for day, name in sorted(calendar.items()):
            out[(day - EPOCH).days] = name.split(";")[0].strip()
    if peaks:
        for year in years:
            for day, name in shopping_peaks(year).items():
                out[(day - EPOCH).days] = name
    return out


def same_event_last_year(day: int, name: str, table: dict[int, str]) -> int | None:
    """The epoch day of the same-named event about a year before ``day``."""
    candidates = [d for d, n in table.items() if n == name and 300 <= day - d <= 430]
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs(day - 365 - d))


def epoch_days(dates: Iterable[date]) -> list[int]:
    return [(d - EPOCH).days for d in dates]
