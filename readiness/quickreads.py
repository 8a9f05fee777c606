"""The command line's quick reads (`readiness runs`, `score`, `explain`), in plain SQL.

Each answers exactly as its read model in ``readiness.reports`` does (``list_runs``,
``scores``, ``explain``: the same rows, values and order, on SQLite and PostgreSQL), but
without the ORM, and on an SQLite file without SQLAlchemy at all (``storage.plainsql``: the
standard library's sqlite3): importing SQLModel, the table models, or SQLAlchemy itself cost a
read command more than the query (issue 19: a read under 0.5 s; benchmarks/cli_speed.py).
The SQL names the columns of ``readiness.models`` (the schema); tests/readiness/test_quickreads.py
reads the same data both ways, and tests/clikit/test_startup.py keeps SQLAlchemy out of these
commands on SQLite. Each read takes a ``PlainReader`` (``clikit.open_reader``) or an engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from readiness.errors import NotFound
from readiness.runspan import holds_for_sql
from storage import PlainReader, engine_reader

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    Database = PlainReader | Engine  # a reader (clikit.open_reader), or the engine the app holds

LEVELS = ("company", "domain", "group", "team", "system")
# What a score's confidence is split into (scoring fills them; `score` prints one column each).
BASES = ("automated", "attested", "pending", "unattested", "waiver", "stale")
RUN_FIELDS = ("id", "started_at", "status", "systems", "results", "errors", "company_score", "inputs_hash")
# Statuses an explanation leaves out: nothing to fix.
_NOTHING_TO_FIX = ("pass", "not_applicable", "waived")


def _reader(db: Database) -> PlainReader:
    return db if isinstance(db, PlainReader) else engine_reader(db)


def latest_run_id(db: Database) -> int | None:
    return _reader(db).value("SELECT max(id) FROM readiness_run WHERE status = :complete", complete="complete")


def _run_or_latest(reader: PlainReader, run_id: int | None) -> int:
    run_id = run_id or latest_run_id(reader)
    if run_id is None:
        raise NotFound("no evaluation run yet: run `readiness evaluate` (or `readiness demo`)")
    return run_id


def list_runs(db: Database, limit: int = 50) -> list[dict]:
    """The latest ``limit`` runs, newest first, as ``RUN_FIELDS`` (``reports.list_runs`` without the ORM)."""
    reader = _reader(db)
    rows = reader.rows(f"SELECT {', '.join(RUN_FIELDS)} FROM readiness_run ORDER BY id DESC LIMIT :limit",
                       limit=limit)
    return [{**dict(zip(RUN_FIELDS, row, strict=True)), "started_at": reader.moment(row[1])} for row in rows]


def scores(db: Database, level: str, *, run_id: int | None = None, parent: str | None = None) -> list[dict]:
    """Scores of every unit at a level in a run, worst first (``readiness.scores`` too)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; accepted: {', '.join(LEVELS)}")
    reader = _reader(db)
    run_id = _run_or_latest(reader, run_id)
    under = {"parent": parent} if parent is not None else {}
    rows = reader.rows("SELECT key, name, parent_key, score, points_possible, points_outstanding, systems, "
                       f"failing_rules, confidence FROM readiness_score WHERE {holds_for_sql('readiness_score')} "
                       f"AND level = :level{' AND parent_key = :parent' if under else ''} ORDER BY score, key",
                       run=run_id, level=level, **under)
    return [{"level": level, "key": key, "name": name, "parent": parent_key, "score": round(score, 2),
             "points_possible": round(possible, 2), "points_outstanding": round(outstanding, 2),
             "systems": systems, "failing_rules": failing, "confidence": reader.document(confidence),
             "run_id": run_id}
            for key, name, parent_key, score, possible, outstanding, systems, failing, confidence in rows]


# A run's results (as ``readiness.models.of_run``): those it wrote and those it carries forward by
# reference (the run-system rows that hold for it); a run stored before incremental runs (no run
# state) has only its own.
_RESULTS_OF_RUN = f"""
    SELECT r.rule_id, r.status, r.weight, r.earned, r.message, r.evidence FROM readiness_result AS r
    WHERE r.system_id = :system
      AND ((r.run_id, r.system_id) IN (SELECT c.results_run_id, c.system_id FROM readiness_run_system AS c
                                       WHERE {holds_for_sql('c')})
           OR r.run_id = :run AND NOT EXISTS (SELECT 1 FROM readiness_run_state AS s WHERE s.run_id = :run))
    ORDER BY r.rule_id"""


def explain(db: Database, system_id: str, *, rules_dirs: Iterable[Path] = (), run_id: int | None = None) -> dict:
    """What a system scored, and for every rule not fully met: why and how to fix it (as
    ``reports.explain`` with ``load_rules(rules_dirs)``; only the rules it names are loaded)."""
    from readiness.rulebook import load_rules

    reader = _reader(db)
    run_id = _run_or_latest(reader, run_id)
    system = reader.rows("SELECT name, tier, traffic_class, retired FROM readiness_system WHERE system_id = :system",
                         system=system_id)
    if not system:
        raise NotFound(f"unknown system {system_id!r}")
    snapshot = reader.rows("SELECT score, points_outstanding FROM readiness_score "
                           f"WHERE {holds_for_sql('readiness_score')} AND level = 'system' AND key = :system",
                           run=run_id, system=system_id)
    results = reader.rows(_RESULTS_OF_RUN, run=run_id, system=system_id)
    rules = load_rules(rules_dirs, only={rule_id for rule_id, status, *_ in results
                                         if status not in _NOTHING_TO_FIX}).by_id()
    findings = []
    counts: dict[str, int] = {}
    for rule_id, status, weight, earned, message, stored_evidence in results:
        counts[status] = counts.get(status, 0) + 1
        if status in _NOTHING_TO_FIX:
            continue
        meta = rules[rule_id].meta if rule_id in rules else None
        evidence = reader.document(stored_evidence)
        findings.append({
            "rule_id": rule_id, "title": meta.title if meta else rule_id,
            "category": meta.category if meta else "?", "severity": meta.severity if meta else "?",
            "status": status, "points_lost": round(weight - earned, 2), "message": message, "evidence": evidence,
            "remediation": meta.remediation if meta else "fix the rule module (see message)",
            "link": meta.link if meta else "", "blocker": bool(meta and meta.blocker),
            "stale": [item for item in evidence if "stale_since" in item]})
    findings.sort(key=lambda f: (not f["blocker"], -f["points_lost"], f["rule_id"]))
    (name, tier, traffic_class, retired), = system
    score, outstanding = snapshot[0] if snapshot else (None, None)
    return {"system_id": system_id, "name": name, "tier": tier, "traffic_class": traffic_class,
            "retired": reader.flag(retired), "run_id": run_id,
            "score": round(score, 2) if snapshot else None,
            "points_outstanding": round(outstanding, 2) if snapshot else None,
            "status_counts": counts, "findings": findings}


def as_of(moment: datetime | None) -> str:
    """A stored moment as people read it: its UTC minute, or "-"."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"
