"""Watch an overload run while it runs, and stop the ramp once the service has broken.

k6 thresholds are cumulative and abort only on the whole run's figures, so
the stepped ramp would go on pounding a service that broke several steps
ago. This watcher tails a second, uncompressed ``--out json`` stream, judges
each step once it is over (plus a settling time for its slow responses), and
when two consecutive steps breach the SLO (the same confirmed-break rule as
:func:`perftest.analysis.breaking_point`) sends k6 SIGINT: k6 stops, still
writes its summary and the compressed points, and exits 105. The verdict is
then computed from those files as usual.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np

from perftest.analysis import _parse_time
from perftest.spec import TestSpec


class BreakWatcher:
    def __init__(self, spec: TestSpec, path: Path, *, settle_s: float = 2.0, poll_s: float = 0.25) -> None:
        self.spec = spec
        self.path = path
        self.settle_s = settle_s
        self.poll_s = poll_s
        self.stopped_at_phase: str | None = None
        self._phases = spec.profile()
        self._durations: dict[str, list[float]] = {p.name: [] for p in self._phases}
        self._failed: dict[str, int] = {p.name: 0 for p in self._phases}
        self._origin: float | None = None
        self._latest_end: float = 0.0
        self._judged: list[bool] = []  # breached?, in phase order
        self._thread: threading.Thread | None = None
        self._done = threading.Event()

    def arm(self, proc: subprocess.Popen) -> None:
        self._thread = threading.Thread(target=self._watch, args=(proc,), daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _watch(self, proc: subprocess.Popen) -> None:
        buffer = ""
        handle = None
        while not self._done.is_set() and proc.poll() is None:
            if handle is None:
                if not self.path.exists():
                    time.sleep(self.poll_s)
                    continue
                handle = open(self.path)  # noqa: SIM115 (kept open while tailing)
            chunk = handle.read()
            if chunk:
                buffer += chunk
                *lines, buffer = buffer.split("\n")
                for line in lines:
                    self._take(line)
            if self._should_stop():
                try:
                    proc.send_signal(signal.SIGINT)
                except ProcessLookupError:
                    pass
                break
            time.sleep(self.poll_s)
        if handle is not None:
            handle.close()

    def _take(self, line: str) -> None:
        if '"Point"' not in line or '"http_req_duration"' not in line:
            return
        try:
            data = json.loads(line)["data"]
        except (ValueError, KeyError):
            return
        end = _parse_time(data["time"]).timestamp()
        duration = float(data["value"])
        start = end - duration / 1000
        if self._origin is None or start < self._origin:
            self._origin = start
        self._latest_end = max(self._latest_end, end)
        tags = data.get("tags") or {}
        phase = tags.get("phase", "")
        if phase in self._durations:
            self._durations[phase].append(duration)
            if tags.get("expected_response") != "true":
                self._failed[phase] += 1

    def _should_stop(self) -> bool:
        if self._origin is None:
            return False
        elapsed = time.time() - self._origin
        slo = self.spec.slo
        while len(self._judged) < len(self._phases):
            phase = self._phases[len(self._judged)]
            if elapsed < phase.end_s + self.settle_s:
                break
            values = np.asarray(self._durations[phase.name])
            n = len(values)
            breached = n == 0 or (
                float(np.percentile(values, 95)) > slo.p95_ms
                or float(np.percentile(values, 99)) > slo.p99_ms
                or self._failed[phase.name] / n > slo.error_rate
            )
            self._judged.append(breached)
        if len(self._judged) >= 2 and self._judged[-1] and self._judged[-2]:
            if len(self._judged) < len(self._phases):  # otherwise the ramp is over anyway
                self.stopped_at_phase = self._phases[len(self._judged) - 1].name
                return True
        return False
