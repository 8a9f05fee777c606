"""Read-only reports: unmanaged flash-sale risk per category, and known events for Kapacity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from flashsales import capacity as cap
from flashsales.errors import HistoryUnavailable
from flashsales.history import load_profile
from flashsales.lifecycle import GOING_AHEAD
from flashsales.models import Category, Merchant, Review, SaleRequest
from flashsales.settings import Settings
from storage import session_scope

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class CategoryRisk:
    """What an unannounced flash sale in one category could bring, against the headroom left."""

    category: str
    rate_limit_rpm: int
    merchants: int
    merchants_with_history: int
    spike_ratio: float | None  # the largest peak/normal ratio of the category's merchants
    largest_normal_rpm: float | None  # the busiest merchant's normal daily peak
    spike_rpm: float | None  # largest_normal_rpm x spike_ratio
    admitted_rpm: float | None  # what the category limit lets through of that spike
    admitted_rps: float | None  # at the purchase flow's entry
    limit_rps: float  # one merchant at the category limit, at the purchase flow's entry
    headroom_rps: float | None  # the purchase flow's headroom at the moment (flashsales.headroom)
    headroom_left_rps: float | None  # headroom_rps - admitted_rps
    could_exceed: bool | None  # the admitted spike is more than the headroom
    limit_could_exceed: bool | None  # a merchant at the limit alone is more than the headroom
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnmanagedReport:
    at: datetime
    capacity_rps: float | None
    bottleneck: str | None
    reserved_rps: float
    headroom_rps: float | None
    categories: tuple[CategoryRisk, ...]
    problems: tuple[str, ...]


def unmanaged_report(engine: Engine, *, at: datetime, settings: Settings) -> UnmanagedReport:
    """Which categories, at their historical spike ratios, could exceed the FLAS capacity."""
    platform = cap.purchase_flow_capacity(engine, (at, at + _SECOND))
    with session_scope(engine) as session:
        reserved = cap.peak_reserved(cap.overlapping_holds(session, at, at + _SECOND),
                                     at, at + _SECOND)
        categories = list(session.exec(select(Category).order_by(Category.key)).scalars())
        merchants = list(session.exec(select(Merchant).order_by(Merchant.merchant_id)).scalars())
    headroom = None if platform.capacity_rps is None else max(0.0, min(r.room_rps for r in platform.rooms(reserved)))
    fanout = settings.requests_per_merchant_request
    rows = []
    for category in categories:
        members = [m for m in merchants if m.category_key == category.key]
        profiles, problems = [], []
        for merchant in members:
            if not merchant.history_path:
                continue
            try:
                profiles.append(load_profile(merchant.history_path))
            except HistoryUnavailable as exc:
                problems.append(f"{merchant.merchant_id}: {exc}")
        ratios = [p.spike_ratio for p in profiles if p.spike_ratio is not None]
        ratio = max(ratios) if ratios else None
        normal = max((p.normal_rpm for p in profiles), default=None)
        spike = normal * ratio if ratio is not None and normal is not None else None
        admitted = min(spike, category.rate_limit_rpm) if spike is not None else None
        admitted_rps = admitted / 60.0 * fanout if admitted is not None else None
        limit_rps = category.rate_limit_rpm / 60.0 * fanout
        left = headroom - admitted_rps if headroom is not None and admitted_rps is not None else None
        rows.append(CategoryRisk(
            category.key, category.rate_limit_rpm, len(members), len(profiles), ratio, normal, spike, admitted,
            admitted_rps, limit_rps, headroom, left,
            None if left is None else left < 0,
            None if headroom is None else limit_rps > headroom, tuple(problems)))
    rows.sort(key=lambda r: (r.headroom_left_rps is None, r.headroom_left_rps or 0.0, r.category))
    return UnmanagedReport(at, platform.capacity_rps, platform.bottleneck, reserved, headroom, tuple(rows),
                           platform.problems)


@dataclass(frozen=True)
class KnownEvent:
    """An announced flash sale going ahead, for Kapacity's forecasts of the affected systems."""

    name: str
    request_id: int
    status: str
    merchant_id: str
    merchant_name: str
    category: str
    system_ids: tuple[str, ...]  # the purchase-flow systems the surge reaches
    starts_at: datetime  # aware UTC
    ends_at: datetime
    multiplier: float | None  # projected peak over the merchant's normal daily peak
    expected_peak_rpm: float | None
    extra_rps: float  # requests/s above the category limit at each system (granted increases)
    limit_rpm: int  # the merchant's limit during the sale (granted, else the category's)


