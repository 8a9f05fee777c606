"""perftest results offered as facts to the performance rules.

Per system, per test type: the latest *judged* run (pass or fail; invalid,
error and timeout runs are no evidence either way) and the latest run of any
verdict, with what the rules need to decide "fresh within N days, at or above
the forecast target, SLOs met"::

    {
      "tests": {
        "load": {
          "run_id": 12, "verdict": "pass", "started_at": "...", "age_days": 3.2,
          "target_rps": 48.0, "achieved_rps": 47.9, "sustained_rps": 47.9,
          "at_or_above_target": true, "slos_met": true,
          "p95_ms": 31.0, "p99_ms": 40.2, "error_rate": 0.0,
          "slo": {"p95_ms": 300, "p99_ms": 800, "error_rate": 0.01},
          "breaking_point_rps": null, "broke_at_rps": null, "time_to_recovery_s": null,
          "ramp_seconds": null,
          "k6_version": "1.1.0", "script_sha256": "..."
        },
        "overload": {...}
      },
      "latest_attempts": {"spike": {"run_id": 14, "verdict": "invalid", "reasons": [...], ...}},
      "runs_total": 9
    }

``ramp_seconds`` (spike) is the measured time from the ramp start until the
FLAS rate was being offered. For overload, ``broke`` is false when the service never breached its SLOs
within the ramp: ``breaking_point_rps`` is then a lower bound (the top step).
``sustained_rps`` is the rate the system is shown to handle within SLO: the
achieved rate of a passing load or spike test, the breaking point of an
overload test; ``None`` when the run does not show one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from perftest.store import RunRow, list_runs
from storage import utcnow

JUDGED = ("pass", "fail")


@dataclass
class PerftestFactSource:
    """A readiness ``FactSource``: ``name``, ``freshness`` and ``collect(engine)``."""

    name: str = "perftest"
    freshness: timedelta = timedelta(days=45)
    now: Callable[[], datetime] = field(default=utcnow)

    def collect(self, engine: Engine):
        from readiness import CollectedFacts

        return CollectedFacts(source=self.name, by_system=self.facts(engine), origin="perftest runs")

    def facts(self, engine: Engine) -> dict[str, dict]:
        now = self.now()
        by_system: dict[str, dict] = {}
        for row in list_runs(engine):  # newest first
            if row.system_id is None:
                continue  # ad-hoc runs are not evidence about a catalogued system
            entry = by_system.setdefault(row.system_id, {"tests": {}, "latest_attempts": {}, "runs_total": 0})
            entry["runs_total"] += 1
            entry["latest_attempts"].setdefault(row.test_type, _attempt(row, now))
            if row.verdict in JUDGED:
                entry["tests"].setdefault(row.test_type, _evidence(row, now))
        return by_system


def _attempt(row: RunRow, now: datetime) -> dict:
    return {
        "run_id": row.run_id,
        "verdict": row.verdict,
        "reasons": list(row.reasons),
        "started_at": row.started_at.isoformat(),
        "age_days": _age(row, now),
    }


def _evidence(row: RunRow, now: datetime) -> dict:
    sustained = _sustained(row)
    return {
        "run_id": row.run_id,
        "verdict": row.verdict,
        "started_at": row.started_at.isoformat(),
        "age_days": _age(row, now),
        "target_rps": row.target_rps,
        "peak_rps": row.peak_rps,
        "achieved_rps": None if row.achieved_rps is None else round(row.achieved_rps, 3),
        "sustained_rps": sustained,
        "at_or_above_target": sustained is not None and sustained >= _target(row) * 0.95,
        "slos_met": row.verdict == "pass",
        "p95_ms": row.p95_ms,
        "p99_ms": row.p99_ms,
        "error_rate": row.error_rate,
        "slo": row.slo,
        "breaking_point_rps": row.breaking_point_rps,
        "broke_at_rps": row.broke_at_rps,
        "broke": row.broke_at_rps is not None if row.test_type == "overload" else None,
        "time_to_recovery_s": row.time_to_recovery_s,
        "ramp_seconds": row.peak_reached_after_s,
        "k6_version": row.k6_version,
        "script_sha256": row.script_sha256,
    }


def _target(row: RunRow) -> float:
    return row.peak_rps if row.test_type == "spike" else row.target_rps


def _sustained(row: RunRow) -> float | None:
    if row.test_type == "overload":
        return row.breaking_point_rps
    if row.test_type in ("load", "spike") and row.verdict == "pass":
        return row.peak_rps if row.test_type == "spike" else row.achieved_rps
    if row.test_type == "failover" and row.verdict == "pass":
        return row.target_rps
    return None


def _age(row: RunRow, now: datetime) -> float:
    return round((now - row.started_at).total_seconds() / 86400, 3)
