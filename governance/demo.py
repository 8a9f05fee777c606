"""Demo governance history: reviews and waivers on the demo organisation.

``seed_demo_governance`` is the ``peak_readiness.demo_seed`` hook ``readiness demo`` calls
once the demo history exists. It writes through the same role-checked functions as the
CLI, replaying the planned steps in time order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from governance.checks import ruleset_or_default
from governance.models import Review, Waiver
from governance.reviews import approve_review, reject_review, submit_review
from governance.roles import READINESS_TEAM, central_role_members
from governance.times import naive
from governance.waivers import approve_waiver, request_waiver, revoke_waiver
from readiness import (
    RuleSet,
    SystemView,
    TeamContacts,
    active_systems,
    domain_architects,
    latest_run_id,
    results,
    team_contacts,
)
from storage import session_scope

DEMO_ANSWERS = ("Yes: written down and reviewed with the team on {day}; see the linked page.",
                "Owned by {owner}; rehearsed in the last game day, gaps tracked in the backlog.",
                "Confirmed with the dependencies' owners; numbers taken from the latest Kapacity forecast.",
                "Tested in staging at forecast peak; results and follow-ups are on the linked page.")
TIER_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
DEMO_WAIVER_REASON = ("The fix needs a platform migration scheduled after the code freeze; the risk is covered "
                      "by manual monitoring during peak.")
WAIVER_FATES = ["approved", "approved", "approved", "approved", "requested", "requested", "expired", "revoked"]


@dataclass
class _Plan:
    """The demo's organisation and the writes planned on it, replayed in time order."""

    engine: Engine
    ruleset: RuleSet
    now: datetime
    teams: dict[str, TeamContacts]
    architects: dict[str, tuple[str, ...]]
    rng: random.Random = field(default_factory=lambda: random.Random("demo-governance"))
    events: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)  # (when, order, action)
    reviewed: set[tuple[str, str]] = field(default_factory=set)  # (system, rule) with a review planned
    waived: set[str] = field(default_factory=set)  # systems with a waiver planned
    pending: dict[str, set[str]] = field(default_factory=dict)  # domain -> {"review", "waiver"} left undecided

    def at(self, days: float, hours: int = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours)

    def add(self, when: datetime, action: Callable[[], object]) -> None:
        self.events.append((when, len(self.events), action))

    def owner(self, system: SystemView) -> str:
        team = self.teams[system.team]
        return (team.leads or team.members)[0]

    def replay(self) -> None:
        for _when, _order, action in sorted(self.events, key=lambda e: (e[0], e[1])):
            action()


def seed_demo_governance(engine: Engine, now: datetime | None = None, *, ruleset: RuleSet | None = None) -> dict:
    """Put realistic reviews (pending, approved, rejected, expired) and waivers (in force,
    requested, expired, revoked) on the demo organisation, through the same role-checked
    functions as the CLI, with times in the past weeks. Does nothing when any review or
    waiver exists, so running the demo twice gives the same state."""
    with session_scope(engine) as session:
        if session.exec(select(Review.id).limit(1)).first() or session.exec(select(Waiver.id).limit(1)).first():
            return {"skipped": True, "reviews": 0, "waivers": 0}
    plan = _Plan(engine, ruleset_or_default(ruleset), naive(now), team_contacts(engine), domain_architects(engine))
    systems = [s for s in active_systems(engine)
               if s.team in plan.teams and (plan.teams[s.team].leads or plan.teams[s.team].members)
               and plan.architects.get(s.domain)]
    run_id = latest_run_id(engine)
    reviews = _plan_reviews(plan, systems)
    waivers = _plan_waivers(plan, systems, run_id)
    extra_reviews, extra_waivers = _plan_domain_work(plan, systems, run_id)
    plan.replay()
    return {"skipped": False, "reviews": reviews + extra_reviews, "waivers": waivers + extra_waivers}


