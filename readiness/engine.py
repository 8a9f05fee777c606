"""Evaluate every system against the rule pack, store the run, its results and scores.

Facts are read once and frozen, rules are pure functions of them, and the
scoring policy lives in ``scoring``. A rule that raises anything (``SystemExit``
included), runs past its time limit (``watchdog``) or failed to load gives
error results for that rule only; the rest of the evaluation completes. Only a
real interrupt (KeyboardInterrupt) stops a run, and then nothing is stored.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from readiness.catalog import active_systems, group_ancestry, org_units
from readiness.errors import NothingToEvaluate
from readiness.facts import StoredFacts, latest_facts_on
from readiness.frozen import rule_inputs
from readiness.limits import rule_timeout as configured_rule_timeout
from readiness.models import EvaluationRun, RuleResult, RuleSummary, ScoreSnapshot
from readiness.rulebook import Rule, RuleSet
from readiness.rulekit import Facts, Outcome, RuleMeta, Status, SystemView
from readiness.scoring import (
    FACT_MAX_AGE,
    FALLBACK_MAX_AGE,
    UNLOADED_RULE_POINTS,
    Tally,
    UnitScore,
    counts,
    gate_score,
    max_fact_age,
    refresh_hint,
    roll_up,
)
from readiness.watchdog import RuleTimeout, Watchdog
from storage import dumps_json, session_scope, utcnow

DEFAULT_FRESHNESS, FALLBACK_FRESHNESS = FACT_MAX_AGE, FALLBACK_MAX_AGE  # the policy lives in scoring


def freshness(source: str) -> timedelta:
    """How old a source's facts may get before the rules call them stale."""
    return DEFAULT_FRESHNESS.get(source, FALLBACK_FRESHNESS)


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
    gate_score: float | None = None  # the company score with error results counted as failures


SEASON = "season"  # the facts of the season under evaluation (not stored: the run records its key)
CHUNK_SYSTEMS = 500  # systems whose facts and results are in memory at once


def evaluate(engine: Engine, ruleset: RuleSet, *, now: datetime | None = None,
             overlays: Sequence[Overlay] = (), peak_event: str | None = None,
             rule_timeout: float | None = None, due_dates: Mapping[str, date] | None = None,
             season: Mapping | None = None) -> RunReport:
    """One evaluation run over every active system, stored atomically.

    ``due_dates`` (rule id -> date, from the season's milestones) makes a scheduled
    rule's failures warnings before its date; a rule not in it is simply due.
    ``season`` (key, peak window, target as ISO dates) is offered to every rule as the
    ``season`` facts, so capacity evidence can be checked against the coming peak.

    Systems are evaluated a chunk at a time and their results written as they
    come, inside the run's one transaction: 10,000 systems x 60 rules never
    sit in memory together, and readers see the run only once it is complete.
    ``rule_timeout`` is the seconds one rule call may take (None: the configured
    default, see ``readiness.limits``; 0: no limit). With no active system there
    is nothing to score: NothingToEvaluate, and no run is stored.
    """
    now = now or utcnow()
    due_dates = dict(due_dates or {})
    # In the inputs hash (and in each warning's message): the season's milestones may move later.
    stored_due = {rule_id: due.isoformat() for rule_id, due in sorted(due_dates.items())}
    systems = active_systems(engine)
    if not systems:
        raise NothingToEvaluate("no active systems to evaluate (is the catalog empty or every system retired?); "
                                "no run was stored: import a catalog with `readiness import --catalog FILE`")
    watchdog = Watchdog(configured_rule_timeout(rule_timeout), caller=_judge)
    units = org_units(engine)
    with session_scope(engine) as session:
        run = EvaluationRun(started_at=now, status="running", rule_versions=ruleset.versions(),
                            load_errors=[{"module": e.module, "rule_id": e.rule_id, "reason": e.reason}
                                         for e in ruleset.load_errors],
                            systems=len(systems), peak_event=peak_event)
        session.add(run)
        session.flush()
        connection = session.connection()
        totals = _RunTotals()
        for start in range(0, len(systems), CHUNK_SYSTEMS):
            chunk = systems[start:start + CHUNK_SYSTEMS]
            facts = latest_facts_on(connection, [s.system_id for s in chunk])
            with watchdog.watching():  # ticks only while rules run, never during database work
                rows = [row for system in chunk
                        for row in _evaluate_system(system, facts.get(system.system_id, {}), ruleset, now,
                                                    overlays, totals, watchdog, due_dates, season)]
            _insert_results(connection, run.id, rows)
        scored = _scores(systems, units, totals.tallies)
        _insert_scores(connection, run.id, scored)
        _insert_summary(connection, run.id, totals.summary)
        company = next(u for u in scored if u.level == "company")
        inputs = {"rules": ruleset.versions(), "facts": totals.fact_hashes,
                  "systems": [(s.system_id, s.tier, s.traffic_class, s.public, s.purchase_flow, s.team)
                              for s in systems],
                  "load_errors": sorted(e.module for e in ruleset.load_errors), "due": stored_due,
                  "season": dict(season or {})}
        run.fact_hashes = totals.fact_hashes
        run.results, run.errors, run.company_score = totals.results, totals.errors, company.score
        run.inputs_hash = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
        run.status, run.finished_at = "complete", utcnow()
        run_id = run.id
    gate = gate_score((s.tier, totals.tallies[s.system_id]) for s in systems)
    return RunReport(run_id, len(systems), totals.results, totals.errors,
                     [str(e) for e in ruleset.load_errors], company, dict(totals.status_counts), gate)


