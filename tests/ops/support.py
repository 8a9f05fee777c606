"""Helpers for the operations tests: free ports, processes that always get cleaned up,
a real Prometheus server with backfilled history, copies of the demo database."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
READINESS = [sys.executable, "-m", "readiness.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback only
        return response.read()


def copy_sqlite(url: str, target: Path) -> str:
    """A private copy of an SQLite database (the online backup API handles WAL)."""
    source = sqlite3.connect(url.removeprefix("sqlite:///"))
    dest = sqlite3.connect(target)
    with dest:
        source.backup(dest)
    source.close()
    dest.close()
    return f"sqlite:///{target}"


# ---------------------------------------------------------------- processes


@dataclass
class Proc:
    """A child process whose stderr is collected on a thread (so pipes never fill)."""

    args: list[str]
    env: dict | None = None
    cwd: Path | None = None
    popen: subprocess.Popen | None = None
    stderr_lines: list[str] = field(default_factory=list)
    stdout_lines: list[str] = field(default_factory=list)

    def start(self) -> Proc:
        self.popen = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env=self.env, cwd=self.cwd, start_new_session=True)
        for stream, sink in ((self.popen.stderr, self.stderr_lines), (self.popen.stdout, self.stdout_lines)):
            threading.Thread(target=_drain, args=(stream, sink), daemon=True).start()
        return self

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    @property
    def stdout(self) -> str:
        return "".join(self.stdout_lines)

    def signal(self, sig: int) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)


def _drain(stream, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
    stream.close()


def env_for_tests(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEAK_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@contextlib.contextmanager
def serve_process(db_url: str, *extra: str, env: dict | None = None, cwd: Path | None = None,
                  port: int = 0, wait: bool = True) -> Iterator[tuple[Proc, int]]:
    """`readiness serve` on loopback; yields the process and its port (port 0: the one it logged).

    With ``wait=False`` (and a fixed port) it returns at once, so the caller can start other
    servers while this one imports; call :func:`wait_listening` before scraping.
    """
    proc = Proc([*READINESS, "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port), *extra],
                env=env or env_for_tests(), cwd=cwd).start()
    try:
        if wait or not port:
            port = wait_listening(proc)
        yield proc, port
    finally:
        proc.stop()


def wait_listening(proc: Proc, timeout: float = 90) -> int:
    line = wait_for(lambda: next((x for x in proc.stderr_lines if "metrics on http://" in x), None)
                    or _exited(proc), timeout, "readiness serve to listen")
    return int(line.split("metrics on http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def _exited(proc: Proc) -> None:
    if proc.popen.poll() is not None:
        raise AssertionError(f"process exited with {proc.popen.returncode}:\n{proc.stderr[-3000:]}")
    return None


# ---------------------------------------------------------------- Prometheus


def require_prometheus() -> None:
    """Skip without the Debian ``prometheus`` package locally; fail in CI, which installs it
    (.ci/run sets PEAK_REQUIRE_POSTGRES=1; PEAK_REQUIRE_PROMETHEUS=1 also makes it required)."""
    import pytest

    if shutil.which("prometheus") and shutil.which("promtool"):
        return
    message = "prometheus/promtool not installed (apt-get install prometheus; .ci/run installs it)"
    if "1" in (os.environ.get("PEAK_REQUIRE_PROMETHEUS"), os.environ.get("PEAK_REQUIRE_POSTGRES")):
        pytest.fail(message)
    pytest.skip(message)


def write_openmetrics(csv_path: Path, out: Path, *, start: str, end: str, metric: str, labels: dict) -> pd.DataFrame:
    """A slice of a ``timestamp,value`` file as an OpenMetrics gauge (for promtool backfill)."""
    frame = pd.read_csv(csv_path)
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    keep = (stamps >= pd.Timestamp(start)) & (stamps < pd.Timestamp(end))
    frame = frame.loc[keep].assign(epoch=stamps[keep].dt.as_unit("s").astype("int64").to_numpy())
    label_text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    with out.open("w", encoding="utf-8") as handle:
        handle.write(f"# HELP {metric} Requests per minute (backfilled from real history).\n")
        handle.write(f"# TYPE {metric} gauge\n")
        for epoch, value in zip(frame["epoch"], frame["value"], strict=True):
            handle.write(f"{metric}{{{label_text}}} {value} {epoch}\n")
        handle.write("# EOF\n")
    return frame


@dataclass
class Prometheus:
    url: str
    proc: Proc

    def query(self, expr: str, at: float | None = None) -> dict:
        params = {"query": expr} | ({"time": str(at)} if at is not None else {})
        body = http_get(f"{self.url}/api/v1/query?{urllib.parse.urlencode(params)}")
        return json.loads(body)

    def get(self, path: str) -> dict:
        return json.loads(http_get(self.url + path))


@contextlib.contextmanager
def prometheus_server(workdir: Path, *, scrape_targets: list[str] = (), rule_files: list[Path] = (),
                      blocks_from: Path | None = None) -> Iterator[Prometheus]:
    """A real Prometheus on a free loopback port, its storage in ``workdir``, stopped afterwards.

    Backfill cost grows with the span (promtool 2.42 writes one block per two hours and
    re-reads the input for each), so tests backfill days, not months. Not on tmpfs: each
    block preallocates a 512 MiB chunk file, which tmpfs zero-fills.
    """
    data = workdir / "tsdb"
    data.mkdir(parents=True, exist_ok=True)
    if blocks_from is not None:
        done = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                               str(blocks_from), str(data)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"promtool backfill failed: {done.stderr or done.stdout}"
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [{"job_name": "readiness", "static_configs": [{"targets": list(scrape_targets)}]}]
        if scrape_targets else [],
    }
    config_file = workdir / "prometheus.yml"
    config_file.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    port = free_port()
    proc = Proc(["prometheus", f"--config.file={config_file}", f"--storage.tsdb.path={data}",
                 f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=100y",
                 "--log.level=warn"], cwd=workdir).start()
    server = Prometheus(f"http://127.0.0.1:{port}", proc)
    try:
        wait_for(lambda: _exited(proc) or http_get(server.url + "/-/ready").startswith(b"Prometheus"), 40,
                 "Prometheus to be ready")
        yield server
    finally:
        proc.stop()


def iso_to_epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()
