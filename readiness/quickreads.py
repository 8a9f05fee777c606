"""The command line's quick reads (`readiness runs`, `score`, `explain`) on SQLAlchemy Core alone.

Each answers exactly as its read model in ``readiness.reports`` does (``list_runs``,
``scores``, ``explain``: the same rows, values and order, on SQLite and PostgreSQL), but
without the ORM: importing SQLModel, the table models and the catalog cost a read command
more than the query itself (issue 19: a read under 0.5 s; benchmarks/cli_speed.py).
The tables are described here with only the columns these reads use, in their stored
types (``readiness.models`` is the schema; tests/readiness/test_quickreads.py reads the
same data both ways, and tests/clikit/test_startup.py keeps SQLModel out of these commands).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    exists,
    func,
    or_,
    select,
    tuple_,
)

from readiness.errors import NotFound
from readiness.runspan import holds_for

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

_tables = MetaData()  # private: never created or migrated from here

_run = Table("readiness_run", _tables,
             Column("id", Integer, primary_key=True), Column("started_at", DateTime), Column("status", String),
             Column("systems", Integer), Column("results", Integer), Column("errors", Integer),
             Column("company_score", Float), Column("inputs_hash", String))
_run_system = Table("readiness_run_system", _tables,
                    Column("run_id", Integer), Column("system_id", String), Column("results_run_id", Integer),
                    Column("last_run_id", Integer))
_run_state = Table("readiness_run_state", _tables, Column("run_id", Integer))
_system = Table("readiness_system", _tables,
                Column("system_id", String, primary_key=True), Column("name", String), Column("tier", String),
                Column("traffic_class", String), Column("retired", Boolean))
_result = Table("readiness_result", _tables,
                Column("run_id", Integer), Column("system_id", String), Column("rule_id", String),
                Column("status", String), Column("weight", Float), Column("earned", Float),
                Column("message", String), Column("evidence", JSON))
_score = Table("readiness_score", _tables,
               Column("run_id", Integer), Column("last_run_id", Integer), Column("level", String), Column("key", String), Column("name", String),
               Column("parent_key", String), Column("score", Float), Column("points_possible", Float),
               Column("points_outstanding", Float), Column("systems", Integer), Column("failing_rules", Integer),
               Column("confidence", JSON))

LEVELS = ("company", "domain", "group", "team", "system")
# What a score's confidence is split into (scoring fills them; `score` prints one column each).
BASES = ("automated", "attested", "pending", "unattested", "waiver", "stale")
RUN_FIELDS = ("id", "started_at", "status", "systems", "results", "errors", "company_score", "inputs_hash")
# Statuses an explanation leaves out: nothing to fix.
_NOTHING_TO_FIX = ("pass", "not_applicable", "waived")


def latest_run_id(engine: Engine) -> int | None:
    with engine.connect() as connection:
        return connection.execute(select(func.max(_run.c.id)).where(_run.c.status == "complete")).scalar()


def _run_or_latest(engine: Engine, run_id: int | None) -> int:
    run_id = run_id or latest_run_id(engine)
    if run_id is None:
        raise NotFound("no evaluation run yet: run `readiness evaluate` (or `readiness demo`)")
    return run_id


def list_runs(engine: Engine, limit: int = 50) -> list[dict]:
    """The latest ``limit`` runs, newest first, as ``RUN_FIELDS`` (``reports.list_runs`` without the ORM)."""
    query = select(*(_run.c[name] for name in RUN_FIELDS)).order_by(_run.c.id.desc()).limit(limit)
    with engine.connect() as connection:
        return [dict(zip(RUN_FIELDS, row, strict=True)) for row in connection.execute(query)]


def scores(engine: Engine, level: str, *, run_id: int | None = None, parent: str | None = None) -> list[dict]:
    """Scores of every unit at a level in a run, worst first (``readiness.scores`` too)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; accepted: {', '.join(LEVELS)}")
    run_id = _run_or_latest(engine, run_id)
    s = _score.c
    query = (select(s.level, s.key, s.name, s.parent_key, s.score, s.points_possible, s.points_outstanding,
                    s.systems, s.failing_rules, s.confidence)
             .where(holds_for(s, run_id), s.level == level))
    if parent is not None:
        query = query.where(s.parent_key == parent)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(s.score, s.key)).all()
    return [{"level": level, "key": key, "name": name, "parent": parent, "score": round(score, 2),
             "points_possible": round(possible, 2), "points_outstanding": round(outstanding, 2),
             "systems": systems, "failing_rules": failing, "confidence": confidence, "run_id": run_id}
            for level, key, name, parent, score, possible, outstanding, systems, failing, confidence in rows]


