"""Fixtures for perftest: a migrated database, local targets, the real k6."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perftest.k6 import locate_k6
from perftest.target import RunningTarget
from storage import get_engine, migrate


@pytest.fixture
def engine(tmp_path):
    eng = get_engine(f"sqlite:///{tmp_path / 'perftest.db'}")
    migrate(eng)
    return eng


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory):
    eng = get_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'perftest.db'}")
    migrate(eng)
    return eng


@pytest.fixture(scope="session")
def k6():
    return locate_k6()


@pytest.fixture
def target_factory():
    started: list[RunningTarget] = []

    def make(capacity_rps: float, **kwargs) -> RunningTarget:
        target = RunningTarget(capacity_rps, **kwargs).__enter__()
        started.append(target)
        return target

    yield make
    for target in started:
        target.__exit__(None, None, None)


class ProcessTarget:
    """The target in its own process (``python -m perftest.target``): measurements of it are
    not disturbed by the test process's own work (GIL, garbage collection)."""

    def __init__(self, capacity_rps: float, **options) -> None:
        argv = [sys.executable, "-m", "perftest.target", "--capacity-rps", str(capacity_rps)]
        if "max_queue_s" in options:
            argv += ["--max-queue-ms", str(options["max_queue_s"] * 1000)]
        if "base_latency_s" in options:
            argv += ["--base-latency-ms", str(options["base_latency_s"] * 1000)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), "target did not start"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.fixture
def process_target_factory():
    started: list[ProcessTarget] = []

    def make(capacity_rps: float, **options) -> ProcessTarget:
        target = ProcessTarget(capacity_rps, **options)
        started.append(target)
        return target

    yield make
    for target in started:
        target.stop()
