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
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timedelta
from itertools import chain
from operator import attrgetter
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
from readiness.publish import publish_rows, write_rows
from readiness.rulebook import RuleSet
from readiness.rulekit import Applicability, Outcome, RuleMeta, Status, SystemView
from readiness.scoring import (
    BASES,
    BLOCKING_STATUSES,
    FACT_MAX_AGE,
    FALLBACK_MAX_AGE,
    UNLOADED_RULE_POINTS,
    Tally,
    UnitScore,
    counts,
    gate_score,
    max_fact_age,
    member,
    refresh_hint,
    roll_up_members,
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
    watchdog = Watchdog(configured_rule_timeout(rule_timeout), caller=_evaluate_system)
    units = org_units(engine)
    load_errors = [{"module": e.module, "rule_id": e.rule_id, "reason": e.reason} for e in ruleset.load_errors]
    per_system_overlay, opaque_overlays = _overlay_states(overlays)
    context = _hash([ruleset.versions(), load_errors, stored_due, dict(season or {}), opaque_overlays,
                     sorted((rule_id, now.date() < due) for rule_id, due in due_dates.items())])
    _remove_abandoned_runs(engine)
    with engine.connect() as connection:
        fact_index = _fact_index(connection)
        latest = _latest_complete_run(connection)
        previous = None if full or latest is None else _previous_run(connection, latest, context)
    fact_hashes, fingerprints = _fingerprints(systems, fact_index, now, per_system_overlay)
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
    # PostgreSQL writes in another process: its COPY work overlaps the next chunk's rules. (On SQLite
    # the write is our own CPU: a thread gained nothing measurable.)
    writer = _ResultWriter(engine, run_id) if single is None and engine.dialect.name == "postgresql" else None
    try:
        ev = _Evaluation(ruleset, run_id, now, overlays, due_dates, season, watchdog)
        for start in range(0, len(todo), CHUNK_SYSTEMS):
            chunk = todo[start:start + CHUNK_SYSTEMS]
            with step() as connection:
                facts = latest_facts_on(connection, [s.system_id for s in chunk])
            with watchdog.watching():  # ticks only while rules run, never during database work
                for system in chunk:
                    _evaluate_system(ev, system, facts.get(system.system_id, {}))
            del facts
            if writer is None:
                with step() as connection:
                    _insert_results(connection, run_id, ev.rows)
            else:  # written while the next chunk is evaluated
                writer.write(ev.rows)
            ev.rows = []
        if writer is not None:
            writer.close()
        current = {s.system_id for s in systems}
        tier_of = {s.system_id: s.tier for s in systems}
        summary = ev.summary
        if previous:
            replaced = {sid: row for sid, row in carried.items()
                        if sid not in current or row[2] != fingerprints.get(sid)}
            with step() as connection:
                summary = _carried_summary(connection, previous[2], replaced, summary)
        tallies = {sid: _tally_from(carried[sid][3]) for sid in current if sid not in ev.tallies}
        tallies.update(ev.tallies)
        system_scores = [_system_score(s, ev.tallies[s.system_id]) for s in systems if s.system_id in ev.tallies]
        shares = {u.key: member(tier_of[u.key], u) for u in system_scores}
        for sid in current - shares.keys():  # carried: its share as stored, not worked out again
            shares[sid] = _stored_share(carried[sid][3], tier_of[sid], tallies[sid])
        unit_scores = _roll_ups(systems, units, shares)
        company = unit_scores[-1]
        status_counts = _status_counts(summary)
        inputs = {"rules": ruleset.versions(), "facts": fact_hashes,
                  "systems": [(s.system_id, s.tier, s.traffic_class, s.public, s.purchase_flow, s.team)
                              for s in systems],
                  "load_errors": sorted(e.module for e in ruleset.load_errors), "due": stored_due,
                  "season": dict(season or {})}
        # Only the evaluated systems get rows: a carried system's row from an earlier run goes on holding.
        run_systems = [(run_id, s.system_id, run_id, s.domain, fingerprints[s.system_id],
                        dumps_json(_tally_state(ev.tallies[s.system_id], shares[s.system_id])))
                       for s in systems if s.system_id in ev.tallies]
        with step() as connection:  # the publish: short, and all or nothing
            publish_rows(connection, run_id, latest, everything=len(todo) == len(systems), evaluated=ev.tallies.keys(),
                         gone=carried.keys() - current, run_systems=run_systems, system_scores=system_scores,
                         unit_scores=unit_scores)
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
            if writer is not None:
                writer.abandon()  # its last chunk is written or rolled back before the run is removed
            _remove_run(engine, run_id)  # nothing half-written stays behind (an interrupt included)
        raise
    if single is not None:
        single.__exit__(None, None, None)  # commits
    gate = gate_score((s.tier, tallies[s.system_id]) for s in systems)
    return RunReport(run_id, len(systems), sum(status_counts.values()), status_counts.get(Status.ERROR.value, 0),
                     [str(e) for e in ruleset.load_errors], company, status_counts, gate, evaluated=len(todo))


class _ResultWriter:
    """Writes a run's result chunks in a thread of its own, each chunk in its own short
    transaction, while the main thread evaluates the next chunk: the server's share of the
    write (PostgreSQL's COPY) runs beside the rules instead of after them. At most one chunk
    waits; an error in the writer is raised in the main thread at the next chunk or at ``close``."""

    def __init__(self, engine: Engine, run_id: int) -> None:
        self._engine, self._run_id = engine, run_id
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness-results")
        self._pending: Future | None = None

    def write(self, rows: list[tuple]) -> None:
        self._wait()
        self._pending = self._pool.submit(self._write, rows)

    def _write(self, rows: list[tuple]) -> None:
        with self._engine.begin() as connection:
            _insert_results(connection, self._run_id, rows)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)

    def abandon(self) -> None:
        """After an error or interrupt: let the chunk in flight finish (its error is not the one raised)."""
        try:
            self.close()
        except BaseException:  # noqa: BLE001 - the run is being removed; the first error is what is raised
            pass


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
    """The latest facts' content hash and last sighting per system and source, without their data.

    One scan in the order of the ``(system, source, last seen)`` index, the newest version of each
    pair last (of two seen at one time, the one stored later, as ``readiness.facts`` reads them):
    half the time of grouping and joining back at 10,000 systems (SQLite and PostgreSQL)."""
    fact = FactRecord.__table__.c
    query = (select(fact.system_id, fact.source, fact.content_hash, fact.last_seen_at)
             .order_by(fact.system_id, fact.source, fact.last_seen_at, fact.id))
    out: dict[str, dict[str, tuple[str, datetime]]] = {}
    by_source: dict[str, tuple[str, datetime]] = {}
    current = None
    for system_id, source, digest, seen in connection.execute(query).all():  # one fetch, not one per row
        if system_id != current:
            current, by_source = system_id, {}
            out[system_id] = by_source
        by_source[source] = (digest, seen)  # an older version of the pair is overwritten by the newer
    return out


