"""A local JSON webhook sink: one HTTP server on 127.0.0.1 recording posts per path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class WebhookSink:
    base: str = ""
    posts: dict[str, list[dict]] = field(default_factory=dict)  # path -> JSON bodies
    fail_next: int = 0  # answer 500 to this many posts first

    def url(self, path: str) -> str:
        return f"json://{self.base}/{path}"

    def titles(self, path: str) -> list[str]:
        return [post["title"] for post in self.posts.get(path, [])]


@contextmanager
def webhook_sink() -> Iterator[WebhookSink]:
    sink = WebhookSink()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                failing = sink.fail_next > 0
                sink.fail_next -= failing
                if not failing:
                    sink.posts.setdefault(self.path.strip("/"), []).append(json.loads(body or b"{}"))
            self.send_response(500 if failing else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.base = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
