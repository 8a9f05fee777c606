"""Lean read models for dashboards: one system's, one rule's or one domain's results, as plain rows.

Company-wide aggregates come from ``rule_summary`` (written at evaluation);
the reads here group or list what no summary holds, without loading a run's
results into the caller (about 600,000 rows at 10,000 systems). Each is a
single ``SELECT`` returning dicts, never a write.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import case, func, inspect, select
from sqlalchemy.engine import Engine

from readiness.models import (
    EvaluationRun,
    Group,
    RuleResult,
    ScoreSnapshot,
    System,
    Team,
    holds_for,
    of_run,
)
from readiness.reports import rule_summary
from readiness.rulekit import ATTESTATIONS
from readiness.scoring import LOSING_STATUSES

POINT_FIELDS = ("possible", "earned", "results", "short")


def rule_points(engine: Engine, run_id: int, *, domain: str | None = None) -> list[dict]:
    """Points possible and earned per rule, summed per domain (or per team inside one domain).

    Rows: ``{"unit", "rule_id", "possible", "earned", "results", "short"}`` where
    ``short`` counts results that earned less than their weight. Only results
    that count towards the score are included. Per domain it reads the run's
    stored summary; per team it groups the one domain's results.
    """
    if domain is None:
        return _domain_points(engine, run_id)
    query = (
        select(Team.key.label("unit"), RuleResult.rule_id,
               func.sum(RuleResult.weight).label("possible"), func.sum(RuleResult.earned).label("earned"),
               func.count().label("results"),
               func.sum(case((RuleResult.earned < RuleResult.weight, 1), else_=0)).label("short"))
        .join(System, System.system_id == RuleResult.system_id)
        .join(Team, Team.key == System.team_key)
        .join(Group, Group.key == Team.group_key)
        .where(RuleResult.counted == True, Group.domain_key == domain)  # noqa: E712
        .group_by(Team.key, RuleResult.rule_id)
    )
    query = of_run(query, run_id)
    return _rows(engine, query)


def _domain_points(engine: Engine, run_id: int) -> list[dict]:
    """``rule_points`` per domain, from the stored summary (its statuses added together)."""
    cells: dict[tuple[str, str], dict] = {}
    for row in rule_summary(engine, run_id):
        if not row["counted"]:
            continue
        cell = cells.setdefault((row["domain"], row["rule_id"]), {
            "unit": row["domain"], "rule_id": row["rule_id"], "possible": 0.0, "earned": 0.0, "results": 0,
            "short": 0})
        for name in POINT_FIELDS:
            cell[name] += row[name]
    return list(cells.values())


def rule_status_counts(engine: Engine, run_id: int) -> list[dict]:
    """How many systems got each status from each rule in a run (from the stored summary).

    Rows ``{"rule_id", "status", "systems"}``, sorted by rule and status.
    """
    counted: dict[tuple[str, str], int] = {}
    for row in rule_summary(engine, run_id):
        key = (row["rule_id"], row["status"])
        counted[key] = counted.get(key, 0) + row["results"]
    return [{"rule_id": rule_id, "status": status, "systems": systems}
            for (rule_id, status), systems in sorted(counted.items())]


def system_results(engine: Engine, run_id: int, system_id: str) -> list[dict]:
    """Every result of one system in a run (passing ones too), by rule id."""
    query = (select(RuleResult.rule_id, RuleResult.status, RuleResult.credit, RuleResult.weight,
                    RuleResult.earned, RuleResult.counted, RuleResult.message, RuleResult.evidence,
                    RuleResult.basis, RuleResult.rule_version)
             .where(RuleResult.system_id == system_id)
             .order_by(RuleResult.rule_id))
    query = of_run(query, run_id)
    return _rows(engine, query)


def rule_results(engine: Engine, run_id: int, rule_id: str, *,
                 statuses: Collection[str] = LOSING_STATUSES, limit: int = 500) -> list[dict]:
    """Systems with one of ``statuses`` (by default the losing ones) from one rule in a run,
    most points lost first: ``{"system_id", "status", "message", "points_lost", "evidence"}``."""
    lost = RuleResult.weight - RuleResult.earned
    query = (select(RuleResult.system_id, RuleResult.status, RuleResult.message, lost.label("points_lost"),
                    RuleResult.evidence)
             .where(RuleResult.rule_id == rule_id,
                    RuleResult.status.in_(sorted(str(status) for status in statuses)))
             .order_by(lost.desc(), RuleResult.system_id)
             .limit(limit))
    query = of_run(query, run_id)
    return _rows(engine, query)


def score_rows(engine: Engine, run_id: int, levels: Collection[str]) -> list[dict]:
    """Score snapshots of whole levels in a run, without the confidence breakdown.

    ``scores`` returns one level with its confidence; at 10,000 systems that
    costs about a second, this a tenth. Rows: ``{"level", "key", "name",
    "parent_key", "score", "points_possible", "points_outstanding", "failing_rules"}``.
    """
    s = ScoreSnapshot
    query = (select(s.level, s.key, s.name, s.parent_key, s.score, s.points_possible, s.points_outstanding,
                    s.failing_rules)
             .where(holds_for(s, run_id), s.level.in_(list(levels))))
    return _rows(engine, query)


def system_catalog(engine: Engine) -> list[dict]:
    """Systems in service with their team and domain, by id (``active_systems`` without the
    dependency lists): ``{"system_id", "name", "tier", "traffic_class", "public",
    "purchase_flow", "team", "domain"}``."""
    query = (select(System.system_id, System.name, System.tier, System.traffic_class, System.public,
                    System.purchase_flow, System.team_key.label("team"), Group.domain_key.label("domain"))
             .join(Team, Team.key == System.team_key).join(Group, Group.key == Team.group_key)
             .where(System.retired == False).order_by(System.system_id))  # noqa: E712
    return _rows(engine, query)


def run_started(engine: Engine, run_id: int) -> str | None:
    """When a run started, as text (identifies the run across a rebuilt database); None if no such run."""
    with engine.connect() as connection:
        value = connection.execute(select(EvaluationRun.started_at).where(EvaluationRun.id == run_id)).scalar()
    return None if value is None else str(value)


TEAM_BASES = frozenset({"attested", "pending", "waiver"})  # results that rest on a review or a waiver
TEAM_STATUSES = frozenset({"pending_review", "waived"})


def result_changes(engine: Engine, since_run: int, run_id: int) -> dict:
    """Results that differ between two runs (status, basis or points earned), each with what
    caused it, so a reader tells a data refresh from team work.

    ``{"from_run", "to_run", "from_at", "to_at", "changes": [...]}``; each change is
    ``{"system_id", "rule_id", "before", "after", "points", "cause"}`` (``points``: earned
    after minus before; ``before``/``after`` None when the result is new or gone) where
    ``cause`` is the first that holds:

    - ``team``: the result rests on a review or a waiver in one run and not in the same way
      in the other (its basis changed to or from attested, pending or waiver, or its status to
      or from pending review or waived), or the only facts of the system that changed are the
      review states (the ``attestations`` source: a review submitted, decided or expired);
    - ``rule``: the rule's version changed;
    - ``data``: the system's facts changed (a collection or an import brought new ones), or
      the system came or went (a catalog import);
    - ``time``: nothing above: a due date passed, facts went stale, a waiver expired.

    One query per run over its results (compared here: faster than joining them in the
    database), plus the two runs' fact fingerprints.
    """
    r = RuleResult
    with engine.connect() as connection:
        runs = {row[0]: row for row in connection.execute(
            select(EvaluationRun.id, EvaluationRun.started_at, EvaluationRun.fact_hashes)
            .where(EvaluationRun.id.in_([since_run, run_id])))}
        seen: dict[int, dict[tuple[str, str], tuple]] = {since_run: {}, run_id: {}}
        for run in seen:  # each run's results, those it carries forward from earlier runs included
            for system_id, rule_id, *rest in connection.execute(of_run(
                    select(r.system_id, r.rule_id, r.status, r.basis, r.earned, r.rule_version), run)):
                seen[run][(system_id, rule_id)] = tuple(rest)
    before, after = seen[since_run], seen[run_id]
    rows = [(key, before[key], after[key]) for key in before.keys() & after.keys()
            if before[key][:2] != after[key][:2] or abs(before[key][2] - after[key][2]) > 1e-9]
    only = [("gone", key, before[key]) for key in before.keys() - after.keys()]
    only += [("new", key, after[key]) for key in after.keys() - before.keys()]
    hashes = {run: dict((runs[run][2] if run in runs else None) or {}) for run in (since_run, run_id)}
    changes = []
    for (system_id, rule_id), (s1, b1, e1, v1), (s2, b2, e2, v2) in rows:
        facts = _changed_sources(hashes[since_run].get(system_id), hashes[run_id].get(system_id))
        if (b1 != b2 and (b1 in TEAM_BASES or b2 in TEAM_BASES)) or (s1 != s2 and {s1, s2} & TEAM_STATUSES) \
                or facts == {ATTESTATIONS}:
            cause = "team"
        elif v1 != v2:
            cause = "rule"
        elif facts:
            cause = "data"
        else:
            cause = "time"
        changes.append({"system_id": system_id, "rule_id": rule_id, "before": s1, "after": s2,
                        "points": round(e2 - e1, 4), "cause": cause})
    for side, (system_id, rule_id), (status, _basis, earned, _version) in only:
        changes.append({"system_id": system_id, "rule_id": rule_id, "before": status if side == "gone" else None,
                        "after": status if side == "new" else None,
                        "points": round(earned if side == "new" else -earned, 4), "cause": "data"})
    changes.sort(key=lambda c: (c["system_id"], c["rule_id"]))
    at = {run: runs[run][1] if run in runs else None for run in (since_run, run_id)}
    return {"from_run": since_run, "to_run": run_id, "from_at": at[since_run], "to_at": at[run_id],
            "changes": changes}


def _changed_sources(before: dict | None, after: dict | None) -> set[str]:
    """Fact sources whose content differs between two runs' fingerprints of one system."""
    before, after = before or {}, after or {}
    return {source for source in before.keys() | after.keys() if before.get(source) != after.get(source)}


def _rows(engine: Engine, query) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def schema_ready(engine: Engine) -> bool:
    """Whether the readiness tables exist (a database not yet migrated has none)."""
    inspector = inspect(engine)
    return all(inspector.has_table(table.__tablename__) for table in (EvaluationRun, ScoreSnapshot, System))
