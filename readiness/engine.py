"""Evaluate every system against the rule pack, store the run, its results and scores.

Facts are read once and frozen, rules are pure functions of them, and the
scoring policy lives in ``scoring``. A rule that raises anything (``SystemExit``
included), runs past its time limit (``watchdog``) or failed to load gives
error results for that rule only; the rest of the evaluation completes. Only a
real interrupt (KeyboardInterrupt) stops a run, and then nothing is stored.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from readiness.catalog import active_systems, group_ancestry, org_units
from readiness.errors import NothingToEvaluate
from readiness.facts import StoredFacts, latest_facts_on
from readiness.frozen import rule_inputs
from readiness.limits import rule_timeout as configured_rule_timeout
from readiness.models import (
    EvaluationRun,
    FactRecord,
    RuleResult,
    RuleSummary,
    RunState,
    RunSystem,
    ScoreSnapshot,
)
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
from storage import dumps_json, utcnow

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
    evaluated: int = 0  # systems evaluated; the rest were carried forward from the previous run


SEASON = "season"  # the facts of the season under evaluation (not stored: the run records its key)
CHUNK_SYSTEMS = 500  # systems whose facts and results are in memory at once


def evaluate(engine: Engine, ruleset: RuleSet, *, now: datetime | None = None,
             overlays: Sequence[Overlay] = (), peak_event: str | None = None,
             rule_timeout: float | None = None, due_dates: Mapping[str, date] | None = None,
             season: Mapping | None = None, full: bool = False) -> RunReport:
    """One evaluation run over every active system, published atomically when complete.

    ``due_dates`` (rule id -> date, from the season's milestones) makes a scheduled
    rule's failures warnings before its date; a rule not in it is simply due.
    ``season`` (key, peak window, target as ISO dates) is offered to every rule as the
    ``season`` facts, so capacity evidence can be checked against the coming peak.

    Incremental unless ``full``: when the run's context (rule versions, load errors,
    due dates, season, overlays that cannot say which systems they touch) equals the
    latest complete run's, only the systems whose own inputs changed (catalog entry,
    fact hashes, staleness, waivers) are evaluated; the others' results are carried
    forward by reference (``readiness_run_system``), never copied. Scores, the rule
    summary and the inputs hash are exactly what a full run gives.

    Write path: results go to ``readiness_result`` a chunk of systems at a time, each
    chunk in its own short transaction, under a run marked ``running`` that no reader
    shows; one short transaction at the end publishes the run (its system map, scores,
    summary, status ``complete``). A run that stops part-way (an interrupt, an error)
    removes what it wrote; one killed outright is cleaned up by the next evaluation.
    ``rule_timeout`` is the seconds one rule call may take (None: the configured
    default, see ``readiness.limits``; 0: no limit). With no active system there
    is nothing to score: NothingToEvaluate, and no run is stored.
    """
    collecting = gc.isenabled()
    gc.disable()  # a run makes millions of small acyclic objects: cyclic collection is pure overhead
    try:
        return _evaluate(engine, ruleset, now=now, overlays=overlays, peak_event=peak_event,
                         rule_timeout=rule_timeout, due_dates=due_dates, season=season, full=full)
    finally:
        if collecting:
            gc.enable()


def _evaluate(engine: Engine, ruleset: RuleSet, *, now, overlays, peak_event, rule_timeout, due_dates, season,
              full) -> RunReport:
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
    load_errors = [{"module": e.module, "rule_id": e.rule_id, "reason": e.reason} for e in ruleset.load_errors]
    per_system_overlay, opaque_overlays = _overlay_states(overlays)
    context = _hash([ruleset.versions(), load_errors, stored_due, dict(season or {}), opaque_overlays,
                     sorted((rule_id, now.date() < due) for rule_id, due in due_dates.items())])
    _remove_abandoned_runs(engine)
    with engine.connect() as connection:
        fact_index = _fact_index(connection)
        previous = None if full else _previous_run(connection, context)
    fact_hashes: dict[str, dict[str, str]] = {}
    fingerprints: dict[str, str] = {}
    for system in systems:
        stored = fact_index.get(system.system_id, {})
        if stored:
            fact_hashes[system.system_id] = {src: digest for src, (digest, _) in sorted(stored.items())}
        stale = sorted((src, digest, seen.isoformat() if now - seen > max_fact_age(src) else "")
                       for src, (digest, seen) in stored.items())
        fingerprints[system.system_id] = _hash([repr(system), stale, per_system_overlay.get(system.system_id, "")])
    carried = previous[1] if previous else {}
    todo = [s for s in systems if s.system_id not in carried or carried[s.system_id][2] != fingerprints[s.system_id]]
    # Up to one chunk of systems to evaluate (an incremental run, a small organisation): one
    # transaction, as short as the evaluation. More: a transaction per chunk and the publish.
    single = engine.begin() if len(todo) <= CHUNK_SYSTEMS else None
    shared = single.__enter__() if single is not None else None

    def step():
        return nullcontext(shared) if shared is not None else engine.begin()

    with step() as connection:
        run_id = connection.execute(insert(EvaluationRun.__table__).values(
            started_at=now, status="running", rule_versions=ruleset.versions(), fact_hashes={},
            load_errors=load_errors, systems=len(systems), peak_event=peak_event,
            results=0, errors=0, inputs_hash="")).inserted_primary_key[0]
    try:
        totals = _RunTotals()
        for start in range(0, len(todo), CHUNK_SYSTEMS):
            chunk = todo[start:start + CHUNK_SYSTEMS]
            with step() as connection:
                facts = latest_facts_on(connection, [s.system_id for s in chunk])
            with watchdog.watching():  # ticks only while rules run, never during database work
                rows = [row for system in chunk
                        for row in _evaluate_system(system, facts.get(system.system_id, {}), ruleset, now,
                                                    overlays, totals, watchdog, due_dates, season)]
            del facts
            with step() as connection:  # one short transaction per chunk
                _insert_results(connection, run_id, rows)
            del rows
        current = {s.system_id for s in systems}
        summary = totals.summary
        if previous:
            replaced = {sid: row for sid, row in carried.items()
                        if sid not in current or row[2] != fingerprints.get(sid)}
            with step() as connection:
                summary = _carried_summary(connection, previous[2], replaced, totals.summary)
        tallies = {sid: _tally_from(carried[sid][3]) for sid in current if sid not in totals.tallies}
        tallies.update(totals.tallies)
        scored = _scores(systems, units, tallies)
        company = next(u for u in scored if u.level == "company")
        status_counts = _status_counts(summary)
        inputs = {"rules": ruleset.versions(), "facts": fact_hashes,
                  "systems": [(s.system_id, s.tier, s.traffic_class, s.public, s.purchase_flow, s.team)
                              for s in systems],
                  "load_errors": sorted(e.module for e in ruleset.load_errors), "due": stored_due,
                  "season": dict(season or {})}
        run_systems = [(run_id, s.system_id, run_id if s.system_id in totals.tallies else carried[s.system_id][0],
                        s.domain, fingerprints[s.system_id], dumps_json(_tally_state(tallies[s.system_id])))
                       for s in systems]
        with step() as connection:  # the publish: short, and all or nothing
            _insert_run_systems(connection, run_systems)
            _insert_scores(connection, run_id, scored)
            _insert_summary(connection, run_id, summary)
            connection.execute(insert(RunState.__table__).values(
                run_id=run_id, context_hash=context, evaluated=len(todo),
                summary=[[*key, *cell] for key, cell in sorted(summary.items())]))
            run = EvaluationRun.__table__.c
            connection.execute(EvaluationRun.__table__.update().where(run.id == run_id).values(
                fact_hashes=fact_hashes, results=sum(status_counts.values()),
                errors=status_counts.get(Status.ERROR.value, 0), company_score=company.score,
                inputs_hash=hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest(),
                status="complete", finished_at=utcnow()))
    except BaseException:
        if single is not None:
            single.__exit__(*sys.exc_info())  # rolls the whole run back
        else:
            _remove_run(engine, run_id)  # nothing half-written stays behind (an interrupt included)
        raise
    if single is not None:
        single.__exit__(None, None, None)  # commits
    gate = gate_score((s.tier, tallies[s.system_id]) for s in systems)
    return RunReport(run_id, len(systems), sum(status_counts.values()), status_counts.get(Status.ERROR.value, 0),
                     [str(e) for e in ruleset.load_errors], company, status_counts, gate, evaluated=len(todo))


def _hash(value) -> str:
    return hashlib.sha256(dumps_json(value).encode()).hexdigest()


def _overlay_states(overlays: Sequence[Overlay]) -> tuple[dict[str, str], list[str]]:
    """What each overlay would do, per system where it can say so, else as a whole.

    An overlay with ``fingerprint(system_id) -> str`` (or, like the waiver overlay,
    an ``active`` mapping keyed by (system id, rule id)) changes only the systems it
    names; any other overlay is part of the run's context, so a change to it makes
    the next run full.
    """
    per_system: dict[str, list] = {}
    opaque: list[str] = []
    for index, overlay in enumerate(overlays):
        active = getattr(overlay, "active", None)
        if callable(getattr(overlay, "fingerprint", None)):
            per_system.setdefault("", []).append(index)  # asked per system below
        elif isinstance(active, Mapping) and all(isinstance(k, tuple) and k for k in active):
            for key, value in sorted(active.items(), key=lambda item: repr(item[0])):
                per_system.setdefault(str(key[0]), []).append((index, repr(key), repr(value)))
        else:
            opaque.append(f"{type(overlay).__module__}.{type(overlay).__qualname__}:{overlay!r}")
    asking = per_system.pop("", [])
    if asking:
        return _AskingStates(per_system, [overlays[i] for i in asking]), opaque
    return {sid: repr(parts) for sid, parts in per_system.items()}, opaque


class _AskingStates(dict):
    """Per-system overlay states where some overlays are asked for their fingerprint."""

    def __init__(self, known: dict[str, list], asking: list) -> None:
        super().__init__()
        self._known, self._asking = known, asking

    def get(self, system_id, default=""):
        return repr((self._known.get(system_id, []), [str(o.fingerprint(system_id)) for o in self._asking]))


def _fact_index(connection) -> dict[str, dict[str, tuple[str, datetime]]]:
    """The latest facts' content hash and last sighting per system and source, without their data."""
    fact = FactRecord.__table__.c
    newest = (select(fact.system_id, fact.source, func.max(fact.last_seen_at).label("seen"))
              .group_by(fact.system_id, fact.source).subquery())
    query = (select(fact.system_id, fact.source, fact.content_hash, fact.last_seen_at)
             .join(newest, (fact.system_id == newest.c.system_id) & (fact.source == newest.c.source)
                   & (fact.last_seen_at == newest.c.seen)))
    out: dict[str, dict[str, tuple[str, datetime]]] = {}
    for system_id, source, digest, seen in connection.execute(query):
        out.setdefault(system_id, {})[source] = (digest, seen)
    return out


