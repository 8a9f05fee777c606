"""The rule authoring contract.

A rule is one module under ``rules/`` (or an extra folder, or an entry-point
pack) that defines ``META = RuleMeta(...)`` and ``evaluate(system, facts)``
returning an :class:`Outcome`. Rules are pure: they read the facts collected
before evaluation and never fetch anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clikit import counted  # noqa: F401  for rules: counted(2, "zone") is "2 zones", never "zone(s)"
from readiness.precedence import merge_compute

SEVERITY_WEIGHTS = {"critical": 10.0, "high": 7.5, "medium": 5.0, "low": 2.5}
CATEGORIES = (
    "resilience",
    "availability",
    "databases",
    "performance",
    "capacity",
    "observability",
    "ddos",
)
TIERS = ("critical", "high", "medium", "low")


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    NO_DATA = "no_data"
    ERROR = "error"
    WAIVED = "waived"
    PENDING_REVIEW = "pending_review"
    EXPIRED = "expired"
    WARNING = "warning"  # a scheduled rule failing before its due date
    STALE = "stale"  # judged on facts older than their source's maximum age: no credit


class Applicability(BaseModel):
    """Which systems a rule is about; an empty list means any."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    tiers: tuple[str, ...] = ()
    traffic_classes: tuple[Literal["FLAS", "Baseline"], ...] = ()
    public_only: bool = False
    purchase_flow_only: bool = False

    @field_validator("tiers")
    @classmethod
    def _known_tiers(cls, tiers: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in tiers if t not in TIERS]
        if unknown:
            raise ValueError(f"unknown {'tier' if len(unknown) == 1 else 'tiers'} {unknown}; accepted: {list(TIERS)}")
        return tiers

    def reason_not_applicable(self, system: SystemView) -> str | None:
        if self.tiers and system.tier not in self.tiers:
            return f"applies to tiers {', '.join(self.tiers)}; system is {system.tier}"
        if self.traffic_classes and system.traffic_class not in self.traffic_classes:
            return f"applies to {'/'.join(self.traffic_classes)} systems; system is {system.traffic_class}"
        if self.public_only and not system.public:
            return "applies to publicly exposed systems only"
        if self.purchase_flow_only and not system.purchase_flow:
            return "applies to systems in the purchase flow only"
        return None


class Band(BaseModel):
    """A partial-credit band: ratios at or above ``at_least`` earn ``credit``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_least: float
    credit: float = Field(ge=0.0, le=1.0)


class RuleMeta(BaseModel):
    """Validated rule metadata; the id must equal the module name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{2,80}$")
    title: str = Field(min_length=5)
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    severity: Literal["critical", "high", "medium", "low"]
    kind: Literal["automated", "team-managed"] = "automated"
    version: str = Field(default="1", min_length=1)
    rationale: str = Field(min_length=20)
    remediation: str = Field(min_length=20)
    link: str = ""
    blocker: bool = False
    waivable: bool = True
    applies_to: Applicability = Applicability()
    weight: float | None = Field(default=None, gt=0)
    bands: tuple[Band, ...] = ()
    # When the rule is due, as an offset from the season's target date (``weeks_before(6)``); before
    # it a failure is a warning that does not lower the score. The season may move it; no season: due.
    due: timedelta | None = None
    facts: tuple[str, ...] = ()  # fact sources read, for docs and freshness
    questions: tuple[str, ...] = ()  # team-managed checks: what the owner answers

    @field_validator("due", mode="before")
    @classmethod
    def _relative_due(cls, due: object) -> object:
        if isinstance(due, date):
            raise ValueError(f"due must be an offset from the season's target, e.g. weeks_before(6), not the "
                             f"date {due.isoformat()}: absolute dates go stale every year")
        if due is not None and not isinstance(due, timedelta):
            raise ValueError(f"due must be an offset from the season's target (weeks_before(n), days_before(n)), "
                             f"not {due!r}")
        if due is not None and due > timedelta(0):
            raise ValueError("due must be on or before the season's target: use weeks_before(n) or days_before(n)")
        return due

    @model_validator(mode="after")
    def _consistent(self) -> RuleMeta:
        if self.blocker and self.waivable:
            object.__setattr__(self, "waivable", False)  # blockers are never waivable
        if self.kind == "team-managed" and not self.questions:
            raise ValueError("team-managed rules must list the questions the owner answers")
        if list(self.bands) != sorted(self.bands, key=lambda b: -b.at_least):
            raise ValueError("bands must be listed from the highest threshold down")
        return self

    @property
    def points(self) -> float:
        return self.weight if self.weight is not None else SEVERITY_WEIGHTS[self.severity]

    def credit_for(self, ratio: float) -> float:
        """Credit for a headroom ratio under this rule's bands (0 below the lowest)."""
        for band in self.bands:
            if ratio >= band.at_least:
                return band.credit
        return 0.0


def weeks_before(weeks: int) -> timedelta:
    """A due offset: ``weeks`` before the season's target date."""
    return timedelta(weeks=-weeks)


def days_before(days: int) -> timedelta:
    """A due offset: ``days`` before the season's target date."""
    return timedelta(days=-days)


def describe_offset(offset: timedelta) -> str:
    """An offset from the target in words: "6 weeks before the target date", "on the target date"."""
    days = -offset.days
    if days == 0:
        return "on the target date"
    weeks, rest = divmod(abs(days), 7)
    parts = [f"{weeks} week{'s' if weeks != 1 else ''}"] * bool(weeks) + [f"{rest} day{'s' if rest != 1 else ''}"] * bool(rest)
    return f"{' '.join(parts)} {'before' if days > 0 else 'after'} the target date"


