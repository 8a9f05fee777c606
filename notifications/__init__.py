"""The one notification channel: apprise URLs, user names as addresses, retries, secrets masked.

Used by the readiness digests (operations) and by flash sales. A kernel package: it
imports nothing of ours.

- ``send(url, subject, body, recipients=...)``: one message to one apprise URL, with
  retries; returns an :class:`Outcome` whose error text never holds the URL's secrets.
- ``Sender``: the apprise call itself (tests replace it).
- ``masked(url)``: the URL as apprise prints it in privacy mode (what may be stored,
  logged or shown); a URL apprise cannot read shows only its scheme.
- ``redact(text, url)``: ``text`` without the secrets of ``url``.
- ``address(user, domain)``, ``with_recipients(url, addresses)``, ``split_urls(text)``.
"""

from notifications.channel import Outcome, Sender, address, send, split_urls, with_recipients
from notifications.masking import masked, redact, secrets

__all__ = ["Outcome", "Sender", "address", "masked", "redact", "secrets", "send", "split_urls",
           "with_recipients"]