def _fingerprints(systems: list[SystemView], fact_index: dict[str, dict[str, tuple[str, datetime]]],
                  now: datetime, per_system_overlay: Mapping[str, str]) -> tuple[dict[str, dict[str, str]],
                                                                                 dict[str, str]]:
    """Per system, its latest facts' hashes (for the run's audit) and the fingerprint of all its
    inputs: catalog entry, fact hashes and staleness, overlay state. An incremental run evaluates
    again exactly the systems whose fingerprint differs from the previous run's.

    The catalog entry is in it as the JSON of its fields (services and dependencies are JSON
    already), not its repr: a third of the cost at 10,000 systems. (The first run after this
    changed evaluated every system once: no stored fingerprint matched.)"""
    fact_hashes: dict[str, dict[str, str]] = {}
    fingerprints: dict[str, str] = {}
    stale_before: dict[str, datetime] = {}  # per source: facts last seen before this are past their maximum age
    for system in systems:
        sid = system.system_id
        stored = fact_index.get(sid)
        stale = []
        if stored:
            hashes = fact_hashes[sid] = {}
            for source in sorted(stored):
                digest, seen = stored[source]
                hashes[source] = digest
                cutoff = stale_before.get(source)
                if cutoff is None:
                    cutoff = stale_before[source] = now - max_fact_age(source)
                stale.append((source, digest, seen.isoformat() if seen < cutoff else ""))
        fingerprints[sid] = _hash([_catalog_entry(system), stale, per_system_overlay.get(sid, "")])
    return fact_hashes, fingerprints


