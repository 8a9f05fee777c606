"""Flash-sale notifications through the one outbox (``notifications``).

Each message is stored in the outbox (``notifications_outbox``) before it is
sent, once per channel its audience routes to, then sent with
``notify_attempts`` tries and a backoff; the outcome is recorded there. A
request's state never depends on a notification: they go out after the state
change is committed, and ``flashsales notifications retry`` (or ``readiness
notifications retry``) sends what was skipped for lack of a channel or failed.

Channels come from the routing file (``PEAK_NOTIFY_ROUTING``) with
``PEAK_NOTIFY_URLS`` as its default; user names become ``name@email_domain``.
A message that must be kept but not broadcast (``broadcast=False``) is stored
``recorded``. Destinations are stored masked (apprise's privacy mode).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

import notifications
from flashsales.errors import FieldProblem, InputError
from flashsales.settings import Settings
from notifications import Sender, address, masked
from storage import utcnow

__all__ = ["DeliveryReport", "Message", "Sender", "address", "deliver", "masked", "retry_failed", "routing"]

SOURCE = "flashsales"


@dataclass(frozen=True)
class Message:
    event: str
    subject: str
    body: str
    recipients: tuple[str, ...]
    kind: str = "flashsale.lifecycle"  # flashsale.review | flashsale.decision | flashsale.lifecycle
    channels: Mapping[str, list[str]] = field(default_factory=dict)  # routing chain -> people reached by it
    broadcast: bool = True


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    skipped: int


def routing(settings: Settings) -> notifications.Routing:
    """The routing file (``PEAK_NOTIFY_ROUTING``) with the configured URLs as its default."""
    try:
        return notifications.load_routing(default=settings.notify_urls)
    except notifications.RoutingError as exc:
        raise InputError(FieldProblem("routing", str(exc))) from None


def deliver(engine: Engine, request_id: int, message: Message, settings: Settings, *,
            sender: Sender | None = None, sleep: Callable[[float], None] = time.sleep,
            now: datetime | None = None) -> DeliveryReport:
    """Store the message per channel of its audience, then send each; never raises for a send."""
    now = now or utcnow()
    routes = routing(settings)
    channels = message.channels or {"": list(message.recipients)}
    audiences = {chain: sorted({address(p, settings.email_domain) for p in people}) for chain, people in channels.items()}
    draft = notifications.Draft(SOURCE, message.kind, f"flashsale:{request_id}:{message.event}:{now:%Y%m%dT%H%M%S}",
                                message.subject,
                                message.body, audiences, ref=f"flashsale:{request_id}", broadcast=message.broadcast)
    ids = notifications.enqueue(engine, draft, routes, now=now)
    report = notifications.deliver(engine, routes, ids=ids, now=now, sender=sender, sleep=sleep,
                                   attempts=settings.notify_attempts,
                                   backoff_seconds=settings.notify_backoff_seconds)
    return DeliveryReport(report.sent, report.failed, report.skipped)


def retry_failed(engine: Engine, settings: Settings, *, sender: Sender | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> DeliveryReport:
    """Send again what failed, was skipped for lack of a channel, or was never tried."""
    report = notifications.deliver(engine, routing(settings), source=SOURCE, sender=sender, sleep=sleep,
                                   attempts=settings.notify_attempts,
                                   backoff_seconds=settings.notify_backoff_seconds)
    return DeliveryReport(report.sent, report.failed, report.skipped)
