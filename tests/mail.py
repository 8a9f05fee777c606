"""A local SMTP sink (aiosmtpd on a free loopback port) for notification tests."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header

from aiosmtpd.controller import Controller


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    subject: str
    body: str


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Mail] = field(default_factory=list)

    def url(self, sender: str = "peak@example.com") -> str:
        return f"mailto://{self.host}:{self.port}?from={sender}&mode=insecure"

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Mail]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        parsed = message_from_bytes(envelope.content)
        parts = [parsed] if not parsed.is_multipart() else [p for p in parsed.walk() if not p.is_multipart()]
        text = next((p.get_payload(decode=True).decode() for p in parts if p.get_content_type() == "text/plain"), "")
        subject = str(make_header(decode_header(parsed["Subject"] or "")))
        self.sink.messages.append(Mail(envelope.mail_from, sorted(envelope.rcpt_tos), subject, text))
        return "250 OK"


def start_sink() -> tuple[SmtpSink, Controller]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sink = SmtpSink("127.0.0.1", port)
    controller = Controller(_Handler(sink), hostname=sink.host, port=sink.port)
    controller.start()
    return sink, controller
