"""The platform's FLAS headroom and the holds flash sales put on it.

FLAS capacity (Fast, Large Spike) is what a system absorbs within two minutes,
without autoscaling. A flash-sale request passes through every system in the
purchase flow, so the platform takes what its weakest purchase-flow system
takes: the platform capacity is the minimum over those systems. Per system:

- the FLAS forecast, by the one capacity policy the rules use too
  (``readiness.capacity_figures``: Kapacity when it has run, else the inventory);
- capped by the provisioned capacity (running replicas x requests per replica, from
  Kubernetes workloads when collected, else the inventory): only capacity already
  running absorbs a spike.

Headroom for a window = platform capacity - the largest total that holding
requests (proposed or granted increases) overlapping in time reserve at any
instant of the window. Every change to holds first takes the ledger lock
(:func:`lock_ledger`), so two reviews or approvals never both spend the same
headroom, from any number of processes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from flashsales.models import Ledger, SaleRequest
from storage import utcnow

HOLDING_STATES = ("increase_requested", "approved", "scheduled", "live")


@dataclass(frozen=True)
class SystemCapacity:
    system_id: str
    team: str
    flas_rps: float | None
    provisioned_rps: float | None
    capacity_rps: float | None
    source: str  # kapacity | inventory | none
    limited_by: str  # flas_forecast | provisioned | unknown
    baseline_rps: float | None = None  # regular traffic at its forecast peak (for event multipliers)


@dataclass(frozen=True)
class PlatformCapacity:
    """FLAS capacity of the purchase flow: the weakest system's, with each system's figures."""

    systems: tuple[SystemCapacity, ...]
    capacity_rps: float | None
    bottleneck: str | None
    problems: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {"capacity_rps": None if self.capacity_rps is None else round(self.capacity_rps, 3),
                "bottleneck": self.bottleneck, "problems": list(self.problems),
                "systems": [asdict(s) for s in self.systems]}


def purchase_flow_capacity(engine: Engine) -> PlatformCapacity:
    """Read the catalog and the latest facts through readiness's public surface."""
    import readiness

    systems = [s for s in readiness.active_systems(engine) if s.purchase_flow]
    if not systems:
        return PlatformCapacity((), None, None, ("the catalog has no purchase-flow systems",))
    facts = readiness.latest_facts(engine, [s.system_id for s in systems])
    figures = [_system_capacity(s.system_id, s.team, facts.get(s.system_id, {})) for s in systems]
    problems = tuple(f"{f.system_id}: no FLAS capacity in the facts (run kapacity, or record "
                     "forecast_flas_rps and replicas in the inventory)" for f in figures if f.capacity_rps is None)
    known = [f for f in figures if f.capacity_rps is not None]
    if problems or not known:
        return PlatformCapacity(tuple(figures), None, None, problems)
    weakest = min(known, key=lambda f: (f.capacity_rps, f.system_id))
    return PlatformCapacity(tuple(figures), weakest.capacity_rps, weakest.system_id)


def _system_capacity(system_id: str, team: str, by_source: dict) -> SystemCapacity:
    """The system's figures by the one capacity policy (readiness.capacity_figures)."""
    import readiness

    facts = readiness.Facts({name: dict(getattr(stored, "data", None) or {}) for name, stored in by_source.items()})
    figures = readiness.capacity_figures(facts)
    flas, provisioned, baseline = figures.flas_rps, figures.provisioned_rps, figures.baseline_rps
    if flas is None:
        return SystemCapacity(system_id, team, None, provisioned, None, figures.forecast_source, "unknown", baseline)
    if provisioned is not None and provisioned < flas:
        return SystemCapacity(system_id, team, flas, provisioned, provisioned, figures.forecast_source,
                              "provisioned", baseline)
    return SystemCapacity(system_id, team, flas, provisioned, flas, figures.forecast_source, "flas_forecast",
                          baseline)


# ------------------------------------------------------------------ holds and the lock


def lock_ledger(session: Session, now: datetime | None = None) -> int:
    """Serialise every change to holds: take the ledger row's lock until the transaction ends.

    The UPDATE takes the row lock on PostgreSQL (as SELECT ... FOR UPDATE would,
    and later statements in READ COMMITTED see what the previous holder committed)
    and the database write lock on SQLite. Returns the new ledger version.
    """
    result = session.execute(update(Ledger).where(Ledger.id == 1)
                             .values(version=Ledger.version + 1, updated_at=now or utcnow()))
    if result.rowcount == 0:  # a database created without the migration's seed row
        session.add(Ledger(id=1, version=1, updated_at=now or utcnow()))
        session.flush()
    return session.execute(select(Ledger.version).where(Ledger.id == 1)).scalar_one()


@dataclass(frozen=True)
class Hold:
    request_id: int
    merchant_id: str
    reserved_rps: float
    starts_at: datetime
    ends_at: datetime


def overlapping_holds(session: Session, start: datetime, end: datetime, *,
                      exclude: int | None = None) -> list[Hold]:
    query = (select(SaleRequest).where(SaleRequest.status.in_(HOLDING_STATES))
             .where(SaleRequest.reserved_rps > 0)
             .where(SaleRequest.starts_at < end).where(SaleRequest.ends_at > start)
             .order_by(SaleRequest.id))
    return [Hold(r.id, r.merchant_id, r.reserved_rps, r.starts_at, r.ends_at)
            for r in session.exec(query).scalars() if r.id != exclude]


def peak_reserved(holds: list[Hold], start: datetime, end: datetime) -> float:
    """The largest total reserved at any instant of [start, end) (a sweep over edges)."""
    edges: list[tuple[datetime, float]] = []
    for hold in holds:
        edges.append((max(hold.starts_at, start), hold.reserved_rps))
        edges.append((min(hold.ends_at, end), -hold.reserved_rps))
    edges.sort(key=lambda e: (e[0], e[1]))  # at the same instant, ends before starts
    level = best = 0.0
    for _, delta in edges:
        level += delta
        best = max(best, level)
    return best
