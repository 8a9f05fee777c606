"""The review's arithmetic, pure: projected peak, proposed limit, extra load, headroom.

The headroom formula and where each term comes from: :mod:`flashsales.headroom`.

``decide`` takes everything it needs as arguments (the request row, the
category limit, the merchant's profile, the purchase flow's capacity, the
overlapping holds) and returns a :class:`Decision` whose ``figures`` hold every
number it used, so a stored review explains itself and tests need no database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from clikit import counted
from flashsales import capacity as cap
from flashsales.history import TrafficProfile
from flashsales.models import SaleRequest
from flashsales.settings import Settings

EPSILON = 1e-9  # extra load equal to the headroom fits, whatever the float rounding
SHOWN_SYSTEMS = 5  # systems named in the reasoning; the figures hold them all


@dataclass
class Decision:
    decision: str  # no_change_needed | increase | refuse
    projected_peak_rpm: float | None
    proposed_limit_rpm: int | None
    extra_rps: float
    headroom_rps: float | None
    figures: dict
    reasoning: list[str]


def extra_rps(limit_rpm: int, category_limit_rpm: int, settings: Settings) -> float:
    """Requests/s a merchant limit above its category's adds at the purchase flow's entry."""
    return (limit_rpm - category_limit_rpm) / 60.0 * settings.requests_per_merchant_request


@dataclass(frozen=True)
class Headroom:
    """The window's headroom: holds at the entry, each system's terms, the bottleneck's room."""

    reserved_rps: float
    rooms: list[cap.SystemRoom]
    room_rps: float  # the smallest room, never below 0: what can be granted
    bottleneck: str


def headroom(platform: cap.PlatformCapacity, holds: list[cap.Hold], starts_at: datetime,
             ends_at: datetime) -> Headroom:
    """min over systems of (capacity - expected p99 - holds x ratio) / ratio; figures must be known."""
    reserved = cap.peak_reserved(holds, starts_at, ends_at)
    rooms = platform.rooms(reserved)
    tightest = min(rooms, key=lambda r: (r.room_rps, r.system_id))
    return Headroom(reserved, rooms, max(0.0, tightest.room_rps), tightest.system_id)


def decide(row: SaleRequest, limit_rpm: int, profile: TrafficProfile | None, history_error: str | None,
           platform: cap.PlatformCapacity, holds: list[cap.Hold], settings: Settings) -> Decision:
    """The review's decision; every figure it used goes into ``figures``."""
    reasons: list[str] = []
    figures: dict[str, Any] = {
        "declared_peak_rpm": row.expected_peak_rpm, "declared_multiplier": row.expected_multiplier,
        "category": row.category_key, "category_limit_rpm": limit_rpm,
        "history": profile.as_dict() if profile else None, "history_error": history_error,
        "requests_per_merchant_request": settings.requests_per_merchant_request,
    }
    candidates = _candidates(row, profile, history_error, figures, reasons)
    if not candidates:
        reasons.append("no declared peak and no history to apply the multiplier to: the platform cannot "
                       "assess the sale; resubmit with expected_peak_rpm")
        return Decision("refuse", None, None, 0.0, None, figures, reasons)
    projected, basis = max(candidates, key=lambda c: c[0])
    figures["projected_peak_rpm"] = round(projected, 3)
    figures["projected_basis"] = basis
    reasons.append(f"projected peak {projected:.0f} rpm (the larger of: "
                   + "; ".join(f"{what} {value:.0f}" for value, what in candidates) + ")")
    if projected <= limit_rpm:
        reasons.append(f"within the {row.category_key} limit of {limit_rpm} rpm: no change needed")
        return Decision("no_change_needed", projected, None, 0.0, None, figures, reasons)
    return _increase(row, limit_rpm, projected, platform, holds, settings, figures, reasons)


def _candidates(row: SaleRequest, profile: TrafficProfile | None, history_error: str | None,
                figures: dict, reasons: list[str]) -> list[tuple[float, str]]:
    """Projected peaks with what each comes from: the declared peak, history times the multiplier."""
    candidates: list[tuple[float, str]] = []
    if row.expected_peak_rpm is not None:
        candidates.append((row.expected_peak_rpm, "declared peak"))
    if profile is not None:
        reasons.append(f"history {Path(profile.source).name}: {counted(profile.days, 'day')} at {profile.step_seconds}s "
                       f"resolution; a normal day peaks at {profile.normal_rpm:.0f} rpm, the busiest interval "
                       f"reached {profile.peak_rpm:.0f} rpm")
        if row.expected_multiplier is not None:
            from_history = profile.normal_rpm * row.expected_multiplier
            figures["history_x_multiplier_rpm"] = round(from_history, 3)
            candidates.append((from_history, f"history x multiplier ({profile.normal_rpm:.0f} x "
                                             f"{row.expected_multiplier:g})"))
    elif history_error:
        reasons.append(f"history unreadable ({history_error}); using the declared figures only")
    else:
        reasons.append("no traffic history for this merchant; using the declared figures only")
    return candidates


