"""The local target: a FIFO resource of fixed capacity, latency growth then shedding."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from perftest.target import CapacityModel


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_below_capacity_requests_take_only_service_and_base_latency():
    clock = FakeClock()
    model = CapacityModel(50, base_latency_s=0.01, clock=clock)
    for _ in range(10):
        assert model.admit() == pytest.approx(0.02 + 0.01)
        clock.now += 1 / 40  # 40 rps: below capacity, nobody waits


def test_past_capacity_latency_grows_with_the_backlog():
    clock = FakeClock()
    model = CapacityModel(50, base_latency_s=0.0, max_queue_s=10, clock=clock)
    delays = []
    for _ in range(100):
        delays.append(model.admit())
        clock.now += 1 / 100  # twice the capacity
    assert delays[-1] > delays[50] > delays[10] > delays[0]
    # 100 arrivals in 1 s against 50 rps: the last waits about 1 s.
    assert delays[-1] == pytest.approx(1.0, abs=0.05)


def test_requests_that_would_queue_too_long_are_shed():
    clock = FakeClock()
    model = CapacityModel(10, base_latency_s=0.0, max_queue_s=0.5, clock=clock)
    outcomes = [model.admit() for _ in range(20)]  # a burst of 20 at once
    admitted = [d for d in outcomes if d is not None]
    assert len(admitted) == 6  # waits of 0, 0.1, ..., 0.5 s fit; the rest are shed
    assert outcomes[-1] is None


@pytest.mark.parametrize("bad", [0, -5])
def test_capacity_must_be_positive(bad):
    with pytest.raises(ValueError, match="capacity_rps"):
        CapacityModel(bad)


def _get(url: str, path: str) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body


def test_server_serves_work_health_and_stats(target_factory):
    target = target_factory(100)
    assert _get(target.url, "/health") == (200, b'{"status":"ok"}')
    status, _ = _get(target.url, "/work")
    assert status == 200
    stats = json.loads(_get(target.url, "/stats")[1])
    assert stats["served"] == 1 and stats["capacity_rps"] == 100


def test_server_throughput_is_capped_at_its_capacity(target_factory):
    target = target_factory(40, max_queue_s=0.25)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(lambda _: _get(target.url, "/work")[0], range(80)))
    elapsed = time.monotonic() - started
    served = statuses.count(200)
    # A burst of 80 against 40 rps with 0.25 s of queue: about 11 served, the rest shed.
    assert statuses.count(503) > 0
    assert served <= 40 * elapsed + 2
