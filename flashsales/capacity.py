"""The holds flash sales put on the purchase flow's headroom, and the lock that serialises them.

What each purchase-flow system absorbs and expects is :mod:`flashsales.headroom`
(re-exported here). A request's ``reserved_rps`` is its hold: the extra merchant
requests/s at the entry while it is proposed or granted. Every change to holds
first takes the ledger lock (:func:`lock_ledger`), so two reviews or approvals never
both spend the same headroom, from any number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from flashsales.headroom import PlatformCapacity, SystemCapacity, SystemRoom, purchase_flow_capacity
from flashsales.models import Ledger, SaleRequest
from storage import utcnow

HOLDING_STATES = ("increase_requested", "approved", "scheduled", "live")
__all__ = ["HOLDING_STATES", "Hold", "PlatformCapacity", "SystemCapacity", "SystemRoom", "lock_ledger",
           "overlapping_holds", "peak_reserved", "purchase_flow_capacity"]


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
