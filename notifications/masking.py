"""Secrets of notification URLs: what apprise hides in privacy mode never reaches a log or a screen.

apprise knows, per service, which parts of a URL are secret (Slack tokens, webhook
paths, passwords): ``URLBase.url(privacy=True)`` prints the URL without them. A URL
apprise cannot read (unknown scheme, bad syntax) shows its scheme only. The pieces
of a URL that the masked form does not show are its *secrets*: :func:`redact` takes
them out of any text (apprise's own log lines, error messages), and while apprise
reads or sends a URL, a filter on its logger does the same, since apprise logs the
whole URL when it cannot parse it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import unquote

HIDDEN = "****"
_SEPARATORS = re.compile(r"[/:@?&=#,;+\s]+")
_SHORTEST_SECRET = 3  # shorter pieces would blank out ordinary words in log lines


def masked(url: str) -> str:
    """The URL as apprise prints it in privacy mode; ``scheme://****`` when apprise cannot read it."""
    import apprise  # imported on first use: CLIs start faster without it

    with redacting(_pieces(url)):  # apprise logs an unparseable URL whole
        instance = apprise.Apprise.instantiate(url)
    if instance is None:
        scheme, sep, _rest = url.partition("://")
        return f"{scheme}://{HIDDEN}" if sep and scheme.isidentifier() else HIDDEN
    return instance.url(privacy=True)


def secrets(url: str) -> list[str]:
    """The pieces of ``url`` its masked form hides, longest first."""
    shown = masked(url)
    return sorted({p for p in _pieces(url) if p not in shown}, key=lambda p: (-len(p), p))


def redact(text: str, url_or_secrets: str | Iterable[str]) -> str:
    """``text`` with every secret of a URL (or the given secrets) replaced by ``****``."""
    hidden = secrets(url_or_secrets) if isinstance(url_or_secrets, str) else url_or_secrets
    for secret in hidden:
        text = text.replace(secret, HIDDEN)
    return text


def _pieces(url: str) -> list[str]:
    """What follows the scheme, cut at URL separators, raw and percent-decoded."""
    _scheme, sep, rest = url.partition("://")
    found = set()
    for part in _SEPARATORS.split(rest if sep else url):
        for piece in (part, unquote(part)):
            if len(piece) >= _SHORTEST_SECRET:
                found.add(piece)
    return sorted(found, key=lambda p: (-len(p), p))


class _Redact(logging.Filter):
    def __init__(self, hidden: list[str]):
        super().__init__()
        self.hidden = hidden

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.hidden)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


@contextmanager
def redacting(hidden: list[str]) -> Iterator[None]:
    """Redact ``hidden`` from apprise's log records (its handlers and ours) while inside."""
    apprise_log = logging.getLogger("apprise")
    guard = _Redact(list(hidden))
    apprise_log.addFilter(guard)
    try:
        yield
    finally:
        apprise_log.removeFilter(guard)
