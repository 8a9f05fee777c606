"""The scoring policy, in one place (documented in docs/scoring.md).

System score = 100 x earned points / possible points over the results that
count. A rule's points are its weight (severity default: critical 10, high 7.5,
medium 5, low 2.5); a result earns weight x credit. A failed, missing or
expired blocker caps the system at BLOCKER_CAP. A result judged on facts older
than their source's maximum age (FACT_MAX_AGE) is ``stale``: counted, no credit. Team, group, domain and
company scores are criticality-weighted means of their systems' scores;
points outstanding are summed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from readiness.quickreads import BASES
from readiness.rulekit import SEVERITY_WEIGHTS, Status

# How each status counts: (in the denominator, credit earned)
# credit None means "the rule's own credit" (partial credit for a failure).
STATUS_POLICY: dict[Status, tuple[bool, float | None]] = {
    Status.PASS: (True, 1.0),
    Status.FAIL: (True, None),
    Status.NO_DATA: (True, 0.0),  # readiness not shown is readiness not had
    Status.PENDING_REVIEW: (True, 0.0),
    Status.EXPIRED: (True, 0.0),
    Status.WAIVED: (True, 1.0),  # a documented, approved exception
    Status.NOT_APPLICABLE: (False, 0.0),
    Status.ERROR: (False, 0.0),  # our fault, not the team's; reported separately
    Status.WARNING: (False, 0.0),  # scheduled rule not yet due
    Status.STALE: (True, 0.0),  # evidence past its maximum age is not evidence: refresh the source
}

# How old a source's facts may be before results judged on them are stale, and how to refresh them.
FACT_MAX_AGE = {
    "inventory": timedelta(days=2),
    "kubernetes": timedelta(days=2),
    "kapacity": timedelta(days=8),
    "perftest": timedelta(days=45),
    "attestations": timedelta(days=366),
}
FALLBACK_MAX_AGE = timedelta(days=7)
REFRESH_HINTS = {
    "inventory": "import a fresh cloud-inventory export: `readiness import --inventory FILE`",
    "kubernetes": "collect the workloads again: `readiness collect kubernetes MANIFESTS`",
    "kapacity": "forecast again from fresh traffic history: `kapacity run`",
    "perftest": "run the system's performance tests again: `perftest run`",
    "attestations": "answer the check again: `readiness review submit`",
}


def max_fact_age(source: str) -> timedelta:
    return FACT_MAX_AGE.get(source, FALLBACK_MAX_AGE)


def refresh_hint(source: str) -> str:
    return REFRESH_HINTS.get(source, f"collect the {source} facts again (`readiness collect`)")

BLOCKER_CAP = 50.0
BLOCKING_STATUSES = frozenset({Status.FAIL, Status.NO_DATA, Status.EXPIRED, Status.STALE})

# The gate (`readiness evaluate --fail-under`) counts an error result as a failure
# earning nothing: a rule that crashes or hangs must not lift the figure a release
# is judged by. A rule that failed to load has no known weight: it counts as critical.
UNLOADED_RULE_POINTS = SEVERITY_WEIGHTS["critical"]

# The status sets every other module asks for (Status is a StrEnum: "fail" in MET is False).
# Met: nothing to do. Judged: counted in a pass rate (met or not, by the team's doing).
# Losing: someone must act (chase lists, digests, metrics); error costs no points but
# hides whether the system is ready, so it is chased too. Not yet met: losing, plus
# scheduled rules failing before their due date (reminders), less our own errors.
MET_STATUSES = frozenset({Status.PASS, Status.WAIVED, Status.NOT_APPLICABLE})
JUDGED_STATUSES = frozenset({Status.PASS, Status.FAIL, Status.NO_DATA, Status.WAIVED,
                             Status.PENDING_REVIEW, Status.EXPIRED, Status.STALE})
LOSING_STATUSES = frozenset({Status.FAIL, Status.NO_DATA, Status.EXPIRED, Status.PENDING_REVIEW,
                             Status.ERROR, Status.STALE})
NOT_YET_MET_STATUSES = (LOSING_STATUSES - {Status.ERROR}) | {Status.WARNING}
# What a waiver can cover: a rule's own verdict against the system (staleness is decided
# after waivers, on automated results only; errors are ours to fix).
WAIVABLE_STATUSES = frozenset({Status.FAIL, Status.NO_DATA, Status.EXPIRED})
TIER_WEIGHTS = {"critical": 4.0, "high": 3.0, "medium": 2.0, "low": 1.0}


def counts(status: Status, credit: float) -> tuple[bool, float]:
    """Whether a result counts, and the credit it earns."""
    counted, fixed = STATUS_POLICY[status]
    return counted, (credit if fixed is None else fixed) if counted else 0.0


@dataclass
class Tally:
    """Points of one unit: possible, earned, and where the points come from."""

    possible: float = 0.0
    earned: float = 0.0
    failing: int = 0
    blocked: bool = False
    error_points: float = 0.0  # points of error results, counted only by the gate
    error_blocked: bool = False
    by_basis: dict[str, float] = field(default_factory=lambda: dict.fromkeys(BASES, 0.0))

    @property
    def outstanding(self) -> float:
        return round(self.possible - self.earned, 6)

    def add(self, *, weight: float, earned: float, status: Status, blocker: bool, basis: str) -> None:
        self.possible += weight
        self.earned += earned
        self.by_basis[basis] = self.by_basis.get(basis, 0.0) + weight
        if earned < weight:
            self.failing += 1
        if blocker and status in BLOCKING_STATUSES:
            self.blocked = True

    def add_error(self, *, weight: float, blocker: bool) -> None:
        """An error result: no points in the score, a failure for the gate."""
        self.error_points += weight
        self.error_blocked = self.error_blocked or blocker

    def score(self) -> float:
        return self._score(self.possible, self.blocked)

    def gate_score(self) -> float:
        """The score with every error result counted as a failure that earns nothing."""
        return self._score(self.possible + self.error_points, self.blocked or self.error_blocked)

    def _score(self, possible: float, blocked: bool) -> float:
        if possible <= 0:
            return 100.0
        raw = 100.0 * self.earned / possible
        return round(min(raw, BLOCKER_CAP) if blocked else raw, 4)

    def confidence(self) -> dict[str, float]:
        """Share of possible points by evidence basis (sums to 1 when any points exist)."""
        if self.possible <= 0:
            return dict.fromkeys(BASES, 0.0)
        return {basis: round(points / self.possible, 4) for basis, points in self.by_basis.items()}


@dataclass
class UnitScore:
    level: str
    key: str
    name: str
    parent_key: str | None
    score: float
    possible: float
    earned: float
    outstanding: float
    systems: int
    failing: int
    confidence: dict[str, float]


def gate_score(members: Iterable[tuple[str, Tally]]) -> float:
    """The company figure --fail-under judges: the roll-up of the systems' gate scores."""
    weighted = total_weight = 0.0
    for tier, tally in members:
        weighted += TIER_WEIGHTS[tier] * tally.gate_score()
        total_weight += TIER_WEIGHTS[tier]
    return round(weighted / total_weight, 4) if total_weight else 100.0


