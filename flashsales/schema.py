"""The request a business developer files, validated field by field.

The same model serves the CLI (a JSON file) and the app's form: call
:func:`validate_request` with the raw mapping and the database's context; it
returns a :class:`SaleRequestIn` or raises :class:`InputError` whose problems
each name a field (``countries.1``, ``ends_at``...) and what would be accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from clikit import counted
from flashsales.errors import FieldProblem, InputError

REQUEST_KEYS = (
    "merchant_id", "merchant_name", "merchant_category", "reporter", "key_account_manager",
    "solution_engineer", "countries", "starts_at", "ends_at", "expected_peak_rpm",
    "expected_multiplier", "notes",
)
MAX_PEAK_RPM = 10_000_000  # far above any merchant we serve; a typo guard, not a policy
MAX_MULTIPLIER = 100.0  # the largest flash sale seen was 40x normal traffic
MAX_DURATION = timedelta(days=14)
MAX_LEAD_TIME = timedelta(days=366)
PERSON_PATTERN = r"^[A-Za-z0-9._+'-]+(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
_HINTS = {
    "starts_at": "ISO 8601 with a UTC offset, e.g. 2026-11-27T10:00:00+01:00",
    "ends_at": "ISO 8601 with a UTC offset, e.g. 2026-11-27T14:00:00+01:00",
    "reporter": "a user name (jane.doe) or an e-mail address",
    "key_account_manager": "a user name (jane.doe) or an e-mail address",
    "solution_engineer": "a user name (jane.doe) or an e-mail address",
    "merchant_id": "letters, digits and _.:- (up to 64), starting with a letter or digit",
}

Person = Annotated[str, Field(min_length=1, max_length=200, pattern=PERSON_PATTERN)]


@lru_cache(maxsize=1)
def iso_country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, from the ``holidays`` package's country registry."""
    import holidays

    return frozenset(code for code in holidays.list_supported_countries() if len(code) == 2)


