"""Facts: what fact sources collected about each system, stored before evaluation.

A fact source turns an external document or API into a JSON-able dict per
SystemID. Storing keeps every distinct version (by content hash) so a run can
name exactly which facts it read, and ``last_seen_at`` tells freshness.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from readiness.models import FactRecord, SourceStatus, System
from storage import refresh_statistics, session_scope, utcnow


@dataclass
class CollectedFacts:
    """One collection: facts per SystemID, and problems that name their place."""

    source: str
    by_system: dict[str, dict[str, Any]] = field(default_factory=dict)
    origin: str = ""
    errors: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # assets that named no known system


@runtime_checkable
class FactSource(Protocol):
    """Anything that can collect facts: an inventory file, Kapacity, perftest, Prometheus."""

    name: str
    freshness: timedelta

    def collect(self, engine: Engine) -> CollectedFacts: ...


SOURCE_ENTRY_POINTS = "peak_readiness.fact_sources"


def registered_sources() -> dict[str, Any]:
    """Fact-source factories other packages register (entry points), by name.

    Contexts downstream of readiness (Kapacity, perftest) plug their sources in
    here, so readiness never imports them and the data still flows one way.
    """
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in sorted(entry_points(group=SOURCE_ENTRY_POINTS), key=lambda e: e.name)}


def load_source(name: str) -> FactSource:
    sources = registered_sources()
    if name not in sources:
        raise KeyError(f"unknown fact source {name!r}; registered: {', '.join(sources) or 'none'}")
    return sources[name].load()()


@dataclass
class StoreReport:
    source: str
    systems: int
    changed: int
    unknown_systems: list[str]
    errors: list[str]


def content_hash(data: Any) -> str:
    """Stable hash of JSON-able content (key order does not matter)."""
    if type(data) is dict and not data:  # most systems' attestations, collected before every run
        return EMPTY_HASH
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


EMPTY_HASH = hashlib.sha256(b"{}").hexdigest()  # content_hash({})


def collect_and_store(engine: Engine, source: FactSource, *, now: datetime | None = None,
                      seen_within: timedelta | None = None) -> StoreReport:
    """Collect from one source and store; a failing source is recorded, not raised.
    ``seen_within``: see ``store_facts``."""
    now = now or utcnow()
    try:
        collected = source.collect(engine)
    except Exception as exc:  # a broken source must not stop the others
        _record_status(engine, source.name, now, error=f"{type(exc).__name__}: {exc}", systems=0)
        return StoreReport(source.name, 0, 0, [], [f"{source.name}: {type(exc).__name__}: {exc}"])
    return store_facts(engine, collected, now=now, seen_within=seen_within)


def store_facts(engine: Engine, collected: CollectedFacts, *, now: datetime | None = None,
                seen_within: timedelta | None = None) -> StoreReport:
    """Store a collection in one transaction.

    Two writers storing the same new version at once both miss it and the
    second hits the unique constraint; its retry then finds the committed
    version and only marks it seen, so nothing is lost or duplicated.

    ``seen_within`` (None: every version collected again is marked seen at ``now``): a
    system's latest version collected again unchanged keeps its recorded sighting when
    that is at most this old, so its row is not rewritten. Only for sources collected at
    the evaluation's own ``now`` before every run (``readiness.service.run_evaluation``),
    where a sighting that lags by less than the source's maximum age changes no result.
    """
    now = now or utcnow()
    for attempt in range(3):
        try:
            changed, unknown = _store_once(engine, collected, now, seen_within)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    refresh_statistics(engine, FactRecord.__tablename__, changed)  # an import of thousands of systems
    error = "; ".join(collected.errors[:5]) if collected.errors else None
    _record_status(engine, collected.source, now, error=error, systems=len(collected.by_system),
                   success=True)
    return StoreReport(collected.source, len(collected.by_system), changed, unknown, collected.errors)


def _store_once(engine: Engine, collected: CollectedFacts, now: datetime,
                seen_within: timedelta | None) -> tuple[int, list[str]]:
    changed = 0
    with session_scope(engine) as session:
        # Plain rows fetched at once: the attestations are stored before every run, and ORM
        # row loading cost more than these reads of 10,000 rows each.
        connection = session.connection()
        known = set(connection.execute(select(System.__table__.c.system_id)).scalars().all())
        unknown = sorted(set(collected.by_system) - known)
        stored, latest, tied = _stored_versions(connection, collected.source)
        # Kept: the one latest version's sighting when at most `seen_within` old and not after `now`
        # (a collection dated before the record moves the sighting back, as it always did).
        since = now - seen_within if seen_within is not None else None
        seen_again: list[int] = []
        new_records: list[dict] = []
        for system_id, data in sorted(collected.by_system.items()):
            if system_id not in known:
                continue
            digest = content_hash(data)
            record = stored.get((system_id, digest))
            if record is not None:  # same content as before (or back to an earlier version)
                record_id, seen = record
                newest = latest.get(system_id)
                if since is None or newest != digest or system_id in tied or not since <= seen <= now:
                    seen_again.append(record_id)
                changed += newest != digest
                continue
            new_records.append({"system_id": system_id, "source": collected.source, "content_hash": digest,
                                "data": data, "origin": collected.origin, "collected_at": now, "last_seen_at": now})
            changed += 1
        if new_records:  # Core executemany: ORM objects cost more than the write at 10,000 systems
            session.execute(insert(FactRecord.__table__), new_records)
        _mark_seen(connection, seen_again, now)
    return changed, unknown


def _stored_versions(connection: Connection, source: str) -> tuple[dict[tuple[str, str], tuple[int, datetime]],
                                                                     dict[str, str], set[str]]:
    """Every stored version of one source's facts, ``(system id, content hash) -> (record id, last
    seen)``, each system's latest content hash, and the systems whose newest sighting two versions
    share: one read in the order of the ``(system, source, last seen)`` index, newest last."""
    fact = FactRecord.__table__.c
    stored: dict[tuple[str, str], tuple[int, datetime]] = {}
    latest: dict[str, str] = {}
    tied: set[str] = set()
    previous: tuple[str, datetime] | None = None
    for record_id, system_id, digest, seen in connection.execute(
            select(fact.id, fact.system_id, fact.content_hash, fact.last_seen_at).where(fact.source == source)
            .order_by(fact.system_id, fact.last_seen_at, fact.id)).all():
        stored[(system_id, digest)] = (record_id, seen)
        latest[system_id] = digest
        if previous == (system_id, seen):
            tied.add(system_id)
        else:
            tied.discard(system_id)
        previous = (system_id, seen)
    return stored, latest, tied


def _mark_seen(connection: Connection, record_ids: list[int], now: datetime) -> None:
    """Move the sighting of the versions collected again (10,000 rows a run: the attestations)."""
    fact = FactRecord.__table__.c
    # One cached Core statement, its id list expanded at execution.
    seen = update(FactRecord.__table__).where(fact.id.in_(bindparam("ids", expanding=True))).values(last_seen_at=now)
    for start in range(0, len(record_ids), 500):
        connection.execute(seen, {"ids": record_ids[start:start + 500]})


def _record_status(engine: Engine, source: str, now: datetime, *, error: str | None,
                   systems: int, success: bool = False) -> None:
    for attempt in range(3):  # two first collections of a source may both insert its row
        try:
            return _write_status(engine, source, now, error=error, systems=systems, success=success)
        except IntegrityError:
            if attempt == 2:
                raise


def _write_status(engine: Engine, source: str, now: datetime, *, error: str | None,
                  systems: int, success: bool) -> None:
    with session_scope(engine) as session:
        status = session.get(SourceStatus, source) or SourceStatus(source=source, last_attempt_at=now)
        status.last_attempt_at = now
        status.last_error = error
        status.systems = systems
        if success:
            status.last_success_at = now
        session.add(status)


@dataclass(frozen=True)
class StoredFacts:
    data: dict[str, Any]
    content_hash: str
    collected_at: datetime
    last_seen_at: datetime
    origin: str


def latest_facts(engine: Engine, system_ids: Iterable[str] | None = None) -> dict[str, dict[str, StoredFacts]]:
    """The newest facts per system per source: ``{system_id: {source: StoredFacts}}``."""
    with engine.connect() as connection:
        return latest_facts_on(connection, system_ids)


def latest_facts_of(engine: Engine, source: str) -> dict[str, StoredFacts]:
    """The newest facts of one source per system: ``{system_id: StoredFacts}``."""
    with engine.connect() as connection:
        return {system_id: by_source[source] for system_id, by_source
                in _newest_facts(connection, None, source).items()}


def latest_facts_on(connection: Connection,
                    system_ids: Iterable[str] | None = None) -> dict[str, dict[str, StoredFacts]]:
    """``latest_facts`` on an open connection: the evaluation reads facts a chunk of
    systems at a time inside its own transaction, so memory stays flat."""
    if system_ids is None:
        return _newest_facts(connection, None)
    ids = sorted(set(system_ids))
    out: dict[str, dict[str, StoredFacts]] = {}
    for start in range(0, len(ids), 1000):  # bounded IN lists on every database
        out.update(_newest_facts(connection, ids[start:start + 1000]))
    return out


def _newest_facts(connection: Connection, ids: list[str] | None,
                  source: str | None = None) -> dict[str, dict[str, StoredFacts]]:
    fact = FactRecord.__table__
    newest = select(fact.c.system_id, fact.c.source, func.max(fact.c.last_seen_at).label("seen"))
    if ids is not None:
        newest = newest.where(fact.c.system_id.in_(ids))
    if source is not None:
        newest = newest.where(fact.c.source == source)
    newest = newest.group_by(fact.c.system_id, fact.c.source).subquery()
    query = (select(fact.c.system_id, fact.c.source, fact.c.data, fact.c.content_hash, fact.c.collected_at,
                    fact.c.last_seen_at, fact.c.origin)
             .join(newest, (fact.c.system_id == newest.c.system_id) & (fact.c.source == newest.c.source)
                   & (fact.c.last_seen_at == newest.c.seen))
             .order_by(fact.c.id))  # two versions seen at one time: the one stored later, as the evaluation's index
    out: dict[str, dict[str, StoredFacts]] = {}
    for system_id, source, data, digest, collected_at, last_seen_at, origin in connection.execute(query):
        out.setdefault(system_id, {})[source] = StoredFacts(data, digest, collected_at, last_seen_at, origin)
    return out


def source_statuses(engine: Engine) -> list[SourceStatus]:
    with session_scope(engine) as session:
        return list(session.exec(select(SourceStatus).order_by(SourceStatus.source)).scalars())
