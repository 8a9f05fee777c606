"""Weekly digests per team and domain (reminders: ``operations.reminders``; sending: ``operations.channel``).

A digest tells a team (members and leads) or a domain (architects and leads):
its score and how it moved since the last digest, which results changed
(``readiness.changes`` between the run current at the last digest and the
latest run), what is due before the next milestone (rules with a ``due`` date
not yet met by its systems), and what waits for a review decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

import readiness
from clikit import counted
from readiness import (
    LOSING_STATUSES,
    MET_STATUSES,
    NOT_YET_MET_STATUSES,
    changes,
    current_peak_event,
    load_rules,
    ownership,
    results,
    run_current_at,
    scores,
)

MAX_LINES = 25  # per section; the rest is counted


@dataclass(frozen=True)
class Message:
    kind: str  # digest | reminder
    unit: str  # team:<key>, domain:<key>, waiver:<id>, review:<id>
    subject: str
    body: str
    recipients: tuple[str, ...]
    data: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        return asdict(self)


def _run_at(engine: Engine, moment: datetime) -> tuple[int, datetime] | None:
    """The latest complete run that started at or before ``moment``."""
    run = run_current_at(engine, moment)
    return (run.id, run.started_at) if run is not None else None


def _owners(engine: Engine) -> tuple[dict[str, tuple[str, str]], dict, dict]:
    """system -> (team, domain); team key -> row data; domain key -> row data."""
    owners = ownership(engine)
    return owners.systems, owners.teams, owners.domains


def _due_dates(engine: Engine, ruleset, today: date) -> dict[str, date]:
    """Each scheduled rule's due date in the current season (its milestones)."""
    return readiness.due_dates(readiness.current_season(engine, today), (r.meta for r in ruleset.rules))


def _milestone(engine: Engine, ruleset, today: date) -> tuple[date | None, str]:
    """Everything due by the peak target date, and at least the next rule due date."""
    upcoming = sorted({due for due in _due_dates(engine, ruleset, today).values() if due >= today})
    event = current_peak_event(engine, today)
    target = event.target_date if event is not None and event.target_date >= today else None
    candidates = [d for d in (upcoming[0] if upcoming else None, target) if d is not None]
    if not candidates:
        return None, ""
    milestone = max(candidates)
    label = f"{event.name} target date" if target == milestone and event is not None else "next due date"
    return milestone, label


def build_digests(engine: Engine, *, now: datetime, since: datetime, rules_dirs: Sequence[Path] = (),
                  ruleset=None, levels: Sequence[str] = ("team", "domain")) -> list[Message]:
    """One digest per team and per domain in service (both by default), from stored runs only."""
    from governance import list_reviews, list_waivers

    latest = _run_at(engine, now)
    if latest is None:
        return []
    run_id, run_at = latest
    previous = _run_at(engine, since)
    previous = previous if previous is not None and previous[0] != run_id else None
    ruleset = ruleset if ruleset is not None else load_rules(rules_dirs)
    titles = {r.meta.id: r.meta.title for r in ruleset.rules}
    systems, teams, domains = _owners(engine)

    def units_of(system_id: str) -> list[tuple[str, str]]:
        team, domain = systems.get(system_id, (None, None))
        return [u for u in (("team", team), ("domain", domain)) if u[1] is not None]

    now_scores = {(u["level"], u["key"]): u for level in levels for u in scores(engine, level, run_id=run_id)}
    old_scores = ({(u["level"], u["key"]): u for level in levels
                   for u in scores(engine, level, run_id=previous[0])} if previous else {})
    changed: dict[tuple[str, str], list[dict]] = {}
    if previous:
        for item in changes(engine, previous[0], run_id=run_id)["results_changed"]:
            for unit in units_of(item["system_id"]):
                changed.setdefault(unit, []).append(item)
    milestone, milestone_label = _milestone(engine, ruleset, now.date())
    due_rules = {rule_id: due for rule_id, due in _due_dates(engine, ruleset, now.date()).items()
                 if milestone and now.date() <= due <= milestone}
    due: dict[tuple[str, str], list[dict]] = {}
    if due_rules:
        for result in results(engine, run_id=run_id, statuses=tuple(sorted(NOT_YET_MET_STATUSES))):
            if result.rule_id in due_rules:
                for unit in units_of(result.system_id):
                    due.setdefault(unit, []).append({"rule_id": result.rule_id, "due": due_rules[result.rule_id],
                                                     "system_id": result.system_id, "status": result.status})
    waiting: dict[tuple[str, str], list[dict]] = {}
    for review in list_reviews(engine, state="pending", now=now):
        for unit in units_of(review["system_id"]):
            waiting.setdefault(unit, []).append({"what": "review", **review})
    for waiver in list_waivers(engine, state="requested", now=now):
        for unit in units_of(waiver["system_id"]):
            waiting.setdefault(unit, []).append({"what": "waiver", **waiver})

    messages = []
    for (level, key), unit in sorted(now_scores.items()):
        info = teams.get(key) if level == "team" else domains.get(key)
        if info is None or info["retired"]:
            continue
        recipients = (info["members"] + info["leads"]) if level == "team" else (info["architects"] + info["leads"])
        old = old_scores.get((level, key))
        data = {
            "level": level, "key": key, "name": unit["name"], "run_id": run_id, "run_at": run_at.isoformat(),
            "previous_run_id": previous[0] if previous else None,
            "previous_run_at": previous[1].isoformat() if previous else None,
            "score": unit["score"], "previous_score": old["score"] if old else None,
            "points_outstanding": unit["points_outstanding"], "systems": unit["systems"],
            "changed": changed.get((level, key), []),
            "milestone": milestone.isoformat() if milestone else None, "milestone_label": milestone_label,
            "due": sorted(due.get((level, key), []), key=lambda d: (d["due"], d["rule_id"], d["system_id"])),
            "waiting": waiting.get((level, key), []),
        }
        subject = (f"Readiness digest {now.date().isoformat()}: {level} {unit['name']} "
                   f"scores {unit['score']:.1f}" + (f" ({_delta(unit['score'] - old['score'])})" if old else ""))
        messages.append(Message("digest", f"{level}:{key}", subject, _digest_body(data, titles, now),
                                tuple(sorted(set(recipients))), _jsonable(data)))
    return messages



