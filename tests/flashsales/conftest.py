"""Fixtures for flashsales: a small organisation, the demo, a local SMTP sink and webhook."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from storage import get_engine, migrate
from tests.flashsales.helpers import build_org


@pytest.fixture(scope="session")
def org_template(tmp_path_factory) -> Path:
    """The small organisation built once per session; tests get copies."""
    folder = tmp_path_factory.mktemp("org")
    engine = get_engine(f"sqlite:///{folder / 'org.db'}")
    migrate(engine)
    build_org(engine, folder)
    engine.dispose()
    return folder / "org.db"


def copy_sqlite(source: Path, target: Path) -> str:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)  # includes what is still in the WAL
    src.close()
    dst.close()
    return f"sqlite:///{target}"


@pytest.fixture
def org_engine(org_template, tmp_path):
    """A migrated SQLite database holding the small organisation (capacity 100 req/s)."""
    return get_engine(copy_sqlite(org_template, tmp_path / "org.db"))


@pytest.fixture
def fs_demo(demo_db, tmp_path) -> tuple[str, Path]:
    """A private copy of the 60-system demo plus the flashsales demo: (database URL, demo folder)."""
    from flashsales import demo

    url = copy_sqlite(Path(demo_db.removeprefix("sqlite:///")), tmp_path / "demo.db")
    engine = get_engine(url)
    migrate(engine)
    demo.run(engine, tmp_path / "demo")
    return url, tmp_path / "demo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Webhook:
    url: str
    posts: list[dict] = field(default_factory=list)
    fail_next: int = 0  # answer 500 to this many posts first


@pytest.fixture
def webhook():
    hook = Webhook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if hook.fail_next > 0:
                hook.fail_next -= 1
                self.send_response(500)
                self.end_headers()
                return
            hook.posts.append(json.loads(body or b"{}"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()
