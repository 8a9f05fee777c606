"""Digests and reminders out through the outbox and the routing (``notifications``).

Each message is stored in the outbox first, once per channel its audience routes
to, then sent; what has no channel yet is stored ``skipped`` and goes out with
``readiness notifications retry`` once the routing has one. Audiences:

- a team's digest, and a reminder about one of its systems: the team's channel,
  else its group's, its domain's, the default (``team:x>group:y>domain:z``);
- a domain's digest, and its overdue list after a milestone: the domain's channel,
  else the default;
- a milestone nudge: the team's chain, as a team's digest;
- besides, each recipient with an e-mail address (routing file ``people``, with
  SMTP set: ``PEAK_SMTP_*``) gets the message by e-mail (audience ``person:<user>``).

The default channel is ``notify.urls`` from the serve config, else
``PEAK_NOTIFY_URLS``; the routing file is ``notify.routing``, else
``PEAK_NOTIFY_ROUTING``. User names become addresses with
``PEAK_NOTIFY_EMAIL_DOMAIN`` (``mailto://`` gets them as ``to=``; chat webhooks
list them in the body). Destinations are stored and shown masked.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

import notifications
from operations.digests import Message

log = logging.getLogger("readiness.digests")  # the logger name operators filter on: kept


@dataclass(frozen=True)
class Delivery:
    unit: str
    destination: str  # the URL with secrets masked
    status: str  # sent | failed | skipped | already sent (by an earlier run; not sent again)
    error: str | None = None


@dataclass
class Channel:
    """The outbox with the serve config's routing; ``engine`` is the database the outbox lives in."""

    urls: Sequence[str]
    email_domain: str = "example.com"
    attempts: int = 3
    backoff_seconds: float = 1.0
    sender: notifications.Sender | None = None  # apprise; tests pass their own
    sleep: Callable[[float], None] = time.sleep
    engine: Engine | None = None
    routing: notifications.Routing | None = None
    audiences: Mapping[str, str] = field(default_factory=dict)  # unit -> routing chain

    @classmethod
    def from_config(cls, notify: Any = None, env: Mapping[str, str] | None = None,
                    engine: Engine | None = None) -> Channel:
        """``notify.urls`` / ``notify.email_domain`` / ``notify.routing`` from the serve config, else the
        environment: ``PEAK_NOTIFY_URLS``, ``PEAK_NOTIFY_EMAIL_DOMAIN``, ``PEAK_NOTIFY_ROUTING``."""
        env = os.environ if env is None else env
        urls = list(getattr(notify, "urls", None) or notifications.split_urls(env.get("PEAK_NOTIFY_URLS", "")))
        domain = getattr(notify, "email_domain", None) or env.get("PEAK_NOTIFY_EMAIL_DOMAIN") or "example.com"
        routing = notifications.load_routing(getattr(notify, "routing", None), default=urls, env=env)
        return cls(urls, domain, engine=engine, routing=routing)

    def address(self, user: str) -> str:
        return notifications.address(user, self.email_domain)

    def send(self, messages: Sequence[Message]) -> list[Delivery]:
        """Store each message in the outbox, once per channel of its audience, then send what is stored."""
        if self.engine is None:
            raise ValueError("the outbox needs a database: Channel(engine=...)")
        routing = self.routing or notifications.Routing(tuple(self.urls))
        owners = _owners(self.engine) if messages else {}
        deliveries = []
        for message in messages:
            ids = notifications.enqueue(self.engine, self._draft(message, owners), routing)
            earlier = {i for i in ids if notifications.show_message(self.engine, i)["status"] in ("sent", "sending")}
            notifications.deliver(self.engine, routing, ids=ids, sender=self.sender, attempts=self.attempts,
                                  backoff_seconds=self.backoff_seconds, sleep=self.sleep)
            for row in (notifications.show_message(self.engine, i) for i in ids):
                status = "skipped" if row["status"] in ("skipped", "recorded", "pending") else row["status"]
                if row["id"] in earlier:  # stored and sent by an earlier run: not again
                    deliveries.append(Delivery(message.unit, row["destination"], "already sent"))
                    continue
                deliveries.append(Delivery(message.unit, row["destination"], status, row["last_error"]))
                if status != "sent":
                    log.warning("%s to %s %s: %s", message.unit, row["destination"] or "-", status, row["last_error"])
        return deliveries

    def _draft(self, message: Message, owners: Mapping[str, str]) -> notifications.Draft:
        recipients = [self.address(r) for r in message.recipients]
        audience = self.audiences.get(message.unit) or audience_of(message, owners)
        moment = message.data.get("expires_at") or message.data.get("run_id") or ""
        key = (message.data.get("key")
               or f"{message.kind}:{message.unit}:{message.data.get('days', '')}:{moment}:{message.subject}")
        routing = self.routing or notifications.Routing(tuple(self.urls))
        audiences = {audience: recipients, **routing.emailable(message.recipients)}
        return notifications.Draft("readiness", message.kind, key[:160], message.subject, message.body,
                                   audiences, ref=message.unit)


def audience_of(message: Message, owners: Mapping[str, str]) -> str:
    """The routing chain of a digest or reminder: its team's chain, or its domain."""
    level, _, key = message.unit.partition(":")
    if level == "domain":
        return f"domain:{key}"
    if level == "team":
        return owners.get(f"team:{key}", f"team:{key}")
    system = message.data.get("system_id")
    return owners.get(f"system:{system}", "")


def _owners(engine: Engine) -> dict[str, str]:
    """``team:<key>`` and ``system:<id>`` -> the team's routing chain (team, group, domain)."""
    from readiness import ownership

    owned = ownership(engine)
    chains = {f"team:{key}": notifications.audience(("team", key), ("group", team.get("group")),
                                                    ("domain", team.get("domain")))
              for key, team in owned.teams.items()}
    chains.update({f"system:{system}": chains.get(f"team:{team}", "") for system, (team, _) in owned.systems.items()})
    return chains
