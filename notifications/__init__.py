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

from storage import lazy_surface

# Each public name loads from its module on first use (PEP 562): importing the package, or a
# light submodule of it such as its CLI, does not import the whole context and its heavy
# dependencies. tests/clikit/test_startup.py checks every name here resolves.
_EXPORTS = {
    "Outcome": "notifications.channel",
    "Sender": "notifications.channel",
    "address": "notifications.channel",
    "send": "notifications.channel",
    "split_urls": "notifications.channel",
    "with_recipients": "notifications.channel",
    "masked": "notifications.masking",
    "redact": "notifications.masking",
    "secrets": "notifications.masking",
    "STATUSES": "notifications.outbox",
    "Draft": "notifications.outbox",
    "Report": "notifications.outbox",
    "counts": "notifications.outbox",
    "deliver": "notifications.outbox",
    "enqueue": "notifications.outbox",
    "list_messages": "notifications.outbox",
    "show_message": "notifications.outbox",
    "ROLES": "notifications.routing",
    "ROUTING_ENV": "notifications.routing",
    "Routing": "notifications.routing",
    "RoutingError": "notifications.routing",
    "audience": "notifications.routing",
    "load_routing": "notifications.routing",
}

__all__ = ["ROLES", "ROUTING_ENV", "STATUSES", "Draft", "Outcome", "Report", "Routing", "RoutingError", "Sender",
           "address", "audience", "counts", "deliver", "enqueue", "list_messages", "load_routing", "masked",
           "redact", "secrets", "send", "show_message", "split_urls", "with_recipients"]


lazy_surface(__name__, _EXPORTS)
