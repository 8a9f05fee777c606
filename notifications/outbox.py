"""The outbox: every message is stored before it is sent, sent at most once per channel, retried.

``enqueue`` stores one row per message and destination channel (the audience's
URLs from the routing). Its ``key`` (message key + masked destination) is unique,
so storing the same message again, or two audiences that share a channel, adds
nothing. A message whose audience has no channel yet is stored ``skipped``;
``deliver`` sends it once a channel exists.

Sending claims a row first (``pending``/``failed``/``skipped`` -> ``sending``,
committed) and marks it ``sent`` or ``failed`` afterwards. A process that dies
between the send and the mark leaves the row ``sending``: whether it went out is
unknown, so it is never sent again by itself (at most once); ``deliver(...,
resend_unconfirmed=True)`` sends it again on an operator's word. Failures wait
``backoff_seconds * 2**(attempts-1)`` (at most a day) before a due-only retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine

from notifications.channel import Sender, send
from notifications.masking import masked
from notifications.models import OutboxMessage
from notifications.routing import Routing
from storage import session_scope, utcnow

STATUSES = ("pending", "sending", "sent", "failed", "skipped", "recorded")
RETRYABLE = ("pending", "failed", "skipped")
MAX_BACKOFF = timedelta(days=1)
NO_CHANNEL = "no channel for this audience (routing file or PEAK_NOTIFY_URLS)"


@dataclass(frozen=True)
class Draft:
    """A message before it is stored: who it is for (audiences) and what it says."""

    source: str  # readiness | flashsales
    kind: str  # digest | reminder | flashsale.review | flashsale.decision | flashsale.lifecycle | ...
    key: str  # unique per message: the same key is stored (and sent) once per channel
    subject: str
    body: str
    audiences: Mapping[str, Sequence[str]]  # routing chain (notifications.routing) -> addresses reached by it
    ref: str = ""  # what it is about (flashsale:7, team:pay-core), for listing
    broadcast: bool = True  # False: recorded for the record, never sent


@dataclass(frozen=True)
class Report:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    ids: tuple[int, ...] = field(default=(), compare=False)


def enqueue(engine: Engine, draft: Draft, routing: Routing, *, now: datetime | None = None) -> list[int]:
    """Store the message once per destination channel; the ids of the rows it has (new or earlier).

    Audiences that route to the same channel share one row, with their recipients joined.
    """
    now = now or utcnow()
    rows: dict[str, dict] = {}
    audiences = draft.audiences or {"": ()}
    if not draft.broadcast:  # one row for the record, whoever it would have concerned
        everyone = sorted({r for people in audiences.values() for r in people})
        audiences = {",".join(sorted(audiences))[:300]: everyone}
    for audience, recipients in audiences.items():
        urls = routing.urls_for(audience) if draft.broadcast else ()
        targets = [(f"{draft.key}|{masked(url)}", masked(url)) for url in urls] or [(f"{draft.key}|{audience}|-", "")]
        for key, destination in targets:
            status = "pending" if destination else "skipped" if draft.broadcast else "recorded"
            row = rows.setdefault(key, {"audience": audience, "destination": destination, "status": status,
                                        "recipients": set()})
            row["recipients"].update(recipients)
    ids = []
    with session_scope(engine) as session:
        for key, row in rows.items():
            existing = session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).scalar()
            if existing is None:
                message = OutboxMessage(key=key[:200], message_key=draft.key[:160], source=draft.source,
                                        kind=draft.kind, ref=draft.ref, subject=draft.subject, body=draft.body,
                                        created_at=now, last_error=NO_CHANNEL if row["status"] == "skipped" else None,
                                        **{**row, "recipients": sorted(row["recipients"])})
                session.add(message)
                session.flush()
                existing = message.id
            ids.append(existing)
    return ids


def deliver(engine: Engine, routing: Routing, *, ids: Iterable[int] | None = None, source: str | None = None,
            due_only: bool = False,
            resend_unconfirmed: bool = False, now: datetime | None = None, sender: Sender | None = None,
            attempts: int = 3, backoff_seconds: float = 1.0,
            sleep: Callable[[float], None] = time.sleep) -> Report:
    """Send the stored messages still to go (``ids``, or all); never raises for a send."""
    now = now or utcnow()
    statuses = RETRYABLE + (("sending",) if resend_unconfirmed else ())
    query = select(OutboxMessage.id).where(OutboxMessage.status.in_(statuses)).order_by(OutboxMessage.id)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))
    if source is not None:
        query = query.where(OutboxMessage.source == source)
    if due_only:
        query = query.where((OutboxMessage.next_attempt_at.is_(None)) | (OutboxMessage.next_attempt_at <= now))
    with session_scope(engine) as session:
        todo = list(session.exec(query).scalars())
    sent = failed = skipped = 0
    for row_id in todo:
        for target_id, url in _targets(engine, row_id, routing):
            if url is None:
                skipped += 1
            elif not _claim(engine, target_id, statuses):
                continue  # another process has it
            elif _send(engine, target_id, url, now, sender or Sender(), attempts, backoff_seconds, sleep):
                sent += 1
            else:
                failed += 1
    return Report(sent, failed, skipped, tuple(todo))


def _targets(engine: Engine, row_id: int, routing: Routing) -> list[tuple[int, str | None]]:
    """(row, URL) pairs to send: a skipped row gets the channels its audience has now."""
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        urls = routing.urls_for(row.audience)
        if row.destination:
            url = next((u for u in urls if masked(u) == row.destination), None)
            if url is None:
                url = next((u for u in routing.default if masked(u) == row.destination), None)
            return [(row.id, url)]
        if not urls:
            return [(row.id, None)]
        targets = []
        for url in urls:
            key = f"{row.message_key}|{masked(url)}"
            other = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).scalars().first()
            if other is not None:  # this message already has a row for that channel: its people join it
                if other.status in RETRYABLE:
                    other.recipients = sorted(set(other.recipients) | set(row.recipients))
                continue
            if not targets:
                row.key, row.destination, row.status, row.last_error = key, masked(url), "pending", None
                target = row
            else:
                target = OutboxMessage(**{c: getattr(row, c) for c in _COPIED}, key=key, destination=masked(url))
                session.add(target)
            session.flush()
            targets.append((target.id, url))
        if not targets:
            row.status, row.last_error = "recorded", "the message reached these channels through other rows"
        return targets


_COPIED = ("message_key", "source", "kind", "ref", "audience", "recipients", "subject", "body", "created_at")


def _claim(engine: Engine, row_id: int, statuses: Sequence[str]) -> bool:
    """Mark the row ``sending`` (committed) unless another process took it first."""
    with session_scope(engine) as session:
        result = session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id,
                                                             OutboxMessage.status.in_(statuses))
                                 .values(status="sending"))
        return result.rowcount == 1


def _send(engine: Engine, row_id: int, url: str, now: datetime, sender: Sender, attempts: int,
          backoff_seconds: float, sleep: Callable[[float], None]) -> bool:
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        subject, recipients = row.subject, list(row.recipients)
        body = row.body + ("\n\nTo: " + ", ".join(recipients) if recipients else "")
    outcome = send(url, subject, body, recipients=recipients, sender=sender, attempts=attempts,
                   backoff_seconds=backoff_seconds, sleep=sleep)
    mark(engine, row_id, outcome.error, outcome.attempts, now=now, backoff_seconds=backoff_seconds)
    return outcome.sent


def mark(engine: Engine, row_id: int, error: str | None, attempts: int, *, now: datetime,
         backoff_seconds: float = 1.0) -> None:
    """Record a send's outcome: ``sent``, or ``failed`` with the time the next retry is due."""
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, row_id)
        row.attempts += attempts
        row.last_attempt_at = now
        row.last_error = error
        row.status = "failed" if error else "sent"
        if error:
            wait = timedelta(seconds=backoff_seconds * 2 ** max(row.attempts - 1, 0))
            row.next_attempt_at = now + min(wait, MAX_BACKOFF)
        else:
            row.sent_at, row.next_attempt_at = now, None


def list_messages(engine: Engine, *, status: str | None = None, source: str | None = None,
                  ref: str | None = None) -> list[dict]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for column, value in ((OutboxMessage.status, status), (OutboxMessage.source, source), (OutboxMessage.ref, ref)):
        if value is not None:
            query = query.where(column == value)
    with session_scope(engine) as session:
        return [_as_dict(row) for row in session.exec(query).scalars()]


def show_message(engine: Engine, message_id: int) -> dict | None:
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, message_id)
        return _as_dict(row) if row is not None else None


def counts(engine: Engine) -> dict[str, int]:
    """Rows per status (every status present, zero when none): what the metrics show."""
    with session_scope(engine) as session:
        found = dict(session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def _as_dict(row: OutboxMessage) -> dict:
    return {name: getattr(row, name) for name in
            ("id", "source", "kind", "ref", "message_key", "audience", "destination", "recipients", "status",
             "attempts", "last_error", "subject", "body", "created_at", "next_attempt_at", "last_attempt_at",
             "sent_at")}