_catalog_entry = attrgetter(*(f.name for f in dataclass_fields(SystemView)))  # every field, as a tuple


def _latest_complete_run(connection) -> int | None:
    run = EvaluationRun.__table__.c
    return connection.execute(select(func.max(run.id)).where(run.status == "complete")).scalar()


def _previous_run(connection, latest: int, context: str) -> tuple[int, dict[str, tuple], list] | None:
    """The latest complete run, if its context equals this one's: (id, system id ->
    (results run, domain, fingerprint, tally), its exact summary)."""
    state = RunState.__table__.c
    stored = connection.execute(select(state.context_hash, state.summary).where(state.run_id == latest)).first()
    if stored is None or stored.context_hash != context:
        return None
    rs = RunSystem.__table__.c
    rows = connection.execute(select(rs.system_id, rs.results_run_id, rs.domain_key, rs.fingerprint, rs.tally)
                              .where(rs.last_run_id.is_(None))).all()  # the rows that hold for ``latest``
    carried = {sid: (results_run, domain, fingerprint, tally)
               for sid, results_run, domain, fingerprint, tally in rows}
    if not carried or any(not row[2] for row in carried.values()):
        return None  # a run stored before incremental runs existed: evaluate everything
    return latest, carried, stored.summary


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


def _tally_state(tally: Tally, share: tuple) -> dict:
    """A system's stored tally, with its share of every roll-up (``scoring.member``)."""
    return {**{name: getattr(tally, name) for name in TALLY_FIELDS}, "share": share}


def _stored_share(state: dict, tier: str, tally: Tally) -> tuple:
    """A carried system's share of the roll-ups as stored (JSON keeps floats exact), or worked
    out from its tally where a run stored before shares were kept has none."""
    share = state.get("share")
    if share is None:
        return member(tier, _score_of("", "", "", tally))
    *head, points = share
    return (*head, tuple(points))


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


@dataclass(frozen=True)
class _Plan:
    """What every result of one rule shares in a run, worked out once per run."""

    index: int
    meta: RuleMeta
    evaluate: object  # the rule's evaluate function
    rule_id: str
    version: str
    points: float
    blocker: bool
    team_managed: bool
    reads: tuple[str, ...]  # the fact sources whose staleness the rule's results take on
    due: date | None  # the due date while the rule is not yet due, else None
    error_entry: tuple  # the scoring of an error result (see _Evaluation.entry)


@dataclass(frozen=True)
class _Shape:
    """The rules as a system of one shape (tier, traffic class, public, purchase flow) meets them:
    ``steps`` in rule order, each (plan, None) to evaluate or (None, row tail) for a constant
    not-applicable result; ``cells`` the summary cells of those not-applicable results."""

    steps: tuple[tuple[_Plan | None, tuple | None], ...]
    cells: tuple[int, ...]