def known_events(engine: Engine, *, start: datetime | None = None, end: datetime | None = None,
                 settings: Settings | None = None) -> list[KnownEvent]:
    """Approved (or needing no change) flash sales overlapping [start, end), naive UTC bounds."""
    import readiness

    systems = tuple(s.system_id for s in readiness.active_systems(engine) if s.purchase_flow)
    fanout = settings.requests_per_merchant_request if settings else 1.0
    with session_scope(engine) as session:
        query = select(SaleRequest).where(SaleRequest.status.in_(GOING_AHEAD)).order_by(SaleRequest.starts_at,
                                                                                         SaleRequest.id)
        if start is not None:
            query = query.where(SaleRequest.ends_at > start)
        if end is not None:
            query = query.where(SaleRequest.starts_at < end)
        rows = list(session.exec(query).scalars())
        latest: dict[int, Review] = {}
        if rows:
            for review in session.exec(select(Review).where(Review.request_id.in_([r.id for r in rows]))
                                       .order_by(Review.id)).scalars():
                latest[review.request_id] = review
        categories = {c.key: c.rate_limit_rpm for c in session.exec(select(Category)).scalars()}
    events = []
    for row in rows:
        review = latest.get(row.id)
        history = (review.figures.get("history") if review else None) or {}
        projected = review.projected_peak_rpm if review else row.expected_peak_rpm
        normal = history.get("normal_rpm")
        multiplier = projected / normal if projected and normal else row.expected_multiplier
        extra = 0.0
        if row.granted_limit_rpm:
            extra = max(0.0, (row.granted_limit_rpm - categories.get(row.category_key, 0)) / 60.0 * fanout)
        events.append(KnownEvent(
            f"flash-sale-{row.id}", row.id, row.status, row.merchant_id, row.merchant_name, row.category_key,
            systems, row.starts_at.replace(tzinfo=UTC), row.ends_at.replace(tzinfo=UTC),
            None if multiplier is None else round(multiplier, 3), projected, round(extra, 3),
            row.granted_limit_rpm or categories.get(row.category_key, 0)))
    return events



def kapacity_events(engine: Engine, *, start: datetime | None = None, end: datetime | None = None,
                    settings: Settings | None = None) -> list[dict]:
    """Known events in Kapacity's file format (``name,start,end,multiplier,series``), one per system.

    Kapacity multiplies a system's whole traffic, so a sale's multiplier for a system is
    ``1 + extra / baseline``: ``extra`` is what the sale adds at that system (the admitted
    peak, i.e. the projected peak capped by the limit in force, minus the merchant's normal
    level, in requests/s) and ``baseline`` the system's forecast Baseline rate. Systems
    without a Baseline figure are left out (nothing to scale).
    """
    fanout = settings.requests_per_merchant_request if settings else 1.0
    platform = cap.purchase_flow_capacity(engine)
    baselines = {s.system_id: s.baseline_rps for s in platform.systems if s.baseline_rps}
    rows = []
    for event in known_events(engine, start=start, end=end, settings=settings):
        projected = event.expected_peak_rpm or 0.0
        normal = projected / event.multiplier if event.multiplier else 0.0
        admitted = min(projected, float(event.limit_rpm)) if event.limit_rpm else projected
        extra_rps = max(0.0, admitted - normal) / 60.0 * fanout
        for system_id in event.system_ids:
            baseline = baselines.get(system_id)
            if not baseline:
                continue
            rows.append({"name": f"{event.name}-{event.merchant_id}", "start": event.starts_at.isoformat(),
                         "end": event.ends_at.isoformat(), "multiplier": round(1 + extra_rps / baseline, 4),
                         "series": system_id})
    return rows
