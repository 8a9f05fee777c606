"""Notifications through apprise, with an outbox so none is lost.

Each message is stored once per destination URL (``flashsales_notification``)
before sending; sending is retried ``notify_attempts`` times with a backoff, and
the outcome (sent, or failed with apprise's error) is recorded. A request's
state never depends on a notification: they go out after the state change is
committed, and ``flashsales notifications retry`` sends what failed.

Recipients are user names or addresses; names become ``name@email_domain``.
For ``mailto://`` URLs they are added to the URL's ``to=``; other services
(Slack, Teams, JSON webhooks) post to a channel, and the body lists them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.engine import Engine

from flashsales.models import Notification
from flashsales.settings import Settings
from storage import session_scope, utcnow


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


def address(user: str, domain: str) -> str:
    return user if "@" in user else f"{user}@{domain}"


def masked(url: str) -> str:
    """The URL as apprise prints it with secrets hidden (what the outbox stores)."""
    import apprise

    instance = apprise.Apprise.instantiate(url)
    return instance.url(privacy=True) if instance else _strip_password(url)


def _strip_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _with_recipients(url: str, recipients: Iterable[str]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("mailto", "mailtos") or not recipients:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    existing = [v for k, v in query if k == "to"]
    wanted = sorted((set(",".join(existing).split(",")) | set(recipients)) - {""})
    query = [(k, v) for k, v in query if k != "to"] + [("to", ",".join(wanted))]
    return urlunsplit(parts._replace(query=urlencode(query, safe=",@")))


class Sender:
    """Sends one message to one URL through apprise; returns an error text or None."""

    def send(self, url: str, subject: str, body: str) -> str | None:
        import apprise  # imported on first use: the CLI starts faster without it

        client = apprise.Apprise()
        if not client.add(url):
            return "apprise does not accept this URL (unknown scheme or bad syntax)"
        with apprise.LogCapture(level=apprise.logging.WARNING) as log:
            # Plain text: messages are line-based figures, and e-mail would otherwise join the lines.
            ok = client.notify(title=subject, body=body, body_format=apprise.NotifyFormat.TEXT)
            captured = log.getvalue().strip()
        if ok:
            return None
        return captured.splitlines()[-1] if captured else "apprise reported a failed delivery"


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
    target = _with_recipients(url, recipients)
    error = None
    attempts = 0
    for attempt in range(settings.notify_attempts):
        if attempt:
            sleep(settings.notify_backoff_seconds * 2 ** (attempt - 1))
        attempts += 1
        try:
            error = sender.send(target, subject, body)
        except Exception as exc:  # a broken plugin must not lose the request
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            break
    with session_scope(engine) as session:
        row = session.get(Notification, row_id)
        row.attempts += attempts
        row.last_attempt_at = utcnow()
        row.last_error = error
        row.status = "sent" if error is None else "failed"
        if error is None:
            row.sent_at = row.last_attempt_at
    return error is None


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
