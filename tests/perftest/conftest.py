"""Fixtures for perftest: a migrated database, local targets, the real k6."""

from __future__ import annotations

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