def _plan_reviews(plan: _Plan, systems: list[SystemView]) -> int:
    """Answers to team-managed checks on the 40 most critical systems, each with its fate."""
    checks = [r.meta for r in plan.ruleset.rules if r.meta.kind == "team-managed"]
    readiness_team = central_role_members(plan.engine, READINESS_TEAM)
    engine, ruleset, rng, add = plan.engine, plan.ruleset, plan.rng, plan.add
    reviews: dict[int, dict] = {}
    planned = 0
    for index, system in enumerate(sorted(systems, key=lambda s: (TIER_ORDER[s.tier], s.system_id))[:40]):
        owner = plan.owner(system)
        architects = plan.architects[system.domain]
        architect = architects[index % len(architects)]
        for meta in checks:
            if meta.applies_to.reason_not_applicable(system) or rng.random() < 0.45:
                continue
            key, planned = planned, planned + 1
            fate = rng.choices(["approved", "pending", "rejected", "expired"], [0.55, 0.25, 0.15, 0.05])[0]
            plan.reviewed.add((system.system_id, meta.id))
            if fate == "pending" and system.tier != "critical":  # a critical one waits for the readiness team
                plan.pending.setdefault(system.domain, set()).add("review")
            start = plan.at(200 if fate == "expired" else rng.randint(6, 20), rng.randint(0, 8))
            answers = {str(n): DEMO_ANSWERS[(n + index) % len(DEMO_ANSWERS)].format(
                day=(start - timedelta(days=2)).date().isoformat(), owner=owner)
                for n in range(1, len(meta.questions) + 1)}
            evidence = [f"https://wiki.example.internal/peak/{system.system_id.lower()}/{meta.id}"]
            add(start, lambda s=system, m=meta, o=owner, a=answers, e=evidence, k=key, t=start: reviews.__setitem__(
                k, submit_review(engine, s.system_id, m.id, actor_name=o, answers=a, evidence=e,
                                 ruleset=ruleset, now=t)))
            decided = start + timedelta(days=rng.randint(1, 4), hours=rng.randint(1, 6))
            if fate == "rejected":
                add(decided, lambda k=key, w=architect, t=decided: reject_review(
                    engine, reviews[k]["id"], actor_name=w, now=t,
                    comment="The plan does not cover the FLAS surge; add the pre-provisioning steps and resubmit."))
                continue
            if fate in ("approved", "expired") or system.tier == "critical":
                add(decided, lambda k=key, w=architect, t=decided: approve_review(
                    engine, reviews[k]["id"], actor_name=w, comment="Looks complete.", now=t))
            if system.tier == "critical" and fate != "pending" and readiness_team:
                second = decided + timedelta(days=1)
                add(second, lambda k=key, w=readiness_team[index % len(readiness_team)], t=second: approve_review(
                    engine, reviews[k]["id"], actor_name=w, comment="Agreed for peak.", now=t))
    return planned


def _waiver_candidates(plan: _Plan, systems: list[SystemView], run_id: int | None) -> list[tuple[str, str]]:
    """(system, rule) pairs of waivable automated rules, failing in the latest run when there is one."""
    known = {s.system_id for s in systems}
    waivable = {r.meta.id for r in plan.ruleset.rules if r.meta.kind == "automated" and r.meta.waivable}
    candidates: list[tuple[str, str]] = []
    if run_id is not None:
        candidates = [(r.system_id, r.rule_id) for r in results(plan.engine, run_id=run_id, statuses=("fail",))
                      if r.system_id in known and r.rule_id in waivable]
    if not candidates:
        candidates = [(s.system_id, r) for s in systems for r in sorted(waivable)][:50]
    plan.rng.shuffle(candidates)
    chosen, used = [], set()
    for system_id, rule_id in candidates:
        if system_id not in used:
            chosen.append((system_id, rule_id))
            used.add(system_id)
        if len(chosen) == len(WAIVER_FATES):
            break
    return chosen