@dataclass
class _RunTotals:
    """What a run accumulates while its results stream to the database."""

    tallies: dict[str, Tally] = field(default_factory=dict)
    fact_hashes: dict[str, dict[str, str]] = field(default_factory=dict)
    # (domain, rule, status) -> [results, counted, points possible, points earned, short]
    summary: dict[tuple[str, str, str], list] = field(default_factory=dict)

    def add(self, domain: str, rule_id: str, status: str, counted: bool, weight: float, earned: float) -> None:
        cell = self.summary.get((domain, rule_id, status))
        if cell is None:
            cell = self.summary[(domain, rule_id, status)] = [0, counted, 0.0, 0.0, 0]
        cell[0] += 1
        if counted:
            cell[2] += weight
            cell[3] += earned
            cell[4] += earned < weight

    @property
    def status_counts(self) -> Counter:
        counted: Counter = Counter()
        for (_, _, status), cell in self.summary.items():
            counted[status] += cell[0]
        return counted

    @property
    def results(self) -> int:
        return sum(self.status_counts.values())

    @property
    def errors(self) -> int:
        return self.status_counts[Status.ERROR.value]


def _evaluate_system(system: SystemView, stored: dict[str, StoredFacts], ruleset: RuleSet, now: datetime,
                     overlays: Sequence[Overlay], totals: _RunTotals, watchdog: Watchdog,
                     due_dates: Mapping[str, date], season: Mapping | None) -> list[tuple]:
    """Result rows of one system, in RESULT_COLUMNS order without the run id."""
    if stored:
        totals.fact_hashes[system.system_id] = {src: f.content_hash for src, f in sorted(stored.items())}
    # Frozen once per system: a rule that changes an asset gets an error, and every rule reads the same.
    system, system_facts = rule_inputs(system, {source: f.data for source, f in stored.items()}
                                       | ({SEASON: season} if season else {}))
    stale = _stale_sources(stored, now)
    tally = totals.tallies[system.system_id] = Tally()
    rows = []
    for rule in ruleset.rules:
        outcome, basis = _judge(system, rule, system_facts, stale, now, overlays, watchdog,
                                due_dates.get(rule.meta.id))
        rows.append(_result_row(system, rule.meta, outcome, basis, tally, totals))
    for error in ruleset.load_errors:
        rows.append(_load_error_row(system, error, tally, totals))
    return rows