@dataclass(frozen=True)
class SystemView:
    """What a rule may know about the system it evaluates."""

    system_id: str
    name: str
    tier: str
    traffic_class: str
    public: bool
    purchase_flow: bool
    team: str
    domain: str
    services: tuple[dict, ...] = ()
    dependencies: tuple[tuple[str, str], ...] = ()  # (target system id, sync|async)


@dataclass(frozen=True)
class Facts:
    """Facts per source for one system, as collected before evaluation."""

    by_source: dict[str, dict[str, Any]] = field(default_factory=dict)

    def source(self, name: str) -> dict[str, Any] | None:
        return self.by_source.get(name)

    def assets(self, kind: str, source: str = "inventory") -> list[dict[str, Any]]:
        """Assets of one kind (``databases``, ``compute``...) from a source; [] when none."""
        return list((self.by_source.get(source) or {}).get(kind) or [])

    def has(self, name: str) -> bool:
        return name in self.by_source

    def compute(self) -> list[dict[str, Any]]:
        """Compute services of every source, merged per service (readiness/precedence.py):
        Kubernetes wins what runs, the inventory keeps the rest, services only one knows are kept.

        Kubernetes entries carry ``source`` (file, document, line) naming the manifest;
        merged ones ``merged`` (both ids, the values they disagree on and which was used).
        """
        return merge_compute(self.assets("compute"), self.assets("compute", source="kubernetes"))


@dataclass(frozen=True)
class Outcome:
    status: Status
    credit: float = 0.0
    message: str = ""
    evidence: tuple[dict, ...] = ()


def _evidence(evidence: list[dict] | tuple[dict, ...] | dict | None) -> tuple[dict, ...]:
    if evidence is None:
        return ()
    if isinstance(evidence, dict):
        return (evidence,)
    return tuple(evidence)


def passed(message: str = "", evidence=None) -> Outcome:
    return Outcome(Status.PASS, 1.0, message, _evidence(evidence))


def failed(message: str, evidence=None, credit: float = 0.0) -> Outcome:
    if not 0.0 <= credit < 1.0:
        raise ValueError("a failure's partial credit must be in [0, 1)")
    return Outcome(Status.FAIL, credit, message, _evidence(evidence))


def graded(credit: float, message: str, evidence=None) -> Outcome:
    """Pass with full credit, otherwise a failure carrying the partial credit."""
    if credit >= 1.0:
        return passed(message, evidence)
    return failed(message, evidence, credit=max(0.0, credit))


def not_applicable(message: str) -> Outcome:
    return Outcome(Status.NOT_APPLICABLE, 0.0, message)


def no_data(message: str) -> Outcome:
    return Outcome(Status.NO_DATA, 0.0, message)


def each_asset(assets: list[dict], check, *, what: str) -> Outcome:
    """Pass when ``check(asset)`` returns None for every asset; else fail naming each offender.

    ``check`` returns a short reason string for a failing asset. Credit is half
    the share of assets that pass: fixing some of them shows progress, and one
    offending asset still costs at least half the rule's points.
    """
    if not assets:
        return no_data(f"no {what} found in the facts")
    problems = []
    evidence = []
    for asset in assets:
        reason = check(asset)
        evidence.append({"asset": asset.get("id", "?"), "ok": reason is None, **({"problem": reason} if reason else {}),
                         **({"source": asset["source"]} if asset.get("source") else {}),
                         **({"merged": asset["merged"]} if asset.get("merged") else {})})
        if reason:
            problems.append(f"{asset.get('id', '?')}: {reason}")
    if not problems:
        return passed(f"all {what} comply ({len(assets):,} of {len(assets):,})", evidence)
    share = 1 - len(problems) / len(assets)
    return failed("; ".join(problems), evidence, credit=share * 0.5)


def merge_evidence(compute: list[dict]) -> list[dict]:
    """One evidence item per service merged from several sources: both ids, and the fields they
    disagree on with both values and which was used (``Facts.compute``)."""
    return [{"service": c.get("service"), "asset": c.get("id"), "merged": c["merged"]}
            for c in compute if c.get("merged")]


ATTESTATIONS = "attestations"


def attestation_outcome(meta: RuleMeta, facts: Facts) -> Outcome:
    """The outcome of a team-managed check from its review state.

    The ``attestations`` fact source holds, per rule id, the latest review:
    ``{"state": "approved"|"pending"|"rejected"|"expired", "submitted_by", "decided_by",
    "decided_at", "expires_at", "comment", "answers", "evidence", "review_id"}``.
    """
    review = (facts.source(ATTESTATIONS) or {}).get(meta.id)
    if not review:
        return no_data("not answered yet: the system owner submits answers with `readiness review submit`")
    evidence = [{"review_id": review.get("review_id"), "state": review.get("state"),
                 "submitted_by": review.get("submitted_by"), "decided_by": review.get("decided_by"),
                 "expires_at": review.get("expires_at")}] + list(review.get("evidence") or [])
    state = review.get("state")
    if state == "approved":
        return Outcome(Status.PASS, 1.0, f"approved by {review.get('decided_by')}", tuple(evidence))
    if state == "pending":
        return Outcome(Status.PENDING_REVIEW, 0.0, f"submitted by {review.get('submitted_by')}, awaiting approval",
                       tuple(evidence))
    if state == "expired":
        return Outcome(Status.EXPIRED, 0.0, f"approval expired on {review.get('expires_at')}: answer again",
                       tuple(evidence))
    return Outcome(Status.FAIL, 0.0, f"rejected by {review.get('decided_by')}: {review.get('comment', '')}",
                   tuple(evidence))
