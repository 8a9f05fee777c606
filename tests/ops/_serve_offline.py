"""`readiness` with the outside world unreachable, for tests that send notifications.

Names other than loopback do not resolve here (no lookup leaves the machine), so apprise
fails as it would offline: requests and smtplib raise errors that name the whole URL,
tokens included. Retries skip their backoff so a test need not wait. Run as
``python -m tests.ops._serve_offline serve ...`` from the repo.
"""

from __future__ import annotations

import dataclasses
import socket
import sys

LOOPBACK = {"127.0.0.1", "::1", "localhost", "0.0.0.0", None}
_resolve = socket.getaddrinfo


def _loopback_only(host, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode()
    if host not in LOOPBACK:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _resolve(host, *args, **kwargs)


def _without_backoff() -> None:
    from operations import Channel

    configured = Channel.from_config.__func__

    def quick(cls, notify=None, env=None, engine=None):
        return dataclasses.replace(configured(cls, notify, env, engine), sleep=lambda _seconds: None)

    Channel.from_config = classmethod(quick)


if __name__ == "__main__":
    socket.getaddrinfo = _loopback_only
    _without_backoff()
    from readiness.cli import main

    sys.argv = ["readiness", *sys.argv[1:]]
    main()