class _Evaluation:
    """One run's evaluation of systems, and what it accumulates as results stream to the database.

    Per-result work is kept small: a rule's applicability is decided once per system shape
    (its not-applicable rows are constants); an outcome's scoring (status text, counted,
    weight, earned, summary cell) is worked out once per rule, status and credit and reused;
    tallies are summed in locals; the rule summary counts cell ids, added up exactly
    (integer millionths) when the run is published.
    """

    def __init__(self, ruleset: RuleSet, run_id: int, now: datetime, overlays: Sequence[Overlay],
                 due_dates: Mapping[str, date], season: Mapping | None, watchdog: Watchdog) -> None:
        self.run_id, self.now, self.watchdog = run_id, now, watchdog
        self.season = {SEASON: season} if season else {}
        self.cells: list[tuple] = []  # cell id -> (rule id, status text, counted, µ possible, µ earned, short)
        self._cell_ids: dict[tuple, int] = {}
        self.entries: dict[tuple, tuple] = {}  # (rule index, status, credit) -> scoring of that outcome
        self.plans: list[_Plan] = []
        today = now.date()
        for index, rule in enumerate(ruleset.rules):
            meta = rule.meta
            due = due_dates.get(meta.id)
            error_entry = (Status.ERROR.value, 0.0, 0.0, 0.0, False, False, False, True,
                           self._cell(meta.id, Status.ERROR.value, False, 0, 0, False))
            self.plans.append(_Plan(index, meta, rule.evaluate, meta.id, meta.version, meta.points, meta.blocker,
                                    meta.kind == "team-managed", meta.facts or ("inventory",),
                                    due if due is not None and today < due else None, error_entry))
        self.load_error_tails = []  # (row tail, cell id) per rule that failed to load: the same for every system
        for error in ruleset.load_errors:
            rule_id = error.rule_id or error.module
            self.load_error_tails.append((
                (rule_id, "", Status.ERROR.value, 0.0, 0.0, 0.0, False, f"rule failed to load: {error.reason}",
                 _evidence_json([{"module": error.module}]), "automated"),
                self._cell(rule_id, Status.ERROR.value, False, 0, 0, False)))
        self.overlays = list(overlays)
        # An overlay whose ``active`` mapping is keyed by (system id, rule id) changes only the systems it
        # names (what incremental runs rely on too, see _overlay_states): the others skip it.
        self._named: list[set[str] | None] = []
        for overlay in self.overlays:
            active = getattr(overlay, "active", None)
            mapped = (not callable(getattr(overlay, "fingerprint", None)) and isinstance(active, Mapping)
                      and all(isinstance(k, tuple) and k for k in active))
            self._named.append({str(k[0]) for k in active} if mapped else None)
        self._shapes: dict[tuple, _Shape] = {}
        self._by_shape = all(type(plan.meta.applies_to) is Applicability for plan in self.plans)
        self.rows: list[tuple] = []  # result rows not yet written, in RESULT_COLUMNS order
        self.tallies: dict[str, Tally] = {}
        self.domain_cells: dict[str, Counter] = {}  # domain -> cell id -> results

    def _cell(self, rule_id: str, text: str, counted: bool, possible: int, earned: int, short: bool) -> int:
        key = (rule_id, text, counted, possible, earned, short)
        cell = self._cell_ids.get(key)
        if cell is None:
            cell = self._cell_ids[key] = len(self.cells)
            self.cells.append(key)
        return cell

    def entry(self, plan: _Plan, status, credit) -> tuple:
        """How an outcome scores: (status text, credit, weight, earned, counted, short, blocks, error, cell).

        Raises for a status that is not one (the caller stores an error result instead)."""
        text = STATUS_TEXT[status]
        counted, earning = counts(status, credit)
        weight = plan.points if counted else 0.0
        earned = round(weight * earning, 6)
        short = counted and earned < weight
        entry = (text, round(credit, 6), weight, earned, counted, short, plan.blocker and status in BLOCKING_STATUSES,
                 not counted and status == Status.ERROR,
                 self._cell(plan.rule_id, text, counted, _micro(weight) if counted else 0,
                            _micro(earned) if counted else 0, short))
        self.entries[(plan.index, status, credit)] = entry
        return entry

    def shape(self, system: SystemView) -> _Shape:
        if not self._by_shape:  # a subclass of Applicability may read more of the system: asked per system
            return self._shape_of(system)
        key = (system.tier, system.traffic_class, system.public, system.purchase_flow)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._shape_of(system)
        return shape

    def _shape_of(self, system: SystemView) -> _Shape:
        steps, cells = [], []
        for plan in self.plans:
            reason = plan.meta.applies_to.reason_not_applicable(system)
            if reason:
                steps.append((None, _not_applicable_tail(plan, reason)))
                cells.append(self._cell(plan.rule_id, Status.NOT_APPLICABLE.value, False, 0, 0, False))
            else:
                steps.append((plan, None))
        return _Shape(tuple(steps), tuple(cells))

    def overlays_for(self, system_id: str) -> list[Overlay]:
        return [o for o, named in zip(self.overlays, self._named, strict=True) if named is None or system_id in named]

    @property
    def summary(self) -> dict[tuple[str, str, str], list]:
        """(domain, rule, status) -> [results, counted, millionths possible, millionths earned, short]."""
        summary: dict[tuple[str, str, str], list] = {}
        for domain, counted_cells in self.domain_cells.items():
            for cell_id, results in counted_cells.items():
                rule_id, text, counted, possible, earned, short = self.cells[cell_id]
                cell = summary.get((domain, rule_id, text))
                if cell is None:
                    cell = summary[(domain, rule_id, text)] = [0, counted, 0, 0, 0]
                cell[0] += results
                if counted:
                    cell[2] += results * possible
                    cell[3] += results * earned
                    cell[4] += results * short
        return summary