def _previous_run(connection, context: str) -> tuple[int, dict[str, tuple], list] | None:
    """The latest complete run, if its context equals this one's: (id, system id ->
    (results run, domain, fingerprint, tally))."""
    run, state = EvaluationRun.__table__.c, RunState.__table__.c
    latest = connection.execute(select(run.id).where(run.status == "complete").order_by(run.id.desc()).limit(1)).first()
    if latest is None:
        return None
    stored = connection.execute(select(state.context_hash, state.summary).where(state.run_id == latest.id)).first()
    if stored is None or stored.context_hash != context:
        return None
    rs = RunSystem.__table__.c
    rows = connection.execute(select(rs.system_id, rs.results_run_id, rs.domain_key, rs.fingerprint, rs.tally)
                              .where(rs.run_id == latest.id))
    carried = {sid: (results_run, domain, fingerprint, tally)
               for sid, results_run, domain, fingerprint, tally in rows}
    if not carried or any(not row[2] for row in carried.values()):
        return None  # a run stored before incremental runs existed: evaluate everything
    return latest.id, carried, stored.summary


def _carried_summary(connection, previous: list, replaced: dict[str, tuple],
                     fresh: dict[tuple[str, str, str], list]) -> dict[tuple[str, str, str], list]:
    """The previous run's exact summary, less the systems evaluated again or gone, plus the new results."""
    summary: dict[tuple[str, str, str], list] = {}
    for domain, rule_id, status, results, counted, possible, earned, short in previous:
        summary[(domain, rule_id, status)] = [results, counted, possible, earned, short]
    r = RuleResult.__table__.c
    by_run: dict[int, list[str]] = {}
    for sid, row in replaced.items():
        by_run.setdefault(row[0], []).append(sid)
    for results_run, ids in by_run.items():
        for start in range(0, len(ids), 500):
            for sid, rule_id, status, counted, weight, earned in connection.execute(
                    select(r.system_id, r.rule_id, r.status, r.counted, r.weight, r.earned)
                    .where(r.run_id == results_run, r.system_id.in_(ids[start:start + 500]))):
                cell = summary[(replaced[sid][1], rule_id, status)]
                cell[0] -= 1
                if counted:
                    cell[2] -= _micro(weight)
                    cell[3] -= _micro(earned)
                    cell[4] -= earned < weight
    for key, (results, counted, possible, earned, short) in fresh.items():
        cell = summary.setdefault(key, [0, counted, 0, 0, 0])
        cell[0] += results
        cell[2] += possible
        cell[3] += earned
        cell[4] += short
    return {key: cell for key, cell in summary.items() if cell[0] > 0}


