"""What one test run is: its type, endpoints, SLOs and arrival-rate profile.

A :class:`TestSpec` is plain data, validated when built, and is stored with
every run as the record of what produced the result. ``profile()`` turns it
into arrival-rate phases, from which both the k6 script and the analysis
windows are derived, so the two can never disagree.
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from perftest.urls import k6_host

SPIKE_MAX_RAMP_S = 120.0


class TestType(StrEnum):
    LOAD = "load"
    SPIKE = "spike"
    OVERLOAD = "overload"
    FAILOVER = "failover"

    __test__ = False  # not a pytest class


class SLO(BaseModel):
    """Service level objectives a run is judged against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p95_ms: float = Field(500.0, gt=0, description="95th percentile latency limit, milliseconds")
    p99_ms: float = Field(1000.0, gt=0, description="99th percentile latency limit, milliseconds")
    error_rate: float = Field(0.01, ge=0, le=1, description="share of failed requests allowed, 0-1")

    @model_validator(mode="after")
    def _ordered(self) -> SLO:
        if self.p99_ms < self.p95_ms:
            raise ValueError(f"p99_ms ({self.p99_ms}) must be >= p95_ms ({self.p95_ms})")
        return self


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "default"
    url: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    weight: float = Field(1.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        k6_host(value)  # refuses URLs k6 and the allow-list would read differently
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        method = value.upper()
        allowed = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
        if method not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {value!r}")
        return method

    @property
    def host(self) -> str:
        """The host k6 connects to (the one the allow-list checks)."""
        return k6_host(self.url)


class Phase(BaseModel):
    """A stretch of the arrival-rate profile: rate moves linearly from start to end."""

    model_config = ConfigDict(frozen=True)

    name: str
    start_s: float
    duration_s: float
    from_rps: int
    to_rps: int

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


class OverloadSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    step_s: float = Field(10.0, ge=1, description="seconds per step")
    start_factor: float = Field(0.5, gt=0, description="first step, as a multiple of rps")
    max_factor: float = Field(2.0, gt=0, description="last step, as a multiple of rps")
    step_factor: float = Field(0.1, gt=0, description="increase per step, as a multiple of rps")
    stop_after_break: bool = Field(True, description="stop the ramp once two consecutive steps breach the SLO")

    @model_validator(mode="after")
    def _range(self) -> OverloadSettings:
        if self.max_factor <= self.start_factor:
            raise ValueError("max_factor must be greater than start_factor")
        return self


class SpikeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline_rps: float | None = Field(None, gt=0, description="rate before and after the spike")
    warmup_s: float = Field(10.0, ge=1, description="seconds at baseline before the ramp")
    ramp_s: float = Field(60.0, gt=0, le=SPIKE_MAX_RAMP_S, description="ramp to the FLAS rate, <= 120 s")
    cooldown_s: float = Field(10.0, ge=0, description="seconds back at baseline after the spike")


class FailoverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str = Field(description="shell command that triggers the failover")
    trigger_after_s: float = Field(10.0, ge=1, description="seconds of steady load before the trigger")
    command_timeout_s: float = Field(120.0, gt=0)
    max_recovery_s: float = Field(30.0, gt=0, description="limit on the time to recovery")
    max_errors: int | None = Field(None, ge=0, description="limit on failed requests during failover")
    settle_s: float = Field(2.0, gt=0, description="clean seconds that count as recovered")


class TestSpec(BaseModel):
    """One run. ``rps`` is the load rate, the spike's FLAS peak, the overload forecast
    (steps are multiples of it) or the failover's steady rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    __test__ = False

    test_type: TestType
    endpoints: list[Endpoint] = Field(min_length=1)
    rps: float = Field(gt=0)
    duration_s: float = Field(60.0, gt=0, description="load/failover: total; spike: hold at peak")
    slo: SLO = Field(default_factory=SLO)
    system_id: str | None = None
    script: Path | None = Field(None, description="k6 module whose default export is one iteration")
    overload: OverloadSettings = Field(default_factory=OverloadSettings)
    spike: SpikeSettings = Field(default_factory=SpikeSettings)
    failover: FailoverSettings | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TestSpec:
        if self.test_type is TestType.FAILOVER and self.failover is None:
            raise ValueError("a failover test needs the command that triggers the failover (--failover-command, or tests.failover.command in a plan)")
        if self.test_type is TestType.FAILOVER and self.failover.trigger_after_s >= self.duration_s:
            raise ValueError("failover.trigger_after_s must be shorter than duration_s")
        return self

    # --- profile -----------------------------------------------------------------

    def profile(self) -> list[Phase]:
        rate = _rate(self.rps)
        if self.test_type in (TestType.LOAD, TestType.FAILOVER):
            return [Phase(name="steady", start_s=0, duration_s=self.duration_s, from_rps=rate, to_rps=rate)]
        if self.test_type is TestType.SPIKE:
            base = _rate(self.baseline_rps)
            s = self.spike
            phases = [
                ("baseline", s.warmup_s, base, base),
                ("ramp_up", s.ramp_s, base, rate),
                ("peak", self.duration_s, rate, rate),
                ("ramp_down", s.ramp_s, rate, base),
                ("cooldown", s.cooldown_s, base, base),
            ]
            return _chain(phases)
        return _chain(
            (f"step_{i}", self.overload.step_s, r, r) for i, r in enumerate(self.overload_rates())
        )

    @property
    def baseline_rps(self) -> float:
        return self.spike.baseline_rps or max(1.0, self.rps / 5)

    def overload_rates(self) -> list[int]:
        o = self.overload
        count = int(math.floor((o.max_factor - o.start_factor) / o.step_factor + 1e-9)) + 1
        rates: list[int] = []
        for i in range(count):
            r = _rate(self.rps * (o.start_factor + i * o.step_factor))
            if not rates or r > rates[-1]:
                rates.append(r)
        return rates

    def planned_duration_s(self) -> float:
        last = self.profile()[-1]
        return last.end_s

    def peak_rps(self) -> int:
        return max(max(p.from_rps, p.to_rps) for p in self.profile())

    def planned_requests(self) -> float:
        return sum((p.from_rps + p.to_rps) / 2 * p.duration_s for p in self.profile())

    @property
    def hosts(self) -> list[str]:
        return sorted({e.host for e in self.endpoints})


def _rate(value: float) -> int:
    return max(1, int(round(value)))


def _chain(phases) -> list[Phase]:
    out: list[Phase] = []
    start = 0.0
    for name, duration, a, b in phases:
        if duration <= 0:
            continue
        out.append(Phase(name=name, start_s=start, duration_s=duration, from_rps=a, to_rps=b))
        start += duration
    return out