def _not_applicable_tail(plan: _Plan, reason: str) -> tuple:
    return (plan.rule_id, plan.version, Status.NOT_APPLICABLE.value, 0.0, 0.0, 0.0, False, reason[:2000], "[]",
            "automated")


def _evaluate_system(ev: _Evaluation, system: SystemView, stored: dict[str, StoredFacts]) -> None:
    """Evaluate one system: its result rows go to ``ev.rows``, its tally and summary cells to ``ev``.

    The rule call is made here, between the watchdog's two counters, and this function is the
    watchdog's caller: a tick that lands in its own code never raises."""
    # Frozen once per system: a rule that changes an asset gets an error, and every rule reads the same.
    system, facts = rule_inputs(system, {source: f.data for source, f in stored.items()} | ev.season)
    stale = _stale_sources(stored, ev.now) if stored else {}
    sid = system.system_id
    shape = ev.shape(system)
    overlays = ev.overlays_for(sid) if ev.overlays else ()
    head = (ev.run_id, sid)
    rows, entries, watchdog, make_entry = ev.rows, ev.entries, ev.watchdog, ev.entry
    cells = list(shape.cells)
    possible = earned_sum = error_points = 0.0
    failing = 0
    blocked = error_blocked = False
    by_basis = dict.fromkeys(BASES, 0.0)
    for plan, tail in shape.steps:
        if plan is None:  # not applicable to this system's shape: a constant row
            rows.append(head + tail)
            continue
        try:
            watchdog.started += 1
            outcome = plan.evaluate(system, facts)
            watchdog.finished = watchdog.started
            if watchdog.overran:  # interrupted, but the rule caught it and returned anyway
                raise RuleTimeout(f"ran longer than the {watchdog.limit:g} s rule time limit")
            if not isinstance(outcome, Outcome):
                raise TypeError(f"evaluate returned {type(outcome).__name__}, expected Outcome")
        except KeyboardInterrupt:  # a real interrupt (Ctrl-C, serve's second signal) stops the run
            raise
        except BaseException as exc:  # SystemExit, a time limit, any Exception: this rule's error only
            watchdog.finished, watchdog.overran = watchdog.started, False
            outcome, basis = Outcome(Status.ERROR, 0.0, _error_message(exc)), "automated"
        else:
            basis = _basis(plan.meta, outcome) if plan.team_managed else "automated"
            for overlay in overlays:
                changed = overlay.apply(system, plan.meta, outcome)
                if changed is not None:
                    outcome, basis = changed
            if stale:
                read = [s for s in plan.reads if s in stale]
                if read and basis == "automated" and outcome.status not in (Status.NOT_APPLICABLE, Status.ERROR):
                    outcome, basis = _stale_outcome(outcome, read, stale), "stale"
            if plan.due is not None and outcome.status in NOT_YET_DUE:
                outcome = Outcome(Status.WARNING, outcome.credit,
                                  f"due {plan.due.isoformat()}: {outcome.message}", outcome.evidence)
        try:  # what the rule returned is stored as text: its own code may still run here (str(), evidence)
            message, evidence = outcome.message[:2000], outcome.evidence
            evidence = dumps_json(evidence) if evidence else "[]"
            status, credit = outcome.status, outcome.credit
            entry = entries.get((plan.index, status, credit)) or make_entry(plan, status, credit)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            message = f"rule returned a result that cannot be stored: {_error_message(exc)}"
            evidence, entry = "[]", plan.error_entry
        text, credit, weight, earned, counted, short, blocks, error, cell = entry
        rows.append((*head, plan.rule_id, plan.version, text, credit, weight, earned, counted, message, evidence,
                     basis))
        cells.append(cell)
        if counted:
            possible += weight
            earned_sum += earned
            by_basis[basis] = by_basis.get(basis, 0.0) + weight
            if short:
                failing += 1
            if blocks:
                blocked = True
        elif error:
            error_points += plan.points
            error_blocked = error_blocked or plan.blocker
    for tail, cell in ev.load_error_tails:
        rows.append(head + tail)
        cells.append(cell)
        error_points += UNLOADED_RULE_POINTS
    ev.tallies[sid] = Tally(possible, earned_sum, failing, blocked, error_points, error_blocked, by_basis)
    domain_cells = ev.domain_cells.get(system.domain)
    if domain_cells is None:
        domain_cells = ev.domain_cells[system.domain] = Counter()
    domain_cells.update(cells)


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