class SaleRequestIn(BaseModel):
    """One flash-sale announcement, as the JSON file or the form gives it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    merchant_id: str = Field(pattern=ID_PATTERN)
    merchant_name: str = Field(min_length=1, max_length=200)
    merchant_category: str = Field(min_length=1, max_length=64)
    reporter: Person
    key_account_manager: Person
    solution_engineer: Person
    countries: list[str] = Field(min_length=1, max_length=60)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    expected_peak_rpm: float | None = Field(default=None, gt=0, le=MAX_PEAK_RPM)
    expected_multiplier: float | None = Field(default=None, gt=1, le=MAX_MULTIPLIER)
    notes: str = Field(default="", max_length=4000)

    @field_validator("countries", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [v.strip().upper() if isinstance(v, str) else v for v in value]
        return value

    @field_validator("merchant_category", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    def utc_window(self) -> tuple[datetime, datetime]:
        """Start and end as naive UTC, as stored."""
        return _naive_utc(self.starts_at), _naive_utc(self.ends_at)

    def utc_offset(self) -> str:
        offset = self.starts_at.utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@dataclass(frozen=True)
class ValidationContext:
    """What the database knows that validation needs: categories, merchants, the time."""

    now: datetime  # naive UTC
    categories: frozenset[str]
    merchant_categories: dict[str, str] = field(default_factory=dict)  # merchant id -> category
    merchants_with_history: frozenset[str] = frozenset()


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def load_request_file(path: str | Path) -> dict[str, Any]:
    """Read a request JSON file; syntax errors name the line and column."""
    path = Path(path)
    if not path.is_file():
        raise InputError(FieldProblem("file", f"not found: {path}"), origin=str(path))
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(FieldProblem("file", f"invalid JSON at line {exc.lineno}, column {exc.colno}: "
                                              f"{exc.msg}"), origin=str(path)) from None
    except UnicodeDecodeError:
        raise InputError(FieldProblem("file", "not UTF-8 text"), origin=str(path)) from None
    if not isinstance(raw, dict):
        raise InputError(FieldProblem("file", f"expected a JSON object with keys {list(REQUEST_KEYS)}"),
                         origin=str(path))
    return raw


def validate_request(raw: dict[str, Any], context: ValidationContext, *, origin: str = "") -> SaleRequestIn:
    """Validate shape, then what needs the database and the clock; all problems at once."""
    try:
        request = SaleRequestIn.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(err) for err in exc.errors()]
        problems += _context_problems_raw(raw, context, {p.field.split(".")[0] for p in problems})
        raise InputError(problems, origin=origin) from None
    problems = _context_problems(request, context)
    if problems:
        raise InputError(problems, origin=origin)
    return request


def _problem(err: dict[str, Any]) -> FieldProblem:
    loc = ".".join(str(part) for part in err["loc"]) or "request"
    kind = err["type"]
    top = str(err["loc"][0]) if err["loc"] else ""
    if kind == "extra_forbidden":
        return FieldProblem(loc, f"unknown key; accepted keys: {', '.join(REQUEST_KEYS)}")
    if kind == "missing":
        return FieldProblem(loc, "required")
    message = err["msg"]
    if top in _HINTS:
        message = f"{message} (expected {_HINTS[top]})"
    return FieldProblem(loc, message)


def _context_problems_raw(raw: dict[str, Any], context: ValidationContext, broken: set[str]) -> list[FieldProblem]:
    """Checks against the database for fields that did parse, so one pass shows everything."""
    problems: list[FieldProblem] = []
    category = raw.get("merchant_category")
    if "merchant_category" not in broken and isinstance(category, str):
        problems += _category_problems(category.strip().lower(), raw.get("merchant_id"), context)
    countries = raw.get("countries")
    if "countries" not in broken and isinstance(countries, list):
        problems += _country_problems([str(c).strip().upper() for c in countries])
    return problems


def _context_problems(request: SaleRequestIn, context: ValidationContext) -> list[FieldProblem]:
    problems = _category_problems(request.merchant_category, request.merchant_id, context)
    problems += _country_problems(request.countries)
    start, end = request.utc_window()
    if end <= start:
        problems.append(FieldProblem("ends_at", f"must be after starts_at ({_moment(request.starts_at)}); "
                                                "give a later end"))
    elif end - start > MAX_DURATION:
        problems.append(FieldProblem("ends_at", f"the sale would last {_duration(end - start)}, longer than "
                                                f"{MAX_DURATION.days} days; file a longer campaign as several sales"))
    if start <= context.now:
        problems.append(FieldProblem("starts_at", f"must be in the future (it is now "
                                                  f"{context.now:%Y-%m-%d %H:%M} UTC); give a later start"))
    elif start - context.now > MAX_LEAD_TIME:
        problems.append(FieldProblem("starts_at", "more than a year ahead; file it closer to the date"))
    if request.expected_peak_rpm is None and request.expected_multiplier is None:
        problems.append(FieldProblem("expected_peak_rpm",
                                     "neither expected_peak_rpm nor expected_multiplier was given; give one or both"))
    elif request.expected_peak_rpm is None and request.merchant_id not in context.merchants_with_history:
        problems.append(FieldProblem("expected_peak_rpm",
                                     f"merchant {request.merchant_id} has no traffic history, so a multiplier "
                                     "alone cannot be turned into requests per minute; declare expected_peak_rpm"))
    return problems


def _moment(moment: datetime) -> str:
    """2026-11-27T10:00:00+01:00 as a person writes it: "2026-11-27 10:00 +01:00"."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}" if offset else f"{moment:%Y-%m-%d %H:%M}"


def _duration(span: timedelta) -> str:
    """timedelta(days=28, hours=23) -> "28 days 23 hours" (whole hours; minutes when under an hour)."""
    hours = int(span.total_seconds() // 3600)
    if hours == 0:
        return counted(int(span.total_seconds() // 60), "minute")
    days, hours = divmod(hours, 24)
    return " ".join(counted(n, unit) for n, unit in ((days, "day"), (hours, "hour")) if n)


def _category_problems(category: str, merchant_id: Any, context: ValidationContext) -> list[FieldProblem]:
    if category not in context.categories:
        known = ", ".join(sorted(context.categories)) or "none configured yet"
        return [FieldProblem("merchant_category", f"unknown category {category!r}; known: {known}")]
    registered = context.merchant_categories.get(merchant_id) if isinstance(merchant_id, str) else None
    if registered is not None and registered != category:
        return [FieldProblem("merchant_category",
                             f"merchant {merchant_id} is registered in category {registered!r}, not {category!r}")]
    return []


def _country_problems(countries: list[str]) -> list[FieldProblem]:
    known = iso_country_codes()
    problems = []
    seen: set[str] = set()
    for index, code in enumerate(countries):
        if code not in known:
            problems.append(FieldProblem(f"countries.{index}",
                                         f"{code!r} is not an ISO 3166-1 alpha-2 country code (e.g. SE, DE, US)"))
        elif code in seen:
            problems.append(FieldProblem(f"countries.{index}", f"{code} is listed twice"))
        seen.add(code)
    return problems
