"""How the app writes numbers and dates, in one place: every page formats through these.

Numbers get thousands separators and no trailing noise ("1,910.8", never
"1910.800000"); dates are ISO days ("2026-12-05"), moments add the minute and
UTC. A missing value is written as a dash, never "None" or "nan".
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd

from clikit import counted

MISSING = "–"


def missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def number(value, digits: int = 0) -> str:
    """1910.8 -> "1,911" (digits=0) or "1,910.8" (digits=1); whole numbers lose their ".0"."""
    if missing(value):
        return MISSING
    value = float(value)
    if digits and math.isclose(value, round(value)):
        digits = 0
    return f"{value:,.{digits}f}"


def points(value) -> str:
    """Rule points, to one decimal where they have one: "7.5", "1,240"."""
    return number(value, 1)


def pct(value, digits: int = 1) -> str:
    return MISSING if missing(value) else f"{float(value):.{digits}f}%"


def signed(value, digits: int = 1, unit: str = "") -> str:
    return MISSING if missing(value) else f"{float(value):+,.{digits}f}{unit}"


def rate(value, unit: str = "req/s") -> str:
    """A request rate with its unit: "1,910.8 req/s"."""
    return MISSING if missing(value) else f"{number(value, 1)} {unit}"


def day(value) -> str:
    """A date (or the day of a moment, or an ISO text) as "2026-12-05"."""
    if missing(value) or value == "":
        return MISSING
    if isinstance(value, str):
        return value[:10]
    if isinstance(value, datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def moment(value) -> str:
    """A point in time as "2026-12-05 21:20 UTC" (stored times are UTC)."""
    if missing(value) or value == "":
        return MISSING
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC")


def count(n: int, thing: str, plural: str | None = None) -> str:
    """"1 problem", "3 problems": never "problem(s)" (the same words as every CLI's)."""
    return counted(n, thing, plural)