STATUS_TEXT = {status: status.value for status in Status}  # plain str for the driver, without enum lookups


def _evidence_json(evidence) -> str:
    return dumps_json(evidence) if evidence else "[]"


def _score_of(key: str, name: str, parent: str, tally: Tally) -> UnitScore:
    return UnitScore("system", key, name, parent, tally.score(), round(tally.possible, 4), round(tally.earned, 4),
                     tally.outstanding, 1, tally.failing, tally.confidence())


def _system_score(system: SystemView, tally: Tally) -> UnitScore:
    return _score_of(system.system_id, system.name, system.team, tally)


def _roll_ups(systems: list[SystemView], units: list, shares: dict[str, tuple]) -> list[UnitScore]:
    """Every unit's score from its systems' shares, summed in the systems' order (the same
    floats whichever systems were evaluated), the company's last."""
    team_group = {u.key: u.parent_key for u in units if u.level == "team"}
    group_parent = {u.key: u.parent_key for u in units if u.level == "group" and u.parent_level == "group"}
    members: dict[tuple[str, str], list[tuple]] = {}
    units_of: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (team, domain) -> the units it rolls up into
    for system in systems:
        share = shares[system.system_id]
        above = units_of.get((system.team, system.domain))
        if above is None:
            groups = [("group", g) for g in group_ancestry(group_parent, team_group.get(system.team))]
            above = units_of[(system.team, system.domain)] = [
                ("team", system.team), *groups, ("domain", system.domain), ("company", "company")]
        for unit in above:
            members.setdefault(unit, []).append(share)
    rolled = [roll_up_members(u.level, u.key, u.name, u.parent_key, members.get((u.level, u.key), []))
              for u in units]
    rolled.append(roll_up_members("company", "company", "Company", None, members.get(("company", "company"), [])))
    return rolled


RESULT_COLUMNS = ("run_id", "system_id", "rule_id", "rule_version", "status", "credit", "weight", "earned",
                  "counted", "message", "evidence", "basis")


def _insert_results(connection, run_id: int, rows: list[tuple]) -> None:
    """Driver-level bulk insert of run ``run_id``'s rows (each in RESULT_COLUMNS order, the run
    id first): a run writes one row per system and rule (600k at 10k systems), and
    SQLAlchemy's per-row parameter processing would dominate the run. PostgreSQL gets COPY;
    SQLite the driver's executemany, many rows per statement."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        write_rows(connection, RuleResult.__tablename__, RESULT_COLUMNS, rows)
        return
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    values = f"({', '.join([placeholder] * len(RESULT_COLUMNS))})"
    sql = f"INSERT INTO {RuleResult.__tablename__} ({', '.join(RESULT_COLUMNS)}) VALUES "
    # Many rows per statement: a fifth less of SQLite's per-statement work than one row each.
    whole = len(rows) - len(rows) % ROWS_PER_INSERT
    if whole:
        flat = tuple(chain.from_iterable(rows[:whole]))  # the driver takes tuples
        width = ROWS_PER_INSERT * len(RESULT_COLUMNS)
        connection.exec_driver_sql(sql + ", ".join([values] * ROWS_PER_INSERT),
                                   [flat[start:start + width] for start in range(0, len(flat), width)])
    if whole < len(rows):
        connection.exec_driver_sql(sql + values, rows[whole:])


ROWS_PER_INSERT = 100  # 1,200 parameters a statement, well under SQLite's limit (32,766)


SUMMARY_COLUMNS = ("run_id", "domain_key", "rule_id", "status", "results", "counted", "points_possible",
                   "points_earned", "short")


def _insert_summary(connection, run_id: int, summary: dict[tuple[str, str, str], list]) -> None:
    """Thousands of rows at 10,000 systems: written as the other publish rows are."""
    write_rows(connection, RuleSummary.__tablename__, SUMMARY_COLUMNS, [
        (run_id, domain, rule_id, status, results, bool(counted), round(possible / 1_000_000, 4),
         round(earned / 1_000_000, 4), short)
        for (domain, rule_id, status), (results, counted, possible, earned, short) in sorted(summary.items())])