def _increase(row: SaleRequest, limit_rpm: int, projected: float, platform: cap.PlatformCapacity,
              holds: list[cap.Hold], settings: Settings, figures: dict, reasons: list[str]) -> Decision:
    """Above the category limit: propose the next step up if the purchase flow has the headroom."""
    step = settings.limit_step_rpm
    proposed = int(math.ceil(projected / step) * step)
    extra = extra_rps(proposed, limit_rpm, settings)
    figures.update(proposed_limit_rpm=proposed, extra_rps=round(extra, 3), platform=platform.as_dict())
    reasons.append(f"above the {row.category_key} limit of {limit_rpm} rpm: a temporary limit of {proposed} rpm "
                   f"adds {extra:.2f} requests/s at the purchase flow's entry")
    if platform.capacity_rps is None:
        reasons.append("headroom of the purchase flow unknown: " + "; ".join(platform.problems)
                       + "; an increase cannot be granted without it")
        return Decision("refuse", projected, None, extra, None, figures, reasons)
    room = _note_headroom(row, platform, holds, figures, reasons)
    if extra <= room + EPSILON:
        reasons.append(f"{extra:.2f} <= {room:.2f}: propose {proposed} rpm to the rate-limit team")
        return Decision("increase", projected, proposed, extra, round(room, 3), figures, reasons)
    grantable = limit_rpm + _per_minute(room, figures)
    figures["max_grantable_limit_rpm"] = grantable
    reasons.append(f"{extra:.2f} > {room:.2f}: refused, the platform cannot take it; the most it could "
                   f"grant in this window is {grantable} rpm")
    return Decision("refuse", projected, None, extra, round(room, 3), figures, reasons)


def _note_headroom(row: SaleRequest, platform: cap.PlatformCapacity, holds: list[cap.Hold], figures: dict,
                   reasons: list[str]) -> float:
    """The headroom in the window, with every term per system and the bottleneck."""
    room = headroom(platform, holds, row.starts_at, row.ends_at)
    figures.update(reserved_rps=round(room.reserved_rps, 3), headroom_rps=round(room.room_rps, 3),
                   headroom_bottleneck=room.bottleneck, headroom_systems=[r.as_dict() for r in room.rooms],
                   grantable_increase_rpm=_per_minute(room.room_rps, figures),
                   overlapping=[{"request_id": h.request_id, "merchant_id": h.merchant_id,
                                 "reserved_rps": round(h.reserved_rps, 3)} for h in holds])
    reasons.extend(_fallback_reasons(platform))
    tightest = sorted(room.rooms, key=lambda r: (r.room_rps, r.system_id))[:SHOWN_SYSTEMS]
    if len(room.rooms) > len(tightest):
        reasons.append(f"the {len(tightest)} tightest of {len(room.rooms)} purchase-flow systems (the review's "
                       "figures hold every system's terms):")
    for r in tightest:
        reasons.append(f"{r.system_id}: (capacity {r.capacity_rps:.1f} - expected p99 {r.expected_p99_rps:.1f} "
                       f"- holds {r.holds_rps:.1f}) / call ratio {r.call_ratio:.3g} = {r.room_rps:.1f} requests/s")
    reasons.append(f"bottleneck {room.bottleneck}: {room.room_rps:.1f} merchant requests/s "
                   f"({figures['grantable_increase_rpm']} rpm) can be granted in this window, after "
                   f"{room.reserved_rps:.1f} held by {counted(len(holds), 'overlapping sale')}")
    return room.room_rps


def _fallback_reasons(platform: cap.PlatformCapacity) -> list[str]:
    """One line per distinct reason the expected traffic is not Kapacity's p99 over the whole window."""
    by_note: dict[str, list[str]] = {}
    for system in platform.systems:
        if system.expected_source != "kapacity_p99":
            by_note.setdefault(system.expected_note, []).append(system.system_id)
    return [f"expected traffic of {_some(ids)}: {note}" for note, ids in by_note.items()]


def _some(ids: list[str]) -> str:
    return ", ".join(ids[:SHOWN_SYSTEMS]) + (f" and {len(ids) - SHOWN_SYSTEMS} more" if len(ids) > SHOWN_SYSTEMS
                                             else "")


def _per_minute(room_rps: float, figures: dict) -> int:
    """Merchant requests per minute that ``room_rps`` at the entry allows."""
    return int(math.floor(room_rps * 60.0 / figures["requests_per_merchant_request"] + EPSILON))
