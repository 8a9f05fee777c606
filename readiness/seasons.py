"""Peak seasons as data: peak window, target, freeze, scope and staged milestones.

A season is written only here, only by the catalog's central roles (readiness
team, admin), and every change is recorded with who, when, before and after.
Rules declare when they are due as an offset from the target
(``due=weeks_before(6)``); a season may move that offset per category or per
rule (``milestones``), and ``due_dates`` turns both into dates for one run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from readiness.catalog import people
from readiness.errors import InputError, NotFound, PermissionDenied
from readiness.models import Domain, Season, SeasonChange
from readiness.rulekit import CATEGORIES, TIERS, RuleMeta, SystemView
from storage import session_scope, utcnow

MANAGERS = frozenset({"readiness_team", "admin"})
SCOPE_KEYS = ("domains", "tiers", "traffic_classes")
TRAFFIC_CLASSES = ("FLAS", "Baseline")
EDITABLE = ("name", "starts_on", "ends_on", "target_date", "target_score", "freeze_on", "scope")
_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")
_OFFSET = re.compile(r"^([+-]?)(\d+)([wd])$")
RULE_PREFIX = "rule:"


def create_season(engine: Engine, *, actor: str, key: str, name: str, starts_on: date, ends_on: date,
                  target_date: date, target_score: float = 100.0, freeze_on: date | None = None,
                  scope: Mapping[str, Iterable[str]] | None = None,
                  milestones: Mapping[str, int | None] | None = None, now: datetime | None = None) -> Season:
    """A new season; ``milestones`` maps a category or ``rule:<id>`` to days from the target."""
    _require_manager(engine, actor)
    if not _KEY.match(key):
        raise InputError(f"season key {key!r}: lower-case letters, digits, '.', '-' or '_' (2-100 characters)")
    season = Season(key=key, name=name, starts_on=starts_on, ends_on=ends_on, target_date=target_date,
                    target_score=target_score, freeze_on=freeze_on,
                    scope=_scope(engine, scope or {}), milestones=_merge_milestones({}, milestones or {}))
    _validate(season)
    with session_scope(engine) as session:
        if session.get(Season, key) is not None:
            raise InputError(f"season {key!r} exists already: change it with `readiness season update {key}`")
        session.add(season)
        session.add(_change(season.key, actor, "created", None, season_record(season), now))
    return season


def update_season(engine: Engine, key: str, *, actor: str, milestones: Mapping[str, int | None] | None = None,
                  now: datetime | None = None, **changes) -> Season:
    """Change fields of an open season (see EDITABLE); a milestone set to None goes back to the rule's default."""
    _require_manager(engine, actor)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InputError(f"season fields {unknown} cannot be changed; accepted: {', '.join(EDITABLE)}")
    with session_scope(engine) as session:
        season = _open_season(session, key)
        before = season_record(season)
        for field, value in changes.items():
            setattr(season, field, _scope(engine, value) if field == "scope" else value)
        if milestones:
            season.milestones = _merge_milestones(season.milestones, milestones)
        _validate(season)
        after = season_record(season)
        if after != before:
            session.add(season)
            session.add(_change(key, actor, "updated", before, after, now))
    return season


def close_season(engine: Engine, key: str, *, actor: str, now: datetime | None = None) -> Season:
    """Close a season after its peak: it is no longer current and can no longer change."""
    _require_manager(engine, actor)
    now = now or utcnow()
    with session_scope(engine) as session:
        season = _open_season(session, key)
        before = season_record(season)
        season.closed_at = now
        session.add(season)
        session.add(_change(key, actor, "closed", before, season_record(season), now))
    return season


def get_season(engine: Engine, key: str) -> Season:
    with session_scope(engine) as session:
        season = session.get(Season, key)
    if season is None:
        raise NotFound(f"no season {key!r}: see `readiness season list`")
    return season


def list_seasons(engine: Engine) -> list[Season]:
    """Every season, most recent peak first."""
    with session_scope(engine) as session:
        return list(session.exec(select(Season).order_by(Season.ends_on.desc(), Season.key)).scalars())


def current_season(engine: Engine, today: date | None = None) -> Season | None:
    """The open season whose peak has not ended and comes first, else the latest open one."""
    today = today or date.today()
    seasons = sorted((s for s in list_seasons(engine) if s.closed_at is None), key=lambda s: (s.ends_on, s.key))
    upcoming = [s for s in seasons if s.ends_on >= today]
    return upcoming[0] if upcoming else (seasons[-1] if seasons else None)


def season_history(engine: Engine, key: str) -> list[dict]:
    """Every change of a season, oldest first: who, when, what, before and after."""
    with session_scope(engine) as session:
        rows = session.exec(select(SeasonChange).where(SeasonChange.season_key == key)
                            .order_by(SeasonChange.id)).scalars()
        return [{"at": c.at, "actor": c.actor, "action": c.action, "before": c.before, "after": c.after}
                for c in rows]


def season_record(season: Season) -> dict:
    """A season as plain JSON-ready data (dates as ISO strings)."""
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {"key": season.key, "name": season.name, "starts_on": iso(season.starts_on),
            "ends_on": iso(season.ends_on), "target_date": iso(season.target_date),
            "target_score": season.target_score, "freeze_on": iso(season.freeze_on),
            "scope": dict(season.scope or {}), "milestones": dict(season.milestones or {}),
            "closed_at": season.closed_at.isoformat(timespec="seconds") if season.closed_at else None}


