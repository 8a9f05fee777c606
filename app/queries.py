"""Read-only aggregate queries the dashboard runs on readiness data.

Everything else goes through the public functions of ``readiness``,
``perftest``, ``kapacity`` and ``flashsales``. Company-wide aggregates come
from ``readiness.rule_summary`` (written at evaluation); the queries left here
group one system's, one rule's or one domain's results, which no public read
model returns, without loading a run's results into the page (about 600,000
rows at 10,000 systems). Each is a single grouped ``SELECT``, never a write.
"""

from __future__ import annotations

from sqlalchemy import case, func, inspect, select
from sqlalchemy.engine import Engine

import readiness
from readiness.models import EvaluationRun, Group, RuleResult, ScoreSnapshot, System, Team

FAILING = ("fail", "no_data", "expired", "pending_review", "error")


def has_tables(engine: Engine, *names: str) -> bool:
    """Whether every named table exists (the schema may not be migrated yet)."""
    inspector = inspect(engine)
    return all(inspector.has_table(name) for name in names)


def category_points(engine: Engine, run_id: int, *, domain: str | None = None) -> list[dict]:
    """Points possible and earned per rule, summed per domain (or per team inside one domain).

    Rows: ``{"unit", "rule_id", "possible", "earned", "results", "short"}`` where
    ``short`` counts results that earned less than their weight. Only results
    that count towards the score are included. Per domain it reads the run's
    stored summary; per team it groups the one domain's results.
    """
    if domain is None:
        cells: dict[tuple[str, str], dict] = {}
        for row in readiness.rule_summary(engine, run_id):
            if not row["counted"]:
                continue
            cell = cells.setdefault((row["domain"], row["rule_id"]), {
                "unit": row["domain"], "rule_id": row["rule_id"], "possible": 0.0, "earned": 0.0,
                "results": 0, "short": 0})
            for name in ("possible", "earned", "results", "short"):
                cell[name] += row[name]
        return list(cells.values())
    query = (
        select(Team.key.label("unit"), RuleResult.rule_id,
               func.sum(RuleResult.weight).label("possible"), func.sum(RuleResult.earned).label("earned"),
               func.count().label("results"),
               func.sum(case((RuleResult.earned < RuleResult.weight, 1), else_=0)).label("short"))
        .join(System, System.system_id == RuleResult.system_id)
        .join(Team, Team.key == System.team_key)
        .join(Group, Group.key == Team.group_key)
        .where(RuleResult.run_id == run_id, RuleResult.counted == True, Group.domain_key == domain)  # noqa: E712
        .group_by(Team.key, RuleResult.rule_id)
    )
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def rule_status_counts(engine: Engine, run_id: int) -> list[dict]:
    """How many systems got each status from each rule in a run (from the stored summary)."""
    counted: dict[tuple[str, str], int] = {}
    for row in readiness.rule_summary(engine, run_id):
        key = (row["rule_id"], row["status"])
        counted[key] = counted.get(key, 0) + row["results"]
    return [{"rule_id": rule_id, "status": status, "systems": systems}
            for (rule_id, status), systems in sorted(counted.items())]


def system_results(engine: Engine, run_id: int, system_id: str) -> list[dict]:
    """Every result of one system in a run (passing ones too), by rule id."""
    query = (select(RuleResult.rule_id, RuleResult.status, RuleResult.credit, RuleResult.weight,
                    RuleResult.earned, RuleResult.counted, RuleResult.message, RuleResult.evidence,
                    RuleResult.basis, RuleResult.rule_version)
             .where(RuleResult.run_id == run_id, RuleResult.system_id == system_id)
             .order_by(RuleResult.rule_id))
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def rule_results(engine: Engine, run_id: int, rule_id: str, *, statuses: tuple[str, ...] = FAILING,
                 limit: int = 500) -> list[dict]:
    """Systems with one of ``statuses`` from one rule in a run, most points lost first."""
    query = (select(RuleResult.system_id, RuleResult.status, RuleResult.message,
                    (RuleResult.weight - RuleResult.earned).label("points_lost"), RuleResult.evidence)
             .where(RuleResult.run_id == run_id, RuleResult.rule_id == rule_id,
                    RuleResult.status.in_(statuses))
             .order_by((RuleResult.weight - RuleResult.earned).desc(), RuleResult.system_id)
             .limit(limit))
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def score_rows(engine: Engine, run_id: int, levels: tuple[str, ...]) -> list[dict]:
    """Score snapshots of whole levels in a run, without the confidence breakdown.

    ``readiness.scores`` returns the same rows as ORM objects with their
    confidence; at 10,000 systems that costs about a second, this a tenth.
    """
    query = (select(ScoreSnapshot.level, ScoreSnapshot.key, ScoreSnapshot.name, ScoreSnapshot.parent_key,
                    ScoreSnapshot.score, ScoreSnapshot.points_possible, ScoreSnapshot.points_outstanding,
                    ScoreSnapshot.failing_rules)
             .where(ScoreSnapshot.run_id == run_id, ScoreSnapshot.level.in_(levels)))
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def system_catalog(engine: Engine) -> list[dict]:
    """Systems in service with their team and domain (``readiness.active_systems`` without the
    dependency lists, which the dashboard's tables do not need)."""
    query = (select(System.system_id, System.name, System.tier, System.traffic_class, System.public,
                    System.purchase_flow, System.team_key.label("team"), Group.domain_key.label("domain"))
             .join(Team, Team.key == System.team_key).join(Group, Group.key == Team.group_key)
             .where(System.retired == False).order_by(System.system_id))  # noqa: E712
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def run_started(engine: Engine, run_id: int) -> str | None:
    """When a run started (identifies the run across a rebuilt database)."""
    with engine.connect() as connection:
        value = connection.execute(select(EvaluationRun.started_at).where(EvaluationRun.id == run_id)).scalar()
    return None if value is None else str(value)