def _of_run(query, run_id: int):
    """``query`` over results narrowed to one run's (as ``readiness.models.of_run``): those it
    wrote and those it carries forward by reference; a run stored before incremental runs
    (no run state) has only its own."""
    carried = select(_run_system.c.results_run_id, _run_system.c.system_id).where(holds_for(_run_system.c, run_id))
    legacy = ~exists().where(_run_state.c.run_id == run_id)
    return query.where(or_(tuple_(_result.c.run_id, _result.c.system_id).in_(carried),
                           and_(_result.c.run_id == run_id, legacy)))


def explain(engine: Engine, system_id: str, *, rules_dirs: Iterable[Path] = (), run_id: int | None = None) -> dict:
    """What a system scored, and for every rule not fully met: why and how to fix it (as
    ``reports.explain`` with ``load_rules(rules_dirs)``; only the rules it names are loaded)."""
    from readiness.rulebook import load_rules

    run_id = _run_or_latest(engine, run_id)
    s, r = _score.c, _result.c
    with engine.connect() as connection:
        system = connection.execute(select(_system.c.name, _system.c.tier, _system.c.traffic_class,
                                           _system.c.retired).where(_system.c.system_id == system_id)).one_or_none()
        if system is None:
            raise NotFound(f"unknown system {system_id!r}")
        snapshot = connection.execute(select(s.score, s.points_outstanding).where(
            holds_for(s, run_id), s.level == "system", s.key == system_id)).one_or_none()
        results = connection.execute(_of_run(select(r.rule_id, r.status, r.weight, r.earned, r.message, r.evidence),
                                             run_id).where(r.system_id == system_id)
                                     .order_by(r.system_id, r.rule_id)).all()
    rules = load_rules(rules_dirs, only={rule_id for rule_id, status, *_ in results
                                         if status not in _NOTHING_TO_FIX}).by_id()
    findings = []
    counts: dict[str, int] = {}
    for rule_id, status, weight, earned, message, evidence in results:
        counts[status] = counts.get(status, 0) + 1
        if status in _NOTHING_TO_FIX:
            continue
        meta = rules[rule_id].meta if rule_id in rules else None
        findings.append({
            "rule_id": rule_id, "title": meta.title if meta else rule_id,
            "category": meta.category if meta else "?", "severity": meta.severity if meta else "?",
            "status": status, "points_lost": round(weight - earned, 2), "message": message, "evidence": evidence,
            "remediation": meta.remediation if meta else "fix the rule module (see message)",
            "link": meta.link if meta else "", "blocker": bool(meta and meta.blocker),
            "stale": [item for item in evidence if "stale_since" in item]})
    findings.sort(key=lambda f: (not f["blocker"], -f["points_lost"], f["rule_id"]))
    name, tier, traffic_class, retired = system
    return {"system_id": system_id, "name": name, "tier": tier, "traffic_class": traffic_class,
            "retired": retired, "run_id": run_id,
            "score": round(snapshot.score, 2) if snapshot else None,
            "points_outstanding": round(snapshot.points_outstanding, 2) if snapshot else None,
            "status_counts": counts, "findings": findings}


def as_of(moment: datetime | None) -> str:
    """A stored moment as people read it: its UTC minute, or "-"."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
