"""perftest's tables: runs with their settings, summaries, windows, breaking points, failovers."""

from __future__ import annotations

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel


class PerftestRun(SQLModel, table=True):
    """One k6 run: what was asked (settings), what produced it, and the verdict."""

    __tablename__ = "perftest_run"

    id: int | None = Field(default=None, primary_key=True)
    system_id: str | None = Field(default=None, index=True)
    test_type: str = Field(index=True)
    verdict: str = Field(index=True, description="pass | fail | invalid | error | timeout | interrupted")
    reasons: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    url: str
    target_rps: float
    peak_rps: float
    planned_duration_s: float
    started_at: NaiveDatetime = Field(index=True)
    finished_at: NaiveDatetime
    k6_version: str
    k6_exit_code: int | None = None
    k6_outcome: str
    killed: bool = False
    script_sha256: str
    settings: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str = "cli"
    plan_path: str | None = None
    plan_sha256: str | None = None
    stderr_tail: str = ""


class PerftestSummary(SQLModel, table=True):
    """Cumulative figures from k6's handleSummary, plus test-type specifics (``extra``)."""

    __tablename__ = "perftest_summary"

    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("perftest_run.id", ondelete="CASCADE"), primary_key=True)
    )
    requests: int
    achieved_rps: float
    error_rate: float
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    avg_ms: float | None = None
    iterations: int
    dropped_iterations: int
    dropped_share: float
    thresholds: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    extra: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PerftestWindow(SQLModel, table=True):
    """Windowed figures: per profile phase (``kind='phase'``) or per second (``kind='time'``)."""

    __tablename__ = "perftest_window"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("perftest_run.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    kind: str
    label: str
    start_s: float
    end_s: float
    target_rps: float | None = None
    requests: int
    achieved_rps: float
    error_rate: float
    p95_ms: float | None = None
    p99_ms: float | None = None
    dropped: int
    within_slo: bool
    breaches: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PerftestBreakingPoint(SQLModel, table=True):
    __tablename__ = "perftest_breaking_point"

    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("perftest_run.id", ondelete="CASCADE"), primary_key=True)
    )
    sustained_rps: float | None = None
    broke_at_rps: float | None = None
    reason: str


class PerftestFailover(SQLModel, table=True):
    __tablename__ = "perftest_failover"

    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("perftest_run.id", ondelete="CASCADE"), primary_key=True)
    )
    command: str
    command_exit_code: int | None = None
    command_output: str = ""
    trigger_s: float
    disrupted: bool
    time_to_recovery_s: float | None = None
    recovered: bool
    failed_requests: int
    requests_during: int
    p95_during_ms: float | None = None
    p99_during_ms: float | None = None
    max_during_ms: float | None = None
