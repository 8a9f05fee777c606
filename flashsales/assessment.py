"""The review's arithmetic, pure: projected peak, proposed limit, extra load, headroom.

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

from flashsales import capacity as cap
from flashsales.history import TrafficProfile
from flashsales.models import SaleRequest
from flashsales.settings import Settings

EPSILON = 1e-9  # extra load equal to the headroom fits, whatever the float rounding


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
    """Requests/s a merchant limit above its category's adds at each purchase-flow system."""
    return (limit_rpm - category_limit_rpm) / 60.0 * settings.requests_per_merchant_request


def headroom(platform: cap.PlatformCapacity, holds: list[cap.Hold], starts_at: datetime,
             ends_at: datetime) -> tuple[float, float]:
    """(reserved, headroom) in requests/s over the window; the capacity must be known."""
    reserved = cap.peak_reserved(holds, starts_at, ends_at)
    return reserved, max(0.0, platform.capacity_rps - reserved)


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
        reasons.append(f"history {Path(profile.source).name}: {profile.days} day(s) at {profile.step_seconds}s "
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
                   f"adds {extra:.2f} requests/s at each purchase-flow system")
    if platform.capacity_rps is None:
        reasons.append("FLAS capacity of the purchase flow unknown: " + "; ".join(platform.problems)
                       + "; an increase cannot be granted without it")
        return Decision("refuse", projected, None, extra, None, figures, reasons)
    room = _note_headroom(row, platform, holds, figures, reasons)
    if extra <= room + EPSILON:
        reasons.append(f"{extra:.2f} <= {room:.2f}: propose {proposed} rpm to the rate-limit team")
        return Decision("increase", projected, proposed, extra, round(room, 3), figures, reasons)
    grantable = limit_rpm + int(math.floor(room * 60.0 / settings.requests_per_merchant_request))
    figures["max_grantable_limit_rpm"] = grantable
    reasons.append(f"{extra:.2f} > {room:.2f}: refused, the platform cannot take it; the most it could "
                   f"grant in this window is {grantable} rpm")
    return Decision("refuse", projected, None, extra, round(room, 3), figures, reasons)


def _note_headroom(row: SaleRequest, platform: cap.PlatformCapacity, holds: list[cap.Hold], figures: dict,
                   reasons: list[str]) -> float:
    """The headroom overlapping sales leave in the window, with the figures and reason that explain it."""
    reserved, room = headroom(platform, holds, row.starts_at, row.ends_at)
    figures.update(reserved_rps=round(reserved, 3), headroom_rps=round(room, 3),
                   overlapping=[{"request_id": h.request_id, "merchant_id": h.merchant_id,
                                 "reserved_rps": round(h.reserved_rps, 3)} for h in holds])
    reasons.append(f"FLAS capacity {platform.capacity_rps:.1f} requests/s (bottleneck {platform.bottleneck})"
                   f" minus {reserved:.1f} reserved by {len(holds)} overlapping sale(s) leaves "
                   f"{room:.1f} requests/s")
    return room