def _delta(value: float) -> str:
    return f"{value:+.1f}" if abs(value) >= 0.05 else "unchanged"


def _digest_body(data: dict, titles: Mapping[str, str], now: datetime) -> str:
    lines = [f"Weekly readiness digest for {data['level']} {data['name']} ({data['key']}), "
             f"{now.date().isoformat()}", ""]
    score = f"Score: {data['score']:.1f}"
    if data["previous_score"] is not None:
        score += (f" (was {data['previous_score']:.1f} at run {data['previous_run_id']} on "
                  f"{data['previous_run_at'][:10]}: {_delta(data['score'] - data['previous_score'])})")
    lines += [f"{score}; {data['points_outstanding']:.1f} points outstanding over {counted(data['systems'], 'system')}; "
              f"run {data['run_id']} of {data['run_at'][:16].replace('T', ' ')} UTC.", ""]
    if data["previous_run_id"] is None:
        lines += ["What changed: no earlier run to compare with (this is the first digest).", ""]
    else:
        open_ = LOSING_STATUSES | {"warning"}
        fixed = [c for c in data["changed"] if c["before"] in open_ and c["after"] in MET_STATUSES]
        worse = [c for c in data["changed"] if c["after"] in open_ and c["before"] not in open_]
        other = len(data["changed"]) - len(fixed) - len(worse)
        lines.append(f"What changed since run {data['previous_run_id']}: {len(fixed)} fixed, "
                     f"{len(worse)} got worse or need attention"
                     + (f", {counted(other, 'other change')} (new rules, rules that stopped applying)." if other else "."))
        for label, items in (("fixed", fixed), ("worse", worse)):
            for c in items[:MAX_LINES]:
                lines.append(f"  {label}: {c['system_id']} {c['rule_id']}: {c['before'] or 'new'} -> "
                             f"{c['after'] or 'gone'}")
            if len(items) > MAX_LINES:
                lines.append(f"  ... and {len(items) - MAX_LINES} more {label}")
        lines.append("")
    if data["milestone"]:
        lines.append(f"Due by {data['milestone']} ({data['milestone_label']}): "
                     f"{counted(len(data['due']), 'result')} not yet met.")
        by_rule: dict[tuple[str, str], list[str]] = {}
        for item in data["due"]:
            by_rule.setdefault((item["due"], item["rule_id"]), []).append(item["system_id"])
        for (when, rule_id), system_ids in sorted(by_rule.items())[:MAX_LINES]:
            lines.append(f"  due {when}: {rule_id} ({titles.get(rule_id, rule_id)}): {', '.join(system_ids[:10])}"
                         + (f" and {len(system_ids) - 10} more" if len(system_ids) > 10 else ""))
        lines.append("")
    lines.append(f"Waiting for a decision: {len(data['waiting'])}.")
    for item in data["waiting"][:MAX_LINES]:
        if item["what"] == "review":
            lines.append(f"  review {item['id']}: {item['system_id']} {item['rule_id']}, submitted by "
                         f"{item['submitted_by']} on {item['submitted_at'][:10]}, needs "
                         f"{', '.join(item['needs'])}")
        else:
            lines.append(f"  waiver {item['id']}: {item['system_id']} {item['rule_id']}, requested by "
                         f"{item['requested_by']} through {item['expires']}, needs a domain architect")
    lines += ["", "See why a system is below 100: readiness explain SYSTEM_ID"]
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
