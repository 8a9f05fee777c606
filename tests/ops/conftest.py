"""Fixtures for the operations tests: a small organisation with runs, a local SMTP sink."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller

from readiness import import_catalog_file, import_inventory_file, run_evaluation
from readiness.service import open_database
from storage import get_engine, utcnow
from tests.ops.support import free_port
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml


@pytest.fixture
def org(db_url, tmp_path):
    """Three systems in two teams and domains, inventory facts and one run, a day old, on SQLite
    and on PostgreSQL. Yields (url, engine, inventory path). ``rita`` is on the readiness team."""
    return make_org(db_url, tmp_path)


@pytest.fixture
def sqlite_org(sqlite_url, tmp_path):
    """The same organisation on SQLite only (for CLI tests whose database does not matter)."""
    return make_org(sqlite_url, tmp_path)


def make_org(db_url: str, tmp_path):
    engine = open_database(get_engine(db_url))
    day_ago = utcnow() - timedelta(days=1)
    import_catalog_file(engine, write_yaml(tmp_path / "catalog.yaml", catalog_doc(readiness_team=["rita"])))
    inventory = write_inventory(tmp_path / "inventory.json",
                                [compute("SYS-1", "api"), compute("SYS-2", "scorer"), compute("SYS-3", "mailer")])
    import_inventory_file(engine, inventory, now=day_ago)
    run_evaluation(engine, now=day_ago)
    return db_url, engine, inventory


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

    def url(self, sender: str = "readiness@example.com") -> str:
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


@pytest.fixture
def smtp_sink():
    sink = SmtpSink("127.0.0.1", free_port())
    controller = Controller(_Handler(sink), hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()
