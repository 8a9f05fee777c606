"""The one notification channel: apprise URLs, user names as addresses, retries, secrets masked.

Used by the readiness digests (operations) and by flash sales. A kernel package: it
imports only ``storage`` (for the outbox table).

- ``send(url, subject, body, recipients=...)``: one message to one apprise URL, with
  retries; returns an :class:`Outcome` whose error text never holds the URL's secrets.
- ``Sender``: the apprise call itself (tests replace it).
- ``masked(url)``: the URL as apprise prints it in privacy mode (what may be stored,
  logged or shown); a URL apprise cannot read shows only its scheme.
- ``redact(text, url)``: ``text`` without the secrets of ``url``.
- ``address(user, domain)``, ``with_recipients(url, addresses)``, ``split_urls(text)``.
- routing (``notifications.routing``): ``load_routing`` reads the routing file into a
  :class:`Routing` (channels per team, group, domain, central role, and a default);
  ``audience(...)`` writes the fallback chain ``team:x>group:y>domain:z``; ``Routing.emailable(users)``
  gives the ``person:<user>`` audiences of the people with an e-mail address (routing file ``people``)
  when SMTP is set (``PEAK_SMTP_*``): e-mail to a person never falls back to a channel.
- the outbox (``notifications.outbox``, table ``notifications_outbox``): ``enqueue`` a
  :class:`Draft` (stored before any send, one row per channel, unique key), ``deliver``
  (claim, send, mark; retries with backoff), ``list_messages``, ``show_message``, ``counts``.
"""

from notifications.channel import Outcome, Sender, address, send, split_urls, with_recipients
from notifications.masking import masked, redact, secrets
from notifications.outbox import (
           STATUSES,
           Draft,
           Report,
           counts,
           deliver,
           enqueue,
           list_messages,
           show_message,
)
from notifications.routing import ROLES, ROUTING_ENV, Routing, RoutingError, audience, load_routing

__all__ = ["ROLES", "ROUTING_ENV", "STATUSES", "Draft", "Outcome", "Report", "Routing", "RoutingError", "Sender",
           "address", "audience", "counts", "deliver", "enqueue", "list_messages", "load_routing", "masked",
           "redact", "secrets", "send", "show_message", "split_urls", "with_recipients"]
