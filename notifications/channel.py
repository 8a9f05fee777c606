"""Sending one message to one apprise URL: recipients, retries with backoff, no secret in errors.

Recipients are user names or addresses; names become ``name@domain``. ``mailto://``
URLs get them as ``to=``; other services (Slack, Teams, JSON webhooks) post to a
channel, and callers list the recipients in the body.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from notifications.masking import redact, redacting, secrets


@dataclass(frozen=True)
class Outcome:
    error: str | None  # None: it went out; else apprise's last complaint, secrets removed
    attempts: int

    @property
    def sent(self) -> bool:
        return self.error is None


class Sender:
    """Sends one message to one URL through apprise; returns an error text or None."""

    def send(self, url: str, subject: str, body: str) -> str | None:
        import apprise  # imported on first use: the CLIs start faster without it

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


def send(url: str, subject: str, body: str, *, recipients: Iterable[str] = (), sender: Sender | None = None,
         attempts: int = 3, backoff_seconds: float = 1.0,
         sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Send with retries (backoff doubling from ``backoff_seconds``); never raises for a send."""
    sender = sender or Sender()
    hidden = secrets(url)
    target = with_recipients(url, recipients)
    error, tries = None, 0
    with redacting(hidden):
        for attempt in range(attempts):
            if attempt:
                sleep(backoff_seconds * 2 ** (attempt - 1))
            tries += 1
            try:
                error = sender.send(target, subject, body)
            except Exception as exc:  # a broken plugin must not stop the other messages
                error = f"{type(exc).__name__}: {exc}"
            if error is None:
                break
    return Outcome(None if error is None else redact(error, hidden), tries)


def address(user: str, domain: str) -> str:
    return user if "@" in user else f"{user}@{domain}"


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


def split_urls(text: str) -> list[str]:
    """URLs written in one setting (``PEAK_NOTIFY_URLS``), separated by spaces or commas."""
    return [part for part in re.split(r"[\s,]+", text) if part]