def roll_up(level: str, key: str, name: str, parent_key: str | None,
            members: Iterable[tuple[str, UnitScore]]) -> UnitScore:
    """Criticality-weighted mean of member system scores; points and confidence summed."""
    return roll_up_members(level, key, name, parent_key, [member(tier, system) for tier, system in members])


def member(tier: str, system: UnitScore) -> tuple:
    """A system's share of every unit it rolls up into, computed once for all of them:
    (tier weight, weight x score, possible, earned, failing, points per basis in BASES order)."""
    weight, possible = TIER_WEIGHTS[tier], system.possible
    by_basis = dict.fromkeys(BASES, 0.0)
    for basis, share in system.confidence.items():
        by_basis[basis] = share * possible
    return weight, weight * system.score, possible, system.earned, system.failing, tuple(by_basis.values())


def roll_up_members(level: str, key: str, name: str, parent_key: str | None, members: list[tuple]) -> UnitScore:
    """``roll_up`` over prepared ``member`` tuples: the same sums in the same order, so the same floats."""
    weighted = total_weight = possible = earned = 0.0
    failing = 0
    a = b = c = d = e = f = 0.0  # the points per basis, BASES order
    for weight, weighted_score, system_possible, system_earned, system_failing, points in members:
        weighted += weighted_score
        total_weight += weight
        possible += system_possible
        earned += system_earned
        failing += system_failing
        pa, pb, pc, pd, pe, pf = points
        a += pa
        b += pb
        c += pc
        d += pd
        e += pe
        f += pf
    score = round(weighted / total_weight, 4) if total_weight else 100.0
    confidence = {basis: round(p / possible, 4) if possible else 0.0
                  for basis, p in zip(BASES, (a, b, c, d, e, f), strict=True)}
    return UnitScore(level, key, name, parent_key, score, round(possible, 4), round(earned, 4),
                     round(possible - earned, 4), len(members), failing, confidence)
