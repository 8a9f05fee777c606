"""Evaluate every system against the rule pack, store the run, its results and scores.

Facts are read once, rules are pure functions of them, and the scoring policy
lives in ``scoring``. A rule that raises (or failed to load) gives error
results for that rule only; the rest of the evaluation completes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from readiness.catalog import active_systems, group_ancestry, org_units
from readiness.facts import StoredFacts, latest_facts
from readiness.models import EvaluationRun, RuleResult, ScoreSnapshot
from readiness.rulebook import Rule, RuleSet
from readiness.rulekit import Facts, Outcome, RuleMeta, Status, SystemView
from readiness.scoring import Tally, UnitScore, counts, roll_up
from storage import session_scope, utcnow

DEFAULT_FRESHNESS = {
    "inventory": timedelta(days=2),
    "kubernetes": timedelta(days=2),
    "kapacity": timedelta(days=8),
    "perftest": timedelta(days=45),
    "attestations": timedelta(days=366),
}
FALLBACK_FRESHNESS = timedelta(days=7)


class Overlay(Protocol):
    """Turns an outcome into another after evaluation (waivers, reviews); None leaves it."""

    def apply(self, system: SystemView, meta: RuleMeta, outcome: Outcome) -> tuple[Outcome, str] | None: ...


@dataclass
class RunReport:
    run_id: int
    systems: int
    results: int
    errors: int
    load_errors: list[str]
    company: UnitScore
    status_counts: dict[str, int] = field(default_factory=dict)


def evaluate(engine: Engine, ruleset: RuleSet, *, now: datetime | None = None,
             overlays: Sequence[Overlay] = (), peak_event: str | None = None) -> RunReport:
    """One evaluation run over every active system, stored atomically."""
    now = now or utcnow()
    systems = active_systems(engine)
    facts = latest_facts(engine)
    rows: list[dict] = []
    tallies: dict[str, Tally] = {}
    for system in systems:
        stored = facts.get(system.system_id, {})
        system_facts = Facts({source: f.data for source, f in stored.items()})
        stale = _stale_sources(stored, now)
        tally = tallies[system.system_id] = Tally()
        for rule in ruleset.rules:
            outcome, basis = _judge(system, rule, system_facts, stale, now, overlays)
            rows.append(_result_row(system, rule.meta, outcome, basis, tally))
        for error in ruleset.load_errors:
            rows.append(_load_error_row(system, error))
    units = _scores(engine, systems, tallies)
    fact_hashes = {sid: {src: f.content_hash for src, f in sorted(by.items())} for sid, by in sorted(facts.items())
                   if sid in tallies}
    return _store(engine, ruleset, rows, units, fact_hashes, systems, now, peak_event)


def _judge(system: SystemView, rule: Rule, facts: Facts, stale: dict[str, datetime], now: datetime,
           overlays: Sequence[Overlay]) -> tuple[Outcome, str]:
    meta = rule.meta
    reason = meta.applies_to.reason_not_applicable(system)
    if reason:
        return Outcome(Status.NOT_APPLICABLE, 0.0, reason), "automated"
    try:
        outcome = rule.evaluate(system, facts)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"evaluate returned {type(outcome).__name__}, expected Outcome")
    except Exception as exc:
        return Outcome(Status.ERROR, 0.0, f"rule raised {type(exc).__name__}: {exc}"), "automated"
    basis = _basis(meta, outcome)
    for overlay in overlays:
        changed = overlay.apply(system, meta, outcome)
        if changed is not None:
            outcome, basis = changed
    if meta.due is not None and now.date() < meta.due and outcome.status in NOT_YET_DUE:
        outcome = Outcome(Status.WARNING, outcome.credit,
                          f"due {meta.due.isoformat()}: {outcome.message}", outcome.evidence)
    read = [s for s in (meta.facts or ("inventory",)) if s in stale]
    if read and basis == "automated" and outcome.status not in (Status.NOT_APPLICABLE, Status.ERROR):
        seen = ", ".join(f"{s} last seen {stale[s]:%Y-%m-%d %H:%M}" for s in read)
        outcome = Outcome(outcome.status, outcome.credit, f"{outcome.message} (stale facts: {seen})",
                          outcome.evidence)
        basis = "stale"
    return outcome, basis


# Before a scheduled rule's due date these are warnings: answering a check early
# (pending review) must not score lower than not answering it at all.
NOT_YET_DUE = {Status.FAIL, Status.NO_DATA, Status.PENDING_REVIEW, Status.EXPIRED}


def _basis(meta: RuleMeta, outcome: Outcome) -> str:
    """Where a result's evidence comes from, for the confidence shares."""
    if meta.kind != "team-managed":
        return "automated"
    if outcome.status == Status.PASS:
        return "attested"
    if outcome.status == Status.PENDING_REVIEW:
        return "pending"
    return "unattested"  # unanswered, rejected or expired: no approved attestation behind it


def _stale_sources(stored: dict[str, StoredFacts], now: datetime) -> dict[str, datetime]:
    return {source: f.last_seen_at for source, f in stored.items()
            if now - f.last_seen_at > DEFAULT_FRESHNESS.get(source, FALLBACK_FRESHNESS)}


