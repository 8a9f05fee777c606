"""A small local HTTP service with a real, configurable capacity.

The service models one saturable resource (a CPU, a connection pool, a
single-threaded backend): it completes at most ``capacity_rps`` requests per
second, in arrival order. Each request occupies the resource for
``1 / capacity_rps`` seconds and then still takes ``base_latency_s`` to finish
(network, serialisation). Below capacity a request waits for nothing and the
latency is about ``base_latency_s``; past capacity a queue builds up, so
latency grows with every second of overload, and once a request would wait
longer than ``max_queue_s`` it is shed at once with ``503``: latency growth,
then errors, exactly as a real saturated service degrades.

The resource is virtual (a clock, not a busy loop), so the capacity measured
by a load generator is the configured one even on a small shared machine,
and serving a request costs the host next to nothing.

Endpoints: ``GET /health`` (never queued, for probes), ``GET /stats``
(counters as JSON) and any other path/method (the modelled work).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE_LATENCY_S = 0.010
DEFAULT_MAX_QUEUE_S = 1.0


@dataclass
class TargetStats:
    served: int = 0
    shed: int = 0
    health: int = 0
    started_at: float = field(default_factory=time.time)

    def as_dict(self) -> dict:
        return {
            "served": self.served,
            "shed": self.shed,
            "health": self.health,
            "uptime_s": round(time.time() - self.started_at, 3),
        }


class CapacityModel:
    """FIFO resource completing at most ``capacity_rps`` requests per second."""

    def __init__(
        self,
        capacity_rps: float,
        *,
        base_latency_s: float = DEFAULT_BASE_LATENCY_S,
        max_queue_s: float = DEFAULT_MAX_QUEUE_S,
        clock=time.monotonic,
    ) -> None:
        if capacity_rps <= 0:
            raise ValueError(f"capacity_rps must be > 0, got {capacity_rps}")
        if base_latency_s < 0 or max_queue_s <= 0:
            raise ValueError("base_latency_s must be >= 0 and max_queue_s > 0")
        self.capacity_rps = float(capacity_rps)
        self.service_s = 1.0 / self.capacity_rps
        self.base_latency_s = base_latency_s
        self.max_queue_s = max_queue_s
        self._clock = clock
        self._next_free = 0.0

    def admit(self) -> float | None:
        """Reserve the resource: seconds until the response is ready, or None to shed."""
        now = self._clock()
        start = max(now, self._next_free)
        wait = start - now
        if wait > self.max_queue_s:
            return None
        self._next_free = start + self.service_s
        return wait + self.service_s + self.base_latency_s


class TargetServer:
    """The asyncio HTTP/1.1 (keep-alive) server around a :class:`CapacityModel`."""

    def __init__(self, model: CapacityModel, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.model = model
        self.host = host
        self.port = port
        self.stats = TargetStats()
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, reuse_address=True, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end open keep-alive connections (their handlers are cancelled)."""
        if self._server is not None:
            self._server.close()
        current = asyncio.current_task()
        handlers = [t for t in asyncio.all_tasks() if t is not current and t.get_coro().__qualname__ == "TargetServer._handle"]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                parts = request_line.decode("latin-1").split()
                if len(parts) < 2:
                    await _respond(writer, 400, b'{"error":"bad request line"}', keep_alive=False)
                    break
                path = parts[1]
                length, keep_alive = 0, not parts[-1].endswith("1.0")
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    name = name.strip().lower()
                    if name == "content-length":
                        length = int(value.strip() or 0)
                    elif name == "connection":
                        keep_alive = value.strip().lower() != "close"
                if length:
                    await reader.readexactly(length)
                status, body = await self._route(path)
                await _respond(writer, status, body, keep_alive=keep_alive)
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        except asyncio.CancelledError:
            pass  # server shutdown; ending normally keeps 3.11's stream callback quiet
        finally:
            writer.close()  # on cancellation too: the connection ends with the server

    async def _route(self, path: str) -> tuple[int, bytes]:
        if path.startswith("/health"):
            self.stats.health += 1
            return 200, b'{"status":"ok"}'
        if path.startswith("/stats"):
            payload = self.stats.as_dict() | {"capacity_rps": self.model.capacity_rps}
            return 200, json.dumps(payload).encode()
        delay = self.model.admit()
        if delay is None:
            self.stats.shed += 1
            return 503, b'{"error":"overloaded"}'
        await asyncio.sleep(delay)
        self.stats.served += 1
        return 200, b'{"status":"ok"}'


_REASONS = {200: "OK", 400: "Bad Request", 503: "Service Unavailable"}


async def _respond(writer: asyncio.StreamWriter, status: int, body: bytes, *, keep_alive: bool) -> None:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + body)
    await writer.drain()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def serve(
    capacity_rps: float,
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    base_latency_s: float = DEFAULT_BASE_LATENCY_S,
    max_queue_s: float = DEFAULT_MAX_QUEUE_S,
    pid_file: Path | None = None,
    on_ready=None,
) -> None:
    """Run the target in the foreground until SIGTERM/SIGINT."""
    model = CapacityModel(capacity_rps, base_latency_s=base_latency_s, max_queue_s=max_queue_s)

    async def main() -> None:
        server = TargetServer(model, host=host, port=port)
        bound = await server.start()
        if pid_file is not None:
            Path(pid_file).write_text(f"{os.getpid()}\n")
        if on_ready is not None:
            on_ready(host, bound)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        serving = asyncio.create_task(server.serve_forever())
        await stop.wait()
        serving.cancel()
        await server.close()

    try:
        asyncio.run(main())
    finally:
        if pid_file is not None:
            Path(pid_file).unlink(missing_ok=True)


class RunningTarget:
    """A target served from a background thread (for tests, demos and benchmarks)."""

    def __init__(
        self,
        capacity_rps: float,
        *,
        base_latency_s: float = DEFAULT_BASE_LATENCY_S,
        max_queue_s: float = DEFAULT_MAX_QUEUE_S,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.model = CapacityModel(capacity_rps, base_latency_s=base_latency_s, max_queue_s=max_queue_s)
        self.server = TargetServer(self.model, host=host, port=port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def __enter__(self) -> RunningTarget:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def main(argv: list[str] | None = None) -> None:
    """``python -m perftest.target --capacity-rps N``: the target without the CLI's imports."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m perftest.target", description="Local capacity-limited target.")
    parser.add_argument("--capacity-rps", type=float, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1", "localhost"])
    parser.add_argument("--base-latency-ms", type=float, default=DEFAULT_BASE_LATENCY_S * 1000)
    parser.add_argument("--max-queue-ms", type=float, default=DEFAULT_MAX_QUEUE_S * 1000)
    parser.add_argument("--pid-file", type=Path)
    args = parser.parse_args(argv)
    if args.capacity_rps <= 0:
        parser.error("--capacity-rps must be > 0")

    def ready(host: str, port: int) -> None:
        print(f"http://{host}:{port}", flush=True)

    serve(args.capacity_rps, port=args.port, host=args.host, base_latency_s=args.base_latency_ms / 1000,
          max_queue_s=args.max_queue_ms / 1000, pid_file=args.pid_file, on_ready=ready)
    sys.exit(0)


if __name__ == "__main__":
    main()
