"""Weekly digests per team and domain, and reminders before waivers and approvals expire.

A digest tells a team (members and leads) or a domain (architects and leads):
its score and how it moved since the last digest, which results changed
(``readiness.changes`` between the run current at the last digest and the
latest run), what is due before the next milestone (rules with a ``due`` date
not yet met by its systems), and what waits for a review decision.

A reminder goes out ``reminder_days`` before an approved waiver or an approval
of a team-managed check expires, to the requester (or submitter), the approver
and the team's leads. Windows are stateless: a job firing at ``until`` whose
previous fire time was ``since`` reminds about what reaches a reminder point in
``(since, until]``, so a schedule that keeps firing sends each reminder once.

Messages go through the flash-sale notification channel: apprise URLs from
``PEAK_NOTIFY_URLS`` (or ``notify.urls`` in the serve config) and user names
turned into addresses with ``PEAK_NOTIFY_EMAIL_DOMAIN``; ``mailto://`` URLs get
the recipients as ``to=``, chat webhooks list them in the body.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.engine import Engine

from storage import session_scope

log = logging.getLogger("readiness.digests")

LOSING = ("fail", "no_data", "expired", "pending_review", "error")
MET = ("pass", "waived", "not_applicable")
NOT_YET_MET = ("warning", "fail", "no_data", "pending_review", "expired")
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


# ---------------------------------------------------------------- digests


def _run_at(engine: Engine, moment: datetime) -> tuple[int, datetime] | None:
    """The latest complete run that started at or before ``moment``."""
    from readiness.models import EvaluationRun

    with session_scope(engine) as session:
        row = session.execute(select(EvaluationRun.id, EvaluationRun.started_at).where(
            EvaluationRun.status == "complete", EvaluationRun.started_at <= moment)
            .order_by(EvaluationRun.started_at.desc(), EvaluationRun.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else None


def _owners(engine: Engine) -> tuple[dict[str, tuple[str, str]], dict, dict]:
    """system -> (team, domain); team key -> row data; domain key -> row data."""
    from readiness.models import Domain, Group, System, Team

    with session_scope(engine) as session:
        groups = {g.key: g.domain_key for g in session.execute(select(Group)).scalars()}
        teams = {t.key: {"name": t.name, "domain": groups.get(t.group_key), "members": list(t.members),
                         "leads": list(t.leads), "retired": t.retired}
                 for t in session.execute(select(Team)).scalars()}
        domains = {d.key: {"name": d.name, "architects": list(d.architects), "leads": list(d.leads),
                           "retired": d.retired} for d in session.execute(select(Domain)).scalars()}
        systems = {s.system_id: (s.team_key, teams[s.team_key]["domain"])
                   for s in session.execute(select(System)).scalars()}
    return systems, teams, domains


def _due_dates(engine: Engine, ruleset, today: date) -> dict[str, date]:
    """Each scheduled rule's due date in the current season (its milestones)."""
    from readiness.seasons import current_season, due_dates

    return due_dates(current_season(engine, today), (r.meta for r in ruleset.rules))


def _milestone(engine: Engine, ruleset, today: date) -> tuple[date | None, str]:
    """Everything due by the peak target date, and at least the next rule due date."""
    from readiness.reports import current_peak_event

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
    from readiness.governance import list_reviews, list_waivers
    from readiness.reports import changes, results, scores
    from readiness.rulebook import load_rules

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
        for result in results(engine, run_id=run_id, statuses=NOT_YET_MET):
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
    lines += [f"{score}; {data['points_outstanding']:.1f} points outstanding over {data['systems']} system(s); "
              f"run {data['run_id']} of {data['run_at'][:16].replace('T', ' ')} UTC.", ""]
    if data["previous_run_id"] is None:
        lines += ["What changed: no earlier run to compare with (this is the first digest).", ""]
    else:
        open_ = set(LOSING) | {"warning"}
        fixed = [c for c in data["changed"] if c["before"] in open_ and c["after"] in MET]
        worse = [c for c in data["changed"] if c["after"] in open_ and c["before"] not in open_]
        other = len(data["changed"]) - len(fixed) - len(worse)
        lines.append(f"What changed since run {data['previous_run_id']}: {len(fixed)} fixed, "
                     f"{len(worse)} got worse or need attention"
                     + (f", {other} other change(s) (new rules, rules that stopped applying)." if other else "."))
        for label, items in (("fixed", fixed), ("worse", worse)):
            for c in items[:MAX_LINES]:
                lines.append(f"  {label}: {c['system_id']} {c['rule_id']}: {c['before'] or 'new'} -> "
                             f"{c['after'] or 'gone'}")
            if len(items) > MAX_LINES:
                lines.append(f"  ... and {len(items) - MAX_LINES} more {label}")
        lines.append("")
    if data["milestone"]:
        lines.append(f"Due by {data['milestone']} ({data['milestone_label']}): "
                     f"{len(data['due'])} result(s) not yet met.")
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