def _status_counts(summary: dict[tuple[str, str, str], list]) -> dict[str, int]:
    counted: Counter = Counter()
    for (_, _, status), cell in summary.items():
        counted[status] += cell[0]
    return dict(counted)


def _micro(points: float) -> int:
    """Points in exact millionths (results store points rounded to six decimals)."""
    return round(points * 1_000_000)


TALLY_FIELDS = ("possible", "earned", "failing", "blocked", "error_points", "error_blocked", "by_basis")


def _tally_state(tally: Tally) -> dict:
    return {name: getattr(tally, name) for name in TALLY_FIELDS}


def _tally_from(state: dict) -> Tally:
    return Tally(**{name: state[name] for name in TALLY_FIELDS})


def _remove_abandoned_runs(engine: Engine) -> None:
    """Runs left ``running`` by a process that was killed: never shown, their rows removed.

    Evaluations run one at a time (``readiness.locking``), so any run still marked
    running when a new one starts was abandoned.
    """
    run = EvaluationRun.__table__.c
    with engine.connect() as connection:
        ids = list(connection.execute(select(run.id).where(run.status == "running")).scalars())
    for run_id in ids:
        _remove_run(engine, run_id)


def _remove_run(engine: Engine, run_id: int) -> None:
    with engine.begin() as connection:
        for table in (RuleResult, RunSystem, RunState, ScoreSnapshot, RuleSummary):
            connection.execute(delete(table.__table__).where(table.__table__.c.run_id == run_id))
        connection.execute(delete(EvaluationRun.__table__).where(EvaluationRun.__table__.c.id == run_id))


