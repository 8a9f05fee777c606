"""The purchase flow's flash-sale headroom: what each system absorbs, expects and may grant.

A merchant's request enters the purchase flow at its entry system and reaches each
purchase-flow system ``s`` ``ratio_s`` times (Kapacity's stored call ratios; the
entry's ratio is 1). Per system, for the sale's window:

- ``capacity_s``: what it absorbs within two minutes, without autoscaling: the
  running capacity (replicas x requests per replica, by the one capacity policy
  ``readiness.capacity_figures``: Kubernetes workloads, else the inventory), or its
  measured breaking point (perftest's overload test) where that is lower and newer;
- ``expected_s``: Kapacity's p99 forecast over the window (the Baseline forecast,
  flagged, when no forecast covers it);
- ``holds_s``: the largest total that overlapping sales hold at any instant of the
  window, in merchant requests/s at the entry, times ``ratio_s``.

``room_s = (capacity_s - expected_s - holds_s) / ratio_s`` is the extra merchant
requests/s that system takes; the grantable increase is the smallest ``room_s``
(the bottleneck's), x 60 in the merchant's requests per minute.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from flashsales import traffic


@dataclass(frozen=True)
class SystemCapacity:
    """One purchase-flow system's figures; ``capacity_rps`` is what absorbs a surge."""

    system_id: str
    team: str
    flas_rps: float | None  # Kapacity's (else the inventory's) FLAS forecast, for reference
    provisioned_rps: float | None  # running replicas x requests per replica
    capacity_rps: float | None
    source: str  # where provisioned_rps comes from: kubernetes | inventory | none
    limited_by: str  # provisioned | breaking_point | unknown
    baseline_rps: float | None = None  # regular traffic at its forecast peak (for event multipliers)
    breaking_point_rps: float | None = None
    breaking_point_at: datetime | None = None
    call_ratio: float = 1.0
    ratio_source: str = "assumed"  # entry | call_ratios | call_ratios_default | assumed
    expected_p99_rps: float | None = None  # over the window asked for
    expected_source: str = "none"  # kapacity_p99 | kapacity_p99_partial | baseline_fallback | none
    expected_note: str = ""


@dataclass(frozen=True)
class SystemRoom:
    """One row of the headroom table: every term of the formula for one system."""

    system_id: str
    capacity_rps: float
    expected_p99_rps: float
    holds_rps: float  # overlapping holds x call ratio
    call_ratio: float
    room_rps: float  # (capacity - expected - holds) / ratio, merchant requests/s

    def as_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class PlatformCapacity:
    """The purchase flow's systems; ``capacity_rps`` is the entry rate it absorbs (the bottleneck's)."""

    systems: tuple[SystemCapacity, ...]
    capacity_rps: float | None
    bottleneck: str | None
    problems: tuple[str, ...] = field(default=())
    window: tuple[datetime, datetime] | None = None

    def rooms(self, reserved_rps: float) -> list[SystemRoom]:
        """Every term per system with ``reserved_rps`` held at the entry; needs known figures and a window."""
        if self.window is None or self.capacity_rps is None:
            raise ValueError("the headroom needs a window and every system's figures (see problems)")
        return [SystemRoom(s.system_id, s.capacity_rps, s.expected_p99_rps, reserved_rps * s.call_ratio,
                           s.call_ratio,
                           (s.capacity_rps - s.expected_p99_rps - reserved_rps * s.call_ratio) / s.call_ratio)
                for s in self.systems if s.call_ratio > 0]  # a ratio of 0: merchant requests never reach it

    def as_dict(self) -> dict:
        return {"capacity_rps": None if self.capacity_rps is None else round(self.capacity_rps, 3),
                "bottleneck": self.bottleneck, "problems": list(self.problems),
                "window": None if self.window is None else [w.isoformat() for w in self.window],
                "systems": [_jsonable(asdict(s)) for s in self.systems]}


def _jsonable(figures: dict) -> dict:
    """A system's figures as stored in a review's JSON (datetimes as ISO text)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in figures.items()}


def purchase_flow_capacity(engine: Engine, window: tuple[datetime, datetime] | None = None) -> PlatformCapacity:
    """Each purchase-flow system's capacity and call ratio, and its expected p99 over ``window``."""
    import readiness

    systems = [s for s in readiness.active_systems(engine) if s.purchase_flow]
    if not systems:
        return PlatformCapacity((), None, None, ("the catalog has no purchase-flow systems",), window)
    facts = readiness.latest_facts(engine, [s.system_id for s in systems])
    ratios = traffic.ratios_from_entry(engine, [s.system_id for s in systems])
    figures = [_system(engine, s.system_id, s.team, facts.get(s.system_id, {}), ratios[s.system_id], window)
               for s in systems]
    problems = tuple(_problems(figures, window))
    known = [f for f in figures if f.capacity_rps is not None and f.call_ratio > 0]
    if problems or not known:
        return PlatformCapacity(tuple(figures), None, None, problems, window)
    weakest = min(known, key=lambda f: (f.capacity_rps / f.call_ratio, f.system_id))
    return PlatformCapacity(tuple(figures), weakest.capacity_rps / weakest.call_ratio, weakest.system_id, (),
                            window)


def _problems(figures: list[SystemCapacity], window: tuple[datetime, datetime] | None) -> list[str]:
    problems = [f"{f.system_id}: no running capacity in the facts (collect Kubernetes workloads, or record "
                "replicas and rps_per_replica in the inventory)" for f in figures if f.capacity_rps is None]
    if window is not None:
        problems += [f"{f.system_id}: no expected traffic for the window: {f.expected_note}"
                     for f in figures if f.expected_p99_rps is None]
    return problems


def _system(engine: Engine, system_id: str, team: str, by_source: dict, ratio: traffic.Ratio,
            window: tuple[datetime, datetime] | None) -> SystemCapacity:
    import readiness

    data = {name: dict(getattr(stored, "data", None) or {}) for name, stored in by_source.items()}
    figures = readiness.capacity_figures(readiness.Facts(data))
    running_at = getattr(by_source.get(figures.compute_source), "last_seen_at", None)
    broke = traffic.breaking_point(data.get("perftest"))
    capacity, limited_by = _absorbable(figures.provisioned_rps, running_at, broke)
    expected = (traffic.expected_p99(engine, system_id, *window, figures.baseline_rps) if window is not None
                else traffic.Expected(None, "none", "no window asked for"))
    return SystemCapacity(
        system_id, team, figures.flas_rps, figures.provisioned_rps, capacity, figures.compute_source, limited_by,
        figures.baseline_rps, broke.rps if broke else None, broke.measured_at if broke else None,
        ratio.ratio, ratio.source, expected.rps, expected.source, expected.note)


def _absorbable(running: float | None, running_at: datetime | None,
                broke: traffic.BreakingPoint | None) -> tuple[float | None, str]:
    """Running capacity, or the breaking point where it is lower and measured after the running figure."""
    if broke is not None and (running is None or (
            broke.rps < running and (running_at is None or broke.measured_at >= running_at))):
        return broke.rps, "breaking_point"
    if running is None:
        return None, "unknown"
    return running, "provisioned"