def _plan_waivers(plan: _Plan, systems: list[SystemView], run_id: int | None) -> int:
    """Waivers on automated rules that fail in the latest run: in force, requested, expired, revoked."""
    by_id = {s.system_id: s for s in systems}
    engine, ruleset, rng, add = plan.engine, plan.ruleset, plan.rng, plan.add
    chosen = _waiver_candidates(plan, systems, run_id)
    for (system_id, rule_id), fate in zip(chosen, WAIVER_FATES, strict=False):
        system = by_id[system_id]
        plan.waived.add(system_id)
        if fate == "requested":
            plan.pending.setdefault(system.domain, set()).add("waiver")
        owner, architect = plan.owner(system), plan.architects[system.domain][0]
        asked = plan.at(40 if fate == "expired" else rng.randint(3, 12))
        expires = (plan.at(3) if fate == "expired" else plan.at(-rng.randint(20, 60))).date()
        key: dict = {}
        add(asked, lambda s=system_id, r=rule_id, o=owner, e=expires, t=asked, k=key: k.setdefault(
            "id", request_waiver(engine, s, r, actor_name=o, reason=DEMO_WAIVER_REASON, expires=e, ruleset=ruleset,
                                 now=t)["id"]))
        if fate in ("approved", "expired", "revoked"):
            approved = asked + timedelta(days=1)
            add(approved, lambda a=architect, t=approved, k=key: approve_waiver(
                engine, k["id"], actor_name=a, comment="Accepted for this season only.", ruleset=ruleset, now=t))
        if fate == "revoked":
            revoked = asked + timedelta(days=2)
            add(revoked, lambda a=architect, t=revoked, k=key: revoke_waiver(
                engine, k["id"], actor_name=a, now=t, reason="The migration was brought forward; fix it now."))
    return len(chosen)


def _plan_domain_work(plan: _Plan, systems: list[SystemView], run_id: int | None) -> tuple[int, int]:
    """Every domain with architects gets a review and a waiver waiting for them (when it has a system
    a check applies to, or a waivable failure), so every demo architect login has work to decide."""
    checks = [r.meta for r in plan.ruleset.rules if r.meta.kind == "team-managed"]
    waivable = {r.meta.id for r in plan.ruleset.rules if r.meta.kind == "automated" and r.meta.waivable}
    failing: dict[str, list[str]] = {}
    if run_id is not None:
        for result in results(plan.engine, run_id=run_id, statuses=("fail",)):
            if result.rule_id in waivable:
                failing.setdefault(result.system_id, []).append(result.rule_id)
    engine, ruleset = plan.engine, plan.ruleset
    reviews = waivers = 0
    by_domain: dict[str, list[SystemView]] = {}
    for system in sorted(systems, key=lambda s: (TIER_ORDER[s.tier], s.system_id)):
        by_domain.setdefault(system.domain, []).append(system)
    for domain, members in sorted(by_domain.items()):
        waiting = plan.pending.get(domain, set())
        if "review" not in waiting:
            found = next(((s, m) for s in members for m in checks
                          if (s.system_id, m.id) not in plan.reviewed and not m.applies_to.reason_not_applicable(s)),
                         None)
            if found is not None:
                system, meta = found
                owner, when = plan.owner(system), plan.at(2, 3)
                answers = {str(n): DEMO_ANSWERS[n % len(DEMO_ANSWERS)].format(
                    day=(when - timedelta(days=1)).date().isoformat(), owner=owner)
                    for n in range(1, len(meta.questions) + 1)}
                evidence = [f"https://wiki.example.internal/peak/{system.system_id.lower()}/{meta.id}"]
                plan.reviewed.add((system.system_id, meta.id))
                plan.add(when, lambda s=system, m=meta, o=owner, a=answers, e=evidence, t=when: submit_review(
                    engine, s.system_id, m.id, actor_name=o, answers=a, evidence=e, ruleset=ruleset, now=t))
                reviews += 1
        if "waiver" not in waiting:
            found = next(((s, sorted(failing[s.system_id])[0]) for s in members
                          if s.system_id in failing and s.system_id not in plan.waived), None)
            if found is not None:
                system, rule_id = found
                owner, when = plan.owner(system), plan.at(1, 5)
                expires = plan.at(-45).date()
                plan.waived.add(system.system_id)
                plan.add(when, lambda s=system.system_id, r=rule_id, o=owner, e=expires, t=when: request_waiver(
                    engine, s, r, actor_name=o, reason=DEMO_WAIVER_REASON, expires=e, ruleset=ruleset, now=t))
                waivers += 1
    return reviews, waivers