def _judge(system: SystemView, rule: Rule, facts: Facts, stale: dict[str, datetime], now: datetime,
           overlays: Sequence[Overlay], watchdog: Watchdog, due: date | None) -> tuple[Outcome, str]:
    meta = rule.meta
    reason = meta.applies_to.reason_not_applicable(system)
    if reason:
        return Outcome(Status.NOT_APPLICABLE, 0.0, reason), "automated"
    try:
        watchdog.started += 1
        outcome = rule.evaluate(system, facts)
        watchdog.finished = watchdog.started
        if watchdog.overran:  # interrupted, but the rule caught it and returned anyway
            raise RuleTimeout(f"ran longer than the {watchdog.limit:g} s rule time limit")
        if not isinstance(outcome, Outcome):
            raise TypeError(f"evaluate returned {type(outcome).__name__}, expected Outcome")
    except KeyboardInterrupt:  # a real interrupt (Ctrl-C, serve's second signal) stops the run
        raise
    except BaseException as exc:  # SystemExit, a time limit, any Exception: this rule's error only
        watchdog.finished, watchdog.overran = watchdog.started, False
        return Outcome(Status.ERROR, 0.0, _error_message(exc)), "automated"
    basis = _basis(meta, outcome)
    for overlay in overlays:
        changed = overlay.apply(system, meta, outcome)
        if changed is not None:
            outcome, basis = changed
    read = [s for s in (meta.facts or ("inventory",)) if s in stale]
    if read and basis == "automated" and outcome.status not in (Status.NOT_APPLICABLE, Status.ERROR):
        outcome, basis = _stale_outcome(outcome, read, stale), "stale"
    if due is not None and now.date() < due and outcome.status in NOT_YET_DUE:
        outcome = Outcome(Status.WARNING, outcome.credit,
                          f"due {due.isoformat()}: {outcome.message}", outcome.evidence)
    return outcome, basis


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, RuleTimeout):
        return f"rule {exc}"
    if isinstance(exc, SystemExit):
        return f"rule called sys.exit({exc.code!r})"
    return f"rule raised {type(exc).__name__}: {exc}"


# Before a scheduled rule's due date these are warnings: answering a check early
# (pending review) must not score lower than not answering it at all.
NOT_YET_DUE = {Status.FAIL, Status.NO_DATA, Status.PENDING_REVIEW, Status.EXPIRED, Status.STALE}
# A verdict on facts past their maximum age is no verdict: it becomes stale (no credit).
# No data stays no data (it had no credit to lose), marked with the stale sources.
GOES_STALE = {Status.PASS, Status.FAIL}


def _stale_outcome(outcome: Outcome, read: list[str], last_seen: dict[str, datetime]) -> Outcome:
    """The outcome of a rule whose facts are past their maximum age: when, and how to refresh."""
    notes = [{"stale_source": s, "last_seen": last_seen[s].isoformat(timespec="minutes"),
              "stale_since": (last_seen[s] + max_fact_age(s)).isoformat(timespec="minutes"),
              "max_age_days": max_fact_age(s).days, "refresh": refresh_hint(s)} for s in read]
    seen = ", ".join(f"{s} last seen {last_seen[s]:%Y-%m-%d %H:%M}, stale since "
                     f"{last_seen[s] + max_fact_age(s):%Y-%m-%d %H:%M}" for s in read)
    refresh = "; ".join(refresh_hint(s) for s in read)
    if outcome.status not in GOES_STALE:
        return Outcome(outcome.status, outcome.credit, f"{outcome.message} (stale facts: {seen})",
                       (*outcome.evidence, *notes))
    return Outcome(Status.STALE, 0.0, f"stale facts: {seen}; to refresh: {refresh} "
                   f"(on them it was {outcome.status.value}: {outcome.message})", (*outcome.evidence, *notes))


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
    return {source: f.last_seen_at for source, f in stored.items() if now - f.last_seen_at > max_fact_age(source)}


