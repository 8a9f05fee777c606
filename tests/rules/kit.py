"""Builders for rule fixtures: a system, its facts, assets with sensible defaults, one case row.

A case names a rule, a system (overrides of a critical, public, purchase-flow
FLAS system), facts and the exact expected status and credit. Rules are
called directly (module ``rules.<id>``) after the applicability check the
engine makes, so fixtures test each rule as the engine would run it.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from readiness.frozen import rule_inputs
from readiness.rulekit import Facts, Outcome, Status, SystemView

P, F, N, D = Status.PASS, Status.FAIL, Status.NOT_APPLICABLE, Status.NO_DATA


def system(**over: Any) -> SystemView:
    fields = {"system_id": "SYS-1", "name": "checkout-api", "tier": "critical", "traffic_class": "FLAS",
              "public": True, "purchase_flow": True, "team": "checkout", "domain": "pay",
              "services": (), "dependencies": ()}
    fields.update(over)
    return SystemView(**fields)


def facts(inventory: dict | None = None, **sources: dict) -> Facts:
    by_source = {"inventory": inventory or {}}
    by_source.update(sources)
    return Facts(by_source)


def judge(rule_id: str, view: SystemView, given: Facts) -> Outcome:
    """What the engine computes before overlays: applicability first, then the rule."""
    module = importlib.import_module(f"rules.{rule_id}")
    reason = module.META.applies_to.reason_not_applicable(view)
    if reason:
        return Outcome(Status.NOT_APPLICABLE, 0.0, reason)
    return module.evaluate(*rule_inputs(view, given.by_source))  # read-only, as the engine hands them


def case(rule_id: str, name: str, expected: Status, credit: float, given: Facts | None = None, **view: Any):
    """One fixture row: ``rule_id`` judged on ``system(**view)`` with ``given`` facts."""
    return pytest.param(rule_id, system(**view), given if given is not None else facts(), expected, credit,
                        id=f"{rule_id}-{name}")


def compute(asset_id: str = "svc", **fields: Any) -> dict:
    base = {"id": asset_id, "replicas": 3, "zones": ["a", "b", "c"],
            "health_checks": {"readiness": True, "liveness": True}, "disruption_budget": {"min_available": 1},
            "autoscaling": {"enabled": True, "min": 3, "max": 10}, "rps_per_replica": 100,
            "forecast_baseline_rps": 400, "forecast_flas_rps": 300,
            "capacity_reservation": True, "quota_headroom": 0.4,
            "failover": {"mode": "active-passive", "rto_minutes": 15},
            "deployment": {"strategy": "canary", "auto_rollback": True}, "tracing": True}
    base.update(fields)
    return base


def database(asset_id: str = "db", client: dict | None = None, **fields: Any) -> dict:
    base = {"id": asset_id, "engine": "postgres", "multi_az": True, "automatic_failover": True,
            "failover_dns_ttl_seconds": 5, "backup_retention_days": 14, "storage_used_gb": 100,
            "storage_allocated_gb": 1000, "storage_autoscaling": False, "read_replicas": 1, "read_share": 0.5,
            "client": {"connect_timeout_ms": 2000, "query_timeout_ms": 5000, "scan_timeout_ms": 30000,
                       "pool_size": 20, "failover_aware": True, "query_ms_p99": 20, "queries_per_request": 1}}
    base["client"].update(client or {})
    base.update(fields)
    return base


def client(target: str = "SYS-2", **fields: Any) -> dict:
    base = {"id": f"->{target}", "target": target, "third_party": False, "essential": True, "timeout_ms": 1000,
            "retries": {"max": 2, "backoff": "exponential"}, "circuit_breaker": False, "fallback": False,
            "idempotent": True, "idempotency_key": False, "provider_rate_limit_rps": None, "calls_per_request": 1.0}
    base.update(fields)
    return base


def drill(kind: str, age_days: int | None = 10, outcome: str = "passed", **fields: Any) -> dict:
    base = {"id": f"{kind}-drill", "kind": kind, "performed_on": "2026-01-01", "age_days": age_days,
            "outcome": outcome}
    base.update(fields)
    return base


def perftest_run(verdict: str = "pass", age_days: float = 3.0, **fields: Any) -> dict:
    """A ``tests.<type>`` entry as perftest's fact source writes it."""
    base = {"run_id": 12, "verdict": verdict, "started_at": "2026-01-01T00:00:00", "age_days": age_days,
            "target_rps": 400.0, "peak_rps": 400.0, "achieved_rps": 400.0, "sustained_rps": 400.0,
            "at_or_above_target": True, "slos_met": verdict == "pass", "p95_ms": 100.0, "p99_ms": 200.0,
            "error_rate": 0.0, "slo": {"p95_ms": 300, "p99_ms": 800, "error_rate": 0.01},
            "breaking_point_rps": None, "broke_at_rps": None, "time_to_recovery_s": None}
    base.update(fields)
    return base


def perftest(**tests: dict) -> dict:
    return {"tests": tests, "latest_attempts": {}, "runs_total": len(tests)}


def review(state: str, **fields: Any) -> dict:
    base = {"state": state, "submitted_by": "cy", "decided_by": "ada" if state != "pending" else None,
            "decided_at": None, "expires_at": "2027-12-31", "comment": "", "answers": {}, "evidence": [],
            "review_id": 1}
    base.update(fields)
    return base
