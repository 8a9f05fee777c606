"""Notifications through apprise, with an outbox so none is lost.

Each message is stored once per destination URL (``flashsales_notification``)
before sending; sending is retried ``notify_attempts`` times with a backoff, and
the outcome (sent, or failed with apprise's error) is recorded. A request's
state never depends on a notification: they go out after the state change is
committed, and ``flashsales notifications retry`` sends what failed.

Sending, retries, recipients and masking are the shared channel's (``notifications``):
recipients are user names or addresses, names become ``name@email_domain``; for
``mailto://`` URLs they are added to the URL's ``to=``, other services (Slack, Teams,
JSON webhooks) post to a channel, and the body lists them. The outbox stores each
destination masked (apprise's privacy mode), never its secrets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

import notifications
from flashsales.models import Notification
from flashsales.settings import Settings
from notifications import Sender, address, masked
from storage import session_scope, utcnow

__all__ = ["DeliveryReport", "Message", "Sender", "address", "deliver", "masked", "retry_failed"]


@dataclass(frozen=True)
class Message:
    event: str
    subject: str
    body: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    skipped: int


def deliver(engine: Engine, request_id: int, message: Message, settings: Settings, *,
            sender: Sender | None = None, sleep: Callable[[float], None] = time.sleep,
            now: datetime | None = None) -> DeliveryReport:
    """Store the message per destination, then send each with retries; never raises for a send."""
    now = now or utcnow()
    recipients = sorted({address(r, settings.email_domain) for r in message.recipients})
    body = message.body + ("\n\nTo: " + ", ".join(recipients) if recipients else "")
    ids = []
    with session_scope(engine) as session:
        if not settings.notify_urls:
            session.add(Notification(request_id=request_id, event=message.event, destination="",
                                     recipients=recipients, subject=message.subject, body=body,
                                     status="skipped", created_at=now,
                                     last_error="no notification URLs configured (PEAK_NOTIFY_URLS)"))
            return DeliveryReport(0, 0, 1)
        for url in settings.notify_urls:
            row = Notification(request_id=request_id, event=message.event, destination=masked(url),
                               recipients=recipients, subject=message.subject, body=body, created_at=now)
            session.add(row)
            session.flush()
            ids.append((row.id, url))
    sent = failed = 0
    for row_id, url in ids:
        if _attempt(engine, row_id, url, settings, sender or Sender(), sleep):
            sent += 1
        else:
            failed += 1
    return DeliveryReport(sent, failed, 0)


def _attempt(engine: Engine, row_id: int, url: str, settings: Settings, sender: Sender,
             sleep: Callable[[float], None]) -> bool:
    with session_scope(engine) as session:
        row = session.get(Notification, row_id)
        subject, body, recipients = row.subject, row.body, list(row.recipients)
    outcome = notifications.send(url, subject, body, recipients=recipients, sender=sender,
                                 attempts=settings.notify_attempts,
                                 backoff_seconds=settings.notify_backoff_seconds, sleep=sleep)
    with session_scope(engine) as session:
        row = session.get(Notification, row_id)
        row.attempts += outcome.attempts
        row.last_attempt_at = utcnow()
        row.last_error = outcome.error
        row.status = "sent" if outcome.sent else "failed"
        if outcome.sent:
            row.sent_at = row.last_attempt_at
    return outcome.sent


def retry_failed(engine: Engine, settings: Settings, *, sender: Sender | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    """Send again what failed (or was never tried) to destinations still configured."""
    by_mask = {masked(url): url for url in settings.notify_urls}
    with session_scope(engine) as session:
        rows = [(n.id, n.destination) for n in session.exec(
            select(Notification).where(Notification.status.in_(("failed", "pending")))
            .order_by(Notification.id)).scalars()]
    sent = failed = skipped = 0
    for row_id, destination in rows:
        url = by_mask.get(destination)
        if url is None:
            skipped += 1
            continue
        if _attempt(engine, row_id, url, settings, sender or Sender(), sleep):
            sent += 1
        else:
            failed += 1
    return DeliveryReport(sent, failed, skipped)