def _result_row(system: SystemView, meta: RuleMeta, outcome: Outcome, basis: str, tally: Tally,
                totals: _RunTotals) -> tuple:
    try:  # what the rule returned is stored as text: its own code may still run here (str(), evidence)
        status, message, evidence = outcome.status, outcome.message[:2000], _evidence_json(outcome.evidence)
        text = STATUS_TEXT[status]
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        outcome = Outcome(Status.ERROR, 0.0, f"rule returned a result that cannot be stored: {_error_message(exc)}")
        status, message, evidence, text = Status.ERROR, outcome.message, "[]", Status.ERROR.value
    counted, credit = counts(status, outcome.credit)
    weight = meta.points if counted else 0.0
    earned = round(weight * credit, 6)
    if counted:
        tally.add(weight=weight, earned=earned, status=status, blocker=meta.blocker, basis=basis)
    elif status == Status.ERROR:
        tally.add_error(weight=meta.points, blocker=meta.blocker)
    totals.add(system.domain, meta.id, text, counted, weight, earned)
    return (system.system_id, meta.id, meta.version, text, round(outcome.credit, 6), weight, earned,
            counted, message, evidence, basis)


STATUS_TEXT = {status: status.value for status in Status}  # plain str for the driver, without enum lookups


def _load_error_row(system: SystemView, error, tally: Tally, totals: _RunTotals) -> tuple:
    rule_id = error.rule_id or error.module
    tally.add_error(weight=UNLOADED_RULE_POINTS, blocker=False)
    totals.add(system.domain, rule_id, Status.ERROR.value, False, 0.0, 0.0)
    return (system.system_id, rule_id, "", Status.ERROR.value, 0.0, 0.0, 0.0, False,
            f"rule failed to load: {error.reason}", _evidence_json([{"module": error.module}]), "automated")


def _evidence_json(evidence) -> str:
    return dumps_json(evidence) if evidence else "[]"


def _scores(systems: list[SystemView], units: list, tallies: dict[str, Tally]) -> list[UnitScore]:
    system_scores = {
        s.system_id: UnitScore("system", s.system_id, s.name, s.team, tallies[s.system_id].score(),
                               round(tallies[s.system_id].possible, 4), round(tallies[s.system_id].earned, 4),
                               tallies[s.system_id].outstanding, 1, tallies[s.system_id].failing,
                               tallies[s.system_id].confidence())
        for s in systems}
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


def _insert_results(connection, run_id: int, rows: list[tuple]) -> None:
    """Driver-level executemany: a run writes one row per system and rule (600k at 10k
    systems), and SQLAlchemy's per-row parameter processing would dominate the run."""
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {RuleResult.__tablename__} ({', '.join(RESULT_COLUMNS)}) "
           f"VALUES ({', '.join([placeholder] * len(RESULT_COLUMNS))})")
    if rows:
        connection.exec_driver_sql(sql, [(run_id, *row) for row in rows])


def _insert_scores(connection, run_id: int, units: list[UnitScore]) -> None:
    connection.execute(insert(ScoreSnapshot.__table__), [
        {"run_id": run_id, "level": u.level, "key": u.key, "name": u.name, "parent_key": u.parent_key,
         "score": u.score, "points_possible": u.possible, "points_earned": u.earned,
         "points_outstanding": u.outstanding, "systems": u.systems, "failing_rules": u.failing,
         "confidence": u.confidence} for u in units])


def _insert_summary(connection, run_id: int, summary: dict[tuple[str, str, str], list]) -> None:
    if summary:
        connection.execute(insert(RuleSummary.__table__), [
            {"run_id": run_id, "domain_key": domain, "rule_id": rule_id, "status": status, "results": results,
             "counted": counted, "points_possible": round(possible, 4), "points_earned": round(earned, 4),
             "short": short}
            for (domain, rule_id, status), (results, counted, possible, earned, short) in sorted(summary.items())])