def season_facts(season: Season) -> dict:
    """What rules may know of the season they are evaluated in (``facts.source("season")``)."""
    return {"key": season.key, "peak_starts_on": season.starts_on.isoformat(),
            "peak_ends_on": season.ends_on.isoformat(), "target_date": season.target_date.isoformat()}


# ------------------------------------------------------------------ milestones


def parse_offset(text: str) -> int:
    """Days from the target for ``-6w``, ``-10d`` or ``0d``; InputError naming what is accepted."""
    match = _OFFSET.match(text.strip())
    if not match:
        raise InputError(f"milestone offset {text!r}: write weeks or days before the target, e.g. -6w or -10d")
    sign, number, unit = match.groups()
    days = int(number) * (7 if unit == "w" else 1)
    return -days if sign == "-" else days


def parse_milestone(text: str) -> tuple[str, int | None]:
    """``capacity=-6w`` or ``rule:ddos_fire_drill=-2w``; ``=default`` removes the season's override."""
    key, sep, value = text.partition("=")
    if not sep:
        raise InputError(f"milestone {text!r}: write CATEGORY=OFFSET or rule:RULE_ID=OFFSET, e.g. capacity=-6w")
    return key.strip(), None if value.strip() == "default" else parse_offset(value)


def milestone_offset(season: Season | None, meta: RuleMeta) -> timedelta | None:
    """When a rule is due relative to the target: the season's rule override, its category
    override, else the rule's own ``due``."""
    overrides = (season.milestones or {}) if season is not None else {}
    for key in (f"{RULE_PREFIX}{meta.id}", meta.category):
        if key in overrides:
            return timedelta(days=overrides[key])
    return meta.due


def due_dates(season: Season | None, metas: Iterable[RuleMeta]) -> dict[str, date]:
    """The due date of every scheduled rule in a season; none without a season (rules are simply due)."""
    if season is None:
        return {}
    offsets = {meta.id: milestone_offset(season, meta) for meta in metas}
    return {rule_id: season.target_date + offset for rule_id, offset in offsets.items() if offset is not None}


def in_scope(season: Season, system: SystemView) -> bool:
    """Whether a system counts for a season's progress; an empty scope list means all."""
    scope = season.scope or {}
    return all(not scope.get(key) or value in scope[key] for key, value in
               (("domains", system.domain), ("tiers", system.tier), ("traffic_classes", system.traffic_class)))


# ------------------------------------------------------------------ checks


def _require_manager(engine: Engine, actor: str) -> None:
    if not people(engine).get(actor, set()) & MANAGERS:
        raise PermissionDenied(f"{actor} cannot change seasons: only the readiness team and admins can "
                               "(the catalog's `readiness_team` and `admins` lists)")


def _open_season(session, key: str) -> Season:
    season = session.get(Season, key)
    if season is None:
        raise NotFound(f"no season {key!r}: create it with `readiness season create`")
    if season.closed_at is not None:
        raise InputError(f"season {key!r} was closed on {season.closed_at:%Y-%m-%d} and cannot change")
    return season


def _validate(season: Season) -> None:
    if not season.name.strip():
        raise InputError("season name: must not be empty")
    if season.starts_on > season.ends_on:
        raise InputError(f"season peak window: starts on {season.starts_on} after it ends on {season.ends_on}")
    if season.target_date > season.ends_on:
        raise InputError(f"season target date {season.target_date}: must be on or before the end of the peak "
                         f"window ({season.ends_on})")
    if not 0 < season.target_score <= 100:
        raise InputError(f"season target score {season.target_score:g}: must be above 0 and at most 100")
    if season.freeze_on is not None and season.freeze_on > season.ends_on:
        raise InputError(f"season freeze date {season.freeze_on}: must be on or before the end of the peak "
                         f"window ({season.ends_on})")


def _scope(engine: Engine, scope: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    unknown = sorted(set(scope) - set(SCOPE_KEYS))
    if unknown:
        raise InputError(f"season scope {unknown}: accepted keys are {', '.join(SCOPE_KEYS)}")
    clean = {key: sorted(set(values)) for key, values in scope.items() if values}
    with session_scope(engine) as session:
        domains = set(session.exec(select(Domain.key)).scalars())
    for key, known in (("domains", domains), ("tiers", set(TIERS)), ("traffic_classes", set(TRAFFIC_CLASSES))):
        wrong = [v for v in clean.get(key, []) if v not in known]
        if wrong:
            raise InputError(f"season scope {key}: unknown {wrong}; accepted: {', '.join(sorted(known))}")
    return clean


def _merge_milestones(current: Mapping[str, int], changes: Mapping[str, int | None]) -> dict[str, int]:
    merged = dict(current)
    for key, days in changes.items():
        rule_id = key.removeprefix(RULE_PREFIX)
        if key not in CATEGORIES and not (key.startswith(RULE_PREFIX) and re.match(r"^[a-z][a-z0-9_]{2,80}$", rule_id)):
            raise InputError(f"milestone {key!r}: a category ({', '.join(CATEGORIES)}) or rule:RULE_ID")
        if days is not None and days > 0:
            raise InputError(f"milestone {key}: {days} days after the target; a milestone is on or before it")
        if days is None:
            merged.pop(key, None)
        else:
            merged[key] = int(days)
    return dict(sorted(merged.items()))


def _change(key: str, actor: str, action: str, before: dict | None, after: dict | None,
            now: datetime | None) -> SeasonChange:
    return SeasonChange(season_key=key, at=now or utcnow(), actor=actor[:200], action=action,
                        before=before, after=after)
