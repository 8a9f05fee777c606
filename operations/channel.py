"""Digests and reminders out through the one notification channel (``notifications``).

apprise URLs from ``PEAK_NOTIFY_URLS`` (or ``notify.urls`` in the serve config), as
for flash sales, and user names turned into addresses with
``PEAK_NOTIFY_EMAIL_DOMAIN``; ``mailto://`` URLs get the recipients as ``to=``, chat
webhooks list them in the body. Destinations are shown and logged masked (apprise's
privacy mode): no token, webhook path or password.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import notifications
from operations.digests import Message

log = logging.getLogger("readiness.digests")  # the logger name operators filter on: kept


@dataclass(frozen=True)
class Delivery:
    unit: str
    destination: str  # the URL with secrets masked
    status: str  # sent | failed | skipped
    error: str | None = None


@dataclass
class Channel:
    """The shared notification channel (``notifications``) with the serve config's URLs."""

    urls: Sequence[str]
    email_domain: str = "example.com"
    attempts: int = 3
    backoff_seconds: float = 1.0
    sender: notifications.Sender | None = None  # apprise; tests pass their own
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_config(cls, notify: Any = None, env: Mapping[str, str] | None = None) -> Channel:
        """``notify.urls`` / ``notify.email_domain`` from the serve config, else the flash-sale
        channel's environment: ``PEAK_NOTIFY_URLS``, ``PEAK_NOTIFY_EMAIL_DOMAIN``."""
        env = os.environ if env is None else env
        urls = list(getattr(notify, "urls", None) or notifications.split_urls(env.get("PEAK_NOTIFY_URLS", "")))
        domain = getattr(notify, "email_domain", None) or env.get("PEAK_NOTIFY_EMAIL_DOMAIN") or "example.com"
        return cls(urls, domain)

    def address(self, user: str) -> str:
        return notifications.address(user, self.email_domain)

    def send(self, messages: Sequence[Message]) -> list[Delivery]:
        deliveries = []
        if messages and not self.urls:
            log.warning("%d message(s) not sent: no notification URLs (set PEAK_NOTIFY_URLS)", len(messages))
            return [Delivery(m.unit, "", "skipped", "no notification URLs configured (PEAK_NOTIFY_URLS)")
                    for m in messages]
        destinations = {url: notifications.masked(url) for url in self.urls}
        for message in messages:
            recipients = [self.address(r) for r in message.recipients]
            body = message.body + ("\n\nTo: " + ", ".join(recipients) if recipients else "")
            for url, destination in destinations.items():
                outcome = notifications.send(url, message.subject, body, recipients=recipients,
                                             sender=self.sender, attempts=self.attempts,
                                             backoff_seconds=self.backoff_seconds, sleep=self.sleep)
                deliveries.append(Delivery(message.unit, destination, "sent" if outcome.sent else "failed",
                                           outcome.error))
                if outcome.error:
                    log.warning("%s to %s failed: %s", message.unit, destination, outcome.error)
        return deliveries