def _result_row(system: SystemView, meta: RuleMeta, outcome: Outcome, basis: str, tally: Tally) -> dict:
    counted, credit = counts(outcome.status, outcome.credit)
    weight = meta.points if counted else 0.0
    earned = round(weight * credit, 6)
    if counted:
        tally.add(weight=weight, earned=earned, status=outcome.status, blocker=meta.blocker, basis=basis)
    return {"system_id": system.system_id, "rule_id": meta.id, "rule_version": meta.version,
            "status": outcome.status.value, "credit": round(outcome.credit, 6), "weight": weight,
            "earned": earned, "counted": counted, "message": outcome.message[:2000],
            "evidence": list(outcome.evidence), "basis": basis}


def _load_error_row(system: SystemView, error) -> dict:
    return {"system_id": system.system_id, "rule_id": error.rule_id or error.module, "rule_version": "",
            "status": Status.ERROR.value, "credit": 0.0, "weight": 0.0, "earned": 0.0, "counted": False,
            "message": f"rule failed to load: {error.reason}", "evidence": [{"module": error.module}],
            "basis": "automated"}


def _scores(engine: Engine, systems: list[SystemView], tallies: dict[str, Tally]) -> list[UnitScore]:
    system_scores = {
        s.system_id: UnitScore("system", s.system_id, s.name, s.team, tallies[s.system_id].score(),
                               round(tallies[s.system_id].possible, 4), round(tallies[s.system_id].earned, 4),
                               tallies[s.system_id].outstanding, 1, tallies[s.system_id].failing,
                               tallies[s.system_id].confidence())
        for s in systems}
    units = org_units(engine)
    team_group = {u.key: u.parent_key for u in units if u.level == "team"}
    group_parent = {u.key: u.parent_key for u in units if u.level == "group" and u.parent_level == "group"}
    members: dict[tuple[str, str], list[tuple[str, UnitScore]]] = {}
    for system in systems:
        member = (system.tier, system_scores[system.system_id])
        groups = [("group", g) for g in group_ancestry(group_parent, team_group.get(system.team))]
        for unit in [("team", system.team), *groups, ("domain", system.domain), ("company", "company")]:
            members.setdefault(unit, []).append(member)
    rolled = [roll_up(u.level, u.key, u.name, u.parent_key, members.get((u.level, u.key), []))
              for u in units]
    rolled.append(roll_up("company", "company", "Company", None, members.get(("company", "company"), [])))
    return list(system_scores.values()) + rolled


RESULT_COLUMNS = ("run_id", "system_id", "rule_id", "rule_version", "status", "credit", "weight", "earned",
                  "counted", "message", "evidence", "basis")


def _insert_results(connection, run_id: int, rows: list[dict]) -> None:
    """Driver-level executemany: a run writes one row per system and rule (600k at 10k
    systems), and SQLAlchemy's per-row parameter processing would dominate the run."""
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {RuleResult.__tablename__} ({', '.join(RESULT_COLUMNS)}) "
           f"VALUES ({', '.join([placeholder] * len(RESULT_COLUMNS))})")
    values = [(run_id, r["system_id"], r["rule_id"], r["rule_version"], r["status"], r["credit"], r["weight"],
               r["earned"], r["counted"], r["message"], json.dumps(r["evidence"], default=str), r["basis"])
              for r in rows]
    for start in range(0, len(values), 20000):
        connection.exec_driver_sql(sql, values[start:start + 20000])


def _store(engine: Engine, ruleset: RuleSet, rows: list[dict], units: list[UnitScore],
           fact_hashes: dict, systems: list[SystemView], now: datetime, peak_event: str | None) -> RunReport:
    company = next(u for u in units if u.level == "company")
    inputs = {"rules": ruleset.versions(), "facts": fact_hashes,
              "systems": [(s.system_id, s.tier, s.traffic_class, s.public, s.purchase_flow, s.team) for s in systems],
              "load_errors": sorted(e.module for e in ruleset.load_errors)}
    errors = sum(1 for r in rows if r["status"] == Status.ERROR.value)
    status_counts: dict[str, int] = {}
    for row in rows:
        status_counts[row["status"]] = status_counts.get(row["status"], 0) + 1
    with session_scope(engine) as session:
        run = EvaluationRun(started_at=now, status="running", rule_versions=ruleset.versions(),
                            fact_hashes=fact_hashes, load_errors=[
                                {"module": e.module, "rule_id": e.rule_id, "reason": e.reason}
                                for e in ruleset.load_errors],
                            systems=len(systems), results=len(rows), errors=errors,
                            company_score=company.score, peak_event=peak_event,
                            inputs_hash=hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest())
        session.add(run)
        session.flush()
        connection = session.connection()
        _insert_results(connection, run.id, rows)
        connection.execute(insert(ScoreSnapshot.__table__), [
            {"run_id": run.id, "level": u.level, "key": u.key, "name": u.name, "parent_key": u.parent_key,
             "score": u.score, "points_possible": u.possible, "points_earned": u.earned,
             "points_outstanding": u.outstanding, "systems": u.systems, "failing_rules": u.failing,
             "confidence": u.confidence} for u in units])
        run.status = "complete"
        run.finished_at = utcnow()
        run_id = run.id
    return RunReport(run_id, len(systems), len(rows), errors,
                     [str(e) for e in ruleset.load_errors], company, status_counts)