# ---------------------------------------------------------------- reminders


def _reached(expires_at: str | None, days: Iterable[int], since: datetime, until: datetime) -> int | None:
    """The reminder point (days before expiry) that falls in ``(since, until]``, if any."""
    if not expires_at:
        return None
    expiry = datetime.fromisoformat(expires_at)
    for day in sorted(days):
        if since < expiry - timedelta(days=day) <= until:
            return day
    return None


def build_reminders(engine: Engine, *, since: datetime, until: datetime,
                    days: Sequence[int] = (14, 3)) -> list[Message]:
    """Reminders for approved waivers and approvals reaching a reminder point in ``(since, until]``."""
    from readiness.governance import list_reviews, list_waivers

    systems, teams, domains = _owners(engine)

    def team_leads(system_id: str) -> list[str]:
        team = systems.get(system_id, (None, None))[0]
        return list(teams.get(team, {}).get("leads", []))

    messages = []
    for waiver in list_waivers(engine, state="approved", now=until):
        day = _reached(waiver["expires_at"], days, since, until)
        if day is None:
            continue
        subject = (f"Waiver {waiver['id']} for {waiver['system_id']} {waiver['rule_id']} ends after "
                   f"{waiver['expires']} ({day} days)")
        body = (f"Waiver {waiver['id']} ({waiver['system_id']}, rule {waiver['rule_id']}) is in force through "
                f"{waiver['expires']}: {day} days from now. From then on the rule counts again.\n\n"
                f"Reason given: {waiver['reason']}\nRequested by {waiver['requested_by']}, approved by "
                f"{waiver['approved_by']}.\n\nFix the finding before then (readiness explain "
                f"{waiver['system_id']}), or request a new waiver (readiness waiver request).")
        recipients = {waiver["requested_by"], waiver["approved_by"], *team_leads(waiver["system_id"])} - {None}
        messages.append(Message("reminder", f"waiver:{waiver['id']}", subject, body, tuple(sorted(recipients)),
                                {"waiver_id": waiver["id"], "days": day, "expires_at": waiver["expires_at"],
                                 "system_id": waiver["system_id"], "rule_id": waiver["rule_id"]}))
    for review in list_reviews(engine, state="approved", now=until):
        day = _reached(review["expires_at"], days, since, until)
        if day is None:
            continue
        expires = review["expires_at"][:16].replace("T", " ")
        subject = (f"Approval of {review['rule_id']} for {review['system_id']} expires {expires} UTC "
                   f"({day} days)")
        approvers = [a["by"] for a in review["approvals"]]
        body = (f"The approval of review {review['id']} ({review['system_id']}, check {review['rule_id']}) "
                f"expires at {expires} UTC: {day} days from now. After that the check counts as expired "
                f"and loses its points.\n\nApproved by {', '.join(approvers) or '-'}; submitted by "
                f"{review['submitted_by']}.\n\nSubmit the check again for review (readiness review submit) "
                "so it is approved before it expires.")
        recipients = {review["submitted_by"], *approvers, *team_leads(review["system_id"])}
        messages.append(Message("reminder", f"review:{review['id']}", subject, body, tuple(sorted(recipients)),
                                {"review_id": review["id"], "days": day, "expires_at": review["expires_at"],
                                 "system_id": review["system_id"], "rule_id": review["rule_id"]}))
    return messages


