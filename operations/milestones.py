"""Nudges tied to the season's milestones: before one, the teams due; after it, the overdue list.

A milestone is a due date of the current season (``readiness.due_dates``: each
rule's offset from the target, moved by the season's ``milestones``).

- **Before** a milestone (within ``lead_days``), each team with results not yet
  met for rules due at that milestone gets one message: what to fix (rule, title,
  systems, the rule's remediation) and the link to each system's page in the
  app. Its key names the season, the milestone and the team, so it is stored and
  sent once, however often the job runs.
- **After** a milestone, the results still not met for rules already due go to
  each domain's channel (its leads and architects), one list per domain. Its key
  holds a fingerprint of the list: a rerun with the same list adds nothing
  (quiet when nothing changed); a changed list is a new message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import Engine

import readiness
from clikit import counted
from operations.digests import Message
from readiness import NOT_YET_MET_STATUSES, load_rules, ownership, results, run_current_at

DEFAULT_LEAD_DAYS = 14
MAX_SYSTEMS = 10


def system_link(app_url: str, system_id: str) -> str:
    """The system's page in the app (``/system?id=...``)."""
    return f"{app_url.rstrip('/')}/system?id={quote(system_id)}"


def build_milestone_nudges(engine: Engine, *, now: datetime, app_url: str, rules_dirs: Sequence[Path] = (),
                           ruleset=None, lead_days: int = DEFAULT_LEAD_DAYS) -> list[Message]:
    """Nudges to the teams due at a coming milestone and overdue lists per domain, from the latest run."""
    today = now.date()
    season = readiness.current_season(engine, today)
    if season is None:
        return []
    ruleset = ruleset if ruleset is not None else load_rules(rules_dirs)
    metas = {r.meta.id: r.meta for r in ruleset.rules}
    due = readiness.due_dates(season, metas.values())
    coming = {rule_id: when for rule_id, when in due.items() if 0 <= (when - today).days <= lead_days}
    passed = {rule_id: when for rule_id, when in due.items() if when < today}
    if not coming and not passed:
        return []
    run = run_current_at(engine, now)
    if run is None:
        return []
    owners = ownership(engine)
    open_results = [r for r in results(engine, run_id=run.id, statuses=tuple(sorted(NOT_YET_MET_STATUSES)))
                    if r.rule_id in coming or r.rule_id in passed]
    messages = []
    by_team: dict[tuple[date, str], list] = {}
    by_domain: dict[str, list] = {}
    for result in open_results:
        team, domain = owners.systems.get(result.system_id, (None, None))
        if team is None or owners.teams.get(team, {}).get("retired"):
            continue
        if result.rule_id in coming:
            by_team.setdefault((coming[result.rule_id], team), []).append(result)
        elif domain is not None and not owners.domains.get(domain, {}).get("retired"):
            by_domain.setdefault(domain, []).append(result)
    for (when, team), found in sorted(by_team.items()):
        messages.append(_nudge(season, when, team, owners.teams[team], found, metas, app_url, today))
    for domain, found in sorted(by_domain.items()):
        messages.append(_overdue(season, domain, owners, found, passed, metas, app_url, today))
    return messages


def _nudge(season, when: date, team: str, info: Mapping, found: list, metas: Mapping, app_url: str,
           today: date) -> Message:
    days = (when - today).days
    in_days = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    by_rule: dict[str, list[str]] = {}
    for result in found:
        by_rule.setdefault(result.rule_id, []).append(result.system_id)
    systems = sorted({r.system_id for r in found})
    subject = (f"{season.name}: {info['name']} has {counted(len(by_rule), 'rule')} to meet by "
               f"{when.isoformat()} ({in_days})")
    lines = [f"The {season.name} milestone of {when.isoformat()} is {in_days}. These rules are due then and "
             f"not yet met by the systems of {info['name']} ({team}):", ""]
    for rule_id, system_ids in sorted(by_rule.items()):
        meta = metas.get(rule_id)
        lines.append(f"- {rule_id} {meta.title if meta else ''}".rstrip() + f": {_systems(system_ids)}")
        if meta is not None:
            lines.append(f"  What to do: {meta.remediation.strip()}")
    lines += ["", "Your systems in the app:"] + [f"  {s}: {system_link(app_url, s)}" for s in systems[:MAX_SYSTEMS]]
    if len(systems) > MAX_SYSTEMS:
        lines.append(f"  and {len(systems) - MAX_SYSTEMS} more")
    lines += ["", "After the milestone, what is still not met is listed to the domain's leads as overdue."]
    key = f"milestone:{season.key}:{when.isoformat()}:team:{team}"
    return Message("milestone", f"team:{team}", subject, "\n".join(lines),
                   tuple(sorted(set(info["members"]) | set(info["leads"]))),
                   {"key": key, "season": season.key, "milestone": when.isoformat(), "team": team,
                    "rules": sorted(by_rule), "systems": systems})


def _overdue(season, domain: str, owners, found: list, passed: Mapping[str, date], metas: Mapping, app_url: str,
             today: date) -> Message:
    info = owners.domains[domain]
    by_team: dict[str, list] = {}
    for result in found:
        by_team.setdefault(owners.systems[result.system_id][0], []).append(result)
    items = sorted((passed[r.rule_id], r.rule_id, r.system_id) for r in found)
    fingerprint = hashlib.sha256("|".join(f"{w}:{r}:{s}" for w, r, s in items).encode()).hexdigest()[:16]
    subject = (f"{season.name}: {counted(len(items), 'result')} overdue in domain {info['name']} "
               f"({counted(len(by_team), 'team')})")
    lines = [f"Results of rules already due in {season.name} and still not met on {today.isoformat()}, "
             f"domain {info['name']} ({domain}):", ""]
    for team, team_results in sorted(by_team.items()):
        name = owners.teams.get(team, {}).get("name", team)
        lines.append(f"{name} ({team}):")
        by_rule: dict[tuple[date, str], list[str]] = {}
        for result in team_results:
            by_rule.setdefault((passed[result.rule_id], result.rule_id), []).append(result.system_id)
        for (when, rule_id), system_ids in sorted(by_rule.items()):
            title = metas[rule_id].title if rule_id in metas else rule_id
            lines.append(f"  due {when.isoformat()}: {rule_id} {title}: {_systems(system_ids)}")
        lines.append("")
    first = sorted({s for _, _, s in items})[0]
    lines.append(f"Each system's page shows why, for example {system_link(app_url, first)}")
    key = f"overdue:{season.key}:domain:{domain}:{fingerprint}"
    return Message("overdue", f"domain:{domain}", subject, "\n".join(lines),
                   tuple(sorted(set(info["leads"]) | set(info["architects"]))),
                   {"key": key, "season": season.key, "domain": domain, "teams": sorted(by_team),
                    "overdue": [{"due": w.isoformat(), "rule_id": r, "system_id": s} for w, r, s in items]})


def _systems(system_ids: Sequence[str]) -> str:
    shown = sorted(set(system_ids))
    text = ", ".join(shown[:MAX_SYSTEMS])
    return text + (f" and {len(shown) - MAX_SYSTEMS} more" if len(shown) > MAX_SYSTEMS else "")