@dataclass
class _RunTotals:
    """What a run accumulates while its results stream to the database."""

    tallies: dict[str, Tally] = field(default_factory=dict)
    # (domain, rule, status) -> [results, counted, millionths possible, millionths earned, short]
    summary: dict[tuple[str, str, str], list] = field(default_factory=dict)

    def add(self, domain: str, rule_id: str, status: str, counted: bool, weight: float, earned: float) -> None:
        cell = self.summary.get((domain, rule_id, status))
        if cell is None:
            cell = self.summary[(domain, rule_id, status)] = [0, counted, 0, 0, 0]
        cell[0] += 1
        if counted:  # exact integer millionths: an incremental run adds and subtracts them
            cell[2] += round(weight * 1_000_000)
            cell[3] += round(earned * 1_000_000)
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
    """Driver-level bulk insert: a run writes one row per system and rule (600k at 10k
    systems), and SQLAlchemy's per-row parameter processing would dominate the run.
    PostgreSQL gets COPY; SQLite the driver's executemany."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {RuleResult.__tablename__} ({', '.join(RESULT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((run_id, *row))
        return
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {RuleResult.__tablename__} ({', '.join(RESULT_COLUMNS)}) "
           f"VALUES ({', '.join([placeholder] * len(RESULT_COLUMNS))})")
    connection.exec_driver_sql(sql, [(run_id, *row) for row in rows])


RUN_SYSTEM_COLUMNS = ("run_id", "system_id", "results_run_id", "domain_key", "fingerprint", "tally")


def _insert_run_systems(connection, rows: list[tuple]) -> None:
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {RunSystem.__tablename__} ({', '.join(RUN_SYSTEM_COLUMNS)}) "
        f"VALUES ({', '.join([placeholder] * len(RUN_SYSTEM_COLUMNS))})", rows)


SCORE_COLUMNS = ("run_id", "level", "key", "name", "parent_key", "score", "points_possible", "points_earned",
                 "points_outstanding", "systems", "failing_rules", "confidence")


def _insert_scores(connection, run_id: int, units: list[UnitScore]) -> None:
    """Driver-level executemany: one row per system and unit (over 10,000 at 10,000 systems)."""
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(
        f"INSERT INTO {ScoreSnapshot.__tablename__} ({', '.join(SCORE_COLUMNS)}) "
        f"VALUES ({', '.join([placeholder] * len(SCORE_COLUMNS))})",
        [(run_id, u.level, u.key, u.name, u.parent_key, u.score, u.possible, u.earned, u.outstanding, u.systems,
          u.failing, dumps_json(u.confidence)) for u in units])


def _insert_summary(connection, run_id: int, summary: dict[tuple[str, str, str], list]) -> None:
    if summary:
        connection.execute(insert(RuleSummary.__table__), [
            {"run_id": run_id, "domain_key": domain, "rule_id": rule_id, "status": status, "results": results,
             "counted": counted, "points_possible": round(possible / 1_000_000, 4),
             "points_earned": round(earned / 1_000_000, 4), "short": short}
            for (domain, rule_id, status), (results, counted, possible, earned, short) in sorted(summary.items())])