# ---------------------------------------------------------------- the channel


@dataclass(frozen=True)
class Delivery:
    unit: str
    destination: str  # the URL with secrets masked
    status: str  # sent | failed | skipped
    error: str | None = None


def apprise_send(url: str, subject: str, body: str) -> str | None:
    """Send one message to one apprise URL; an error text, or None when it went out."""
    import apprise

    client = apprise.Apprise()
    if not client.add(url):
        return "apprise does not accept this URL (unknown scheme or bad syntax)"
    with apprise.LogCapture(level=apprise.logging.WARNING) as captured:
        # TEXT: e-mail keeps the line breaks (apprise would otherwise read the body as HTML)
        ok = client.notify(title=subject, body=body, body_format=apprise.NotifyFormat.TEXT)
        text = captured.getvalue().strip()
    if ok:
        return None
    return text.splitlines()[-1] if text else "apprise reported a failed delivery"


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":****@")))
    return url


def with_recipients(url: str, recipients: Iterable[str]) -> str:
    """``mailto://`` URLs get the recipients as ``to=``; other URLs are left as they are."""
    recipients = sorted(set(recipients))
    parts = urlsplit(url)
    if parts.scheme not in ("mailto", "mailtos") or not recipients:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    existing = [v for k, v in query if k == "to"]
    wanted = sorted((set(",".join(existing).split(",")) | set(recipients)) - {""})
    query = [(k, v) for k, v in query if k != "to"] + [("to", ",".join(wanted))]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",@")))


@dataclass
class Channel:
    """apprise URLs, the e-mail domain for user names, and retries."""

    urls: Sequence[str]
    email_domain: str = "example.com"
    attempts: int = 3
    backoff_seconds: float = 1.0
    send_one: Callable[[str, str, str], str | None] = apprise_send
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_config(cls, notify: Any = None, env: Mapping[str, str] | None = None) -> Channel:
        """``notify.urls`` / ``notify.email_domain`` from the serve config, else the flash-sale
        channel's environment: ``PEAK_NOTIFY_URLS``, ``PEAK_NOTIFY_EMAIL_DOMAIN``."""
        env = os.environ if env is None else env
        urls = list(getattr(notify, "urls", None) or [u for u in re.split(r"[\s,]+", env.get("PEAK_NOTIFY_URLS", ""))
                                                       if u])
        domain = getattr(notify, "email_domain", None) or env.get("PEAK_NOTIFY_EMAIL_DOMAIN") or "example.com"
        return cls(urls, domain)

    def address(self, user: str) -> str:
        return user if "@" in user else f"{user}@{self.email_domain}"

    def send(self, messages: Sequence[Message]) -> list[Delivery]:
        deliveries = []
        if messages and not self.urls:
            log.warning("%d message(s) not sent: no notification URLs (set PEAK_NOTIFY_URLS)", len(messages))
            return [Delivery(m.unit, "", "skipped", "no notification URLs configured (PEAK_NOTIFY_URLS)")
                    for m in messages]
        for message in messages:
            recipients = [self.address(r) for r in message.recipients]
            body = message.body + ("\n\nTo: " + ", ".join(recipients) if recipients else "")
            for url in self.urls:
                error = self._send_with_retries(with_recipients(url, recipients), message.subject, body)
                deliveries.append(Delivery(message.unit, masked(url), "sent" if error is None else "failed", error))
                if error:
                    log.warning("%s to %s failed: %s", message.unit, masked(url), error)
        return deliveries

    def _send_with_retries(self, url: str, subject: str, body: str) -> str | None:
        error = None
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                error = self.send_one(url, subject, body)
            except Exception as exc:  # a broken plugin must not stop the other messages
                error = f"{type(exc).__name__}: {exc}"
            if error is None:
                return None
        return error
