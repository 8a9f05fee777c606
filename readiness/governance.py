"""Team-managed checks, waivers, roles and the append-only audit log.

Roles come from the catalog (``readiness.catalog.people``): members and leads
of a team own its systems, a domain's architects approve for that domain, and
the catalog's ``readiness_team`` and ``admins`` lists grant the central roles.
Anyone else is a viewer. Every write here checks the actor's role before it
writes anything; a refused write raises :class:`PermissionDenied` (or
:class:`InputError` for bad input) naming why and who could do it, and changes
nothing. Each write appends to the audit log in the same transaction.

The engine sees all this through two hooks ``readiness.service`` calls for
every evaluation:

- ``sources_for(engine, now)``: the ``attestations`` fact source, the state of
  each team-managed check per system *as of* ``now`` (see
  ``readiness.rulekit.attestation_outcome`` for the contract);
- ``overlays_for(engine, now)``: waivers approved and not expired at ``now``
  turn a fail, no-data or expired result into ``waived`` (basis ``waiver``).

Both first record expiries that fell due by ``now`` (approvals past their
expiry, waivers past their date) in the audit log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from readiness.catalog import people
from readiness.errors import InputError, NotFound, PermissionDenied
from readiness.facts import CollectedFacts
from readiness.models import (
    AuditEntry,
    Domain,
    Group,
    Review,
    ReviewDecision,
    RoleGrant,
    System,
    Team,
    Waiver,
)
from readiness.rulebook import RuleSet, load_rules
from readiness.rulekit import ATTESTATIONS, Outcome, RuleMeta, Status, SystemView
from storage import session_scope, utcnow

APPROVAL_VALIDITY = timedelta(days=180)  # an approval lasts this long at most, or to the end of the peak event
MAX_WAIVER = timedelta(days=366)
MIN_REASON = 10  # characters in a waiver reason or revocation
MIN_COMMENT = 3  # characters in a rejection comment
WAIVABLE_STATUSES = frozenset({Status.FAIL, Status.NO_DATA, Status.EXPIRED})
EXPIRY_ACTOR = "readiness:expiry"  # the actor of expiries recorded by an evaluation
ARCHITECT, READINESS_TEAM = "architect", "readiness_team"
REVIEW_STATES = ("pending", "approved", "rejected", "expired", "superseded")
WAIVER_STATES = ("requested", "approved", "revoked", "expired")


# ---------------------------------------------------------------- roles


@dataclass(frozen=True)
class Actor:
    """A user and the roles the catalog gives them."""

    name: str
    roles: frozenset[str] = frozenset()

    def owns(self, team: str) -> bool:
        return f"owner:{team}" in self.roles

    def architect_of(self, domain: str) -> bool:
        return f"architect:{domain}" in self.roles

    @property
    def readiness_team(self) -> bool:
        return READINESS_TEAM in self.roles

    @property
    def admin(self) -> bool:
        return "admin" in self.roles

    def describe(self) -> str:
        if not self.roles:
            return f"{self.name} has no role in the catalog (viewer only)"
        return f"{self.name} is {', '.join(sorted(self.roles))}"


def _actor_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InputError("--as: name the user acting (accepted: a user name from the catalog)")
    return name


def actor(engine: Engine, name: str) -> Actor:
    """Every role of one user name (an unknown name is a viewer)."""
    name = _actor_name(name)
    return Actor(name, frozenset(people(engine).get(name, set())))


def _describe(engine: Engine, name: str) -> str:
    return actor(engine, name).describe()


def _scoped_actor(session, name: str, ctx: _SystemContext) -> Actor:
    """The roles of a user that matter for one system: cheaper than every role in the catalog."""
    roles = {role for role in session.exec(select(RoleGrant.role).where(RoleGrant.user_name == name)).scalars()}
    if name in ctx.owners:
        roles.add(f"owner:{ctx.team}")
    if name in ctx.architects:
        roles.add(f"architect:{ctx.domain}")
    return Actor(name, frozenset(roles))


def central_role_members(engine: Engine, role: str) -> list[str]:
    with session_scope(engine) as session:
        return sorted(session.exec(select(RoleGrant.user_name).where(RoleGrant.role == role)).scalars())


@dataclass(frozen=True)
class _SystemContext:
    system_id: str
    team: str
    domain: str
    tier: str
    retired: bool
    architects: tuple[str, ...]
    owners: tuple[str, ...]


def _system_context(session, system_id: str) -> _SystemContext:
    system = session.get(System, system_id)
    if system is None:
        raise NotFound(f"unknown system {system_id!r}: see `readiness score --level system` for SystemIDs")
    team = session.get(Team, system.team_key)
    group = session.get(Group, team.group_key)
    domain = session.get(Domain, group.domain_key)
    return _SystemContext(system.system_id, team.key, domain.key, system.tier, system.retired,
                          tuple(domain.architects), tuple(dict.fromkeys([*team.members, *team.leads])))


# ---------------------------------------------------------------- helpers


def _naive(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _audit(session, *, now: datetime, actor: str, action: str, entity: str, system_id: str | None = None,
           rule_id: str | None = None, before: dict | None = None, after: dict | None = None) -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, entity=entity, system_id=system_id,
                           rule_id=rule_id, before=before, after=after))


def _rule(ruleset: RuleSet, rule_id: str) -> RuleMeta:
    rules = ruleset.by_id()
    if rule_id not in rules:
        raise NotFound(f"unknown rule {rule_id!r}: see `readiness rules list`")
    return rules[rule_id].meta


def _team_managed_ids(ruleset: RuleSet) -> list[str]:
    return [r.meta.id for r in ruleset.rules if r.meta.kind == "team-managed"]


def _names(users: Iterable[str]) -> str:
    listed = sorted(users)
    return ", ".join(listed) if listed else "nobody is listed in the catalog"


# ---------------------------------------------------------------- reviews of team-managed checks


def parse_answers(pairs: Sequence[str]) -> dict[str, str]:
    """``["1=yes", "Who signed off?=ada"]`` to a mapping; each item must contain ``=``."""
    answers: dict[str, str] = {}
    problems = []
    for index, pair in enumerate(pairs, start=1):
        key, sep, value = pair.partition("=")
        if not sep:
            problems.append(f"--answer #{index} {pair!r}: expected QUESTION=ANSWER "
                            "(QUESTION is the question's number, 1 for the first, or its text)")
            continue
        answers[key.strip()] = value.strip()
    if problems:
        raise InputError(problems)
    return answers


def _resolve_answers(meta: RuleMeta, answers: Mapping[str, str]) -> dict[str, str]:
    """Map answer keys (question number or text) to question texts; every question answered."""
    by_text = {q.strip().lower(): q for q in meta.questions}
    numbered = "; ".join(f"{n}: {q}" for n, q in enumerate(meta.questions, start=1))
    resolved: dict[str, str] = {}
    problems = []
    for key, value in answers.items():
        key = str(key).strip()
        question = None
        if key.isdigit() and 1 <= int(key) <= len(meta.questions):
            question = meta.questions[int(key) - 1]
        else:
            question = by_text.get(key.lower())
        if question is None:
            problems.append(f"answer {key!r}: not a question of {meta.id} (accepted: 1-{len(meta.questions)} "
                            f"or the question text; {numbered})")
        elif not str(value).strip():
            problems.append(f"answer to {question!r}: empty")
        elif question in resolved:
            problems.append(f"question {question!r} answered twice")
        else:
            resolved[question] = str(value).strip()
    for number, question in enumerate(meta.questions, start=1):
        if question not in resolved and not any(question in p for p in problems):
            problems.append(f"question {number} {question!r}: not answered (give --answer \"{number}=...\")")
    if problems:
        raise InputError(problems, origin=f"review of {meta.id}")
    return resolved


def _evidence_items(evidence: Sequence[str | dict]) -> list[dict]:
    items = []
    for entry in evidence:
        if isinstance(entry, dict):
            items.append(dict(entry))
            continue
        text = str(entry).strip()
        if not text:
            continue
        if text.startswith(("http://", "https://")):
            items.append({"kind": "link", "url": text})
        else:
            items.append({"kind": "text", "text": text})
    if not items:
        raise InputError("--evidence: attach at least one link or text the reviewer can check "
                         "(accepted: a URL, or free text)")
    return items


def _answers_hash(answers: Mapping[str, str], evidence: list[dict]) -> str:
    text = json.dumps({"answers": answers, "evidence": evidence}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _ReviewState:
    state: str
    approvals: list[ReviewDecision] = field(default_factory=list)
    rejection: ReviewDecision | None = None


def _state_at(review: Review, decisions: list[ReviewDecision], now: datetime) -> _ReviewState:
    """Where a review stands at ``now`` from its decisions (superseded is decided by the caller)."""
    seen = [d for d in decisions if d.at <= now]
    rejection = next((d for d in seen if d.decision == "reject"), None)
    approvals = [d for d in seen if d.decision == "approve"]
    if rejection is not None:
        return _ReviewState("rejected", approvals, rejection)
    if set(review.needs) <= {d.capacity for d in approvals}:
        if review.expires_at is not None and now >= review.expires_at:
            return _ReviewState("expired", approvals)
        return _ReviewState("approved", approvals)
    return _ReviewState("pending", approvals)


def _review_dict(review: Review, decisions: list[ReviewDecision], now: datetime | None = None) -> dict:
    if review.state in ("superseded", "rejected") or (review.state == "expired" and review.closed_at):
        state = review.state
        live = _state_at(review, decisions, datetime.max)
    else:
        live = _state_at(review, decisions, now or datetime.max)
        state = live.state
    return {
        "id": review.id, "system_id": review.system_id, "rule_id": review.rule_id,
        "rule_version": review.rule_version, "state": state, "needs": list(review.needs),
        "submitted_by": review.submitted_by, "submitted_at": _iso(review.submitted_at),
        "answers": dict(review.answers), "evidence": list(review.evidence),
        "approvals": [{"by": d.actor, "as": d.capacity, "at": _iso(d.at), "comment": d.comment}
                      for d in live.approvals],
        "rejected_by": live.rejection.actor if live.rejection else None,
        "comment": live.rejection.comment if live.rejection else "; ".join(
            d.comment for d in live.approvals if d.comment),
        "decided_at": _iso(review.decided_at), "expires_at": _iso(review.expires_at),
        "closed_reason": review.closed_reason,
    }


def _decisions(session, review_ids: Iterable[int]) -> dict[int, list[ReviewDecision]]:
    ids = list(review_ids)
    out: dict[int, list[ReviewDecision]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        query = select(ReviewDecision).where(ReviewDecision.review_id.in_(chunk)).order_by(ReviewDecision.id)
        for decision in session.exec(query).scalars():
            out[decision.review_id].append(decision)
    return out


def approval_expiry(engine: Engine, now: datetime, *, validity: timedelta = APPROVAL_VALIDITY) -> datetime:
    """When an approval given at ``now`` expires: after ``validity``, or at the end of the
    peak event under way or coming, whichever is first."""
    from readiness.reports import current_peak_event

    limit = now + validity
    event = current_peak_event(engine, now.date())
    if event is not None and event.ends_on >= now.date():
        limit = min(limit, datetime.combine(event.ends_on + timedelta(days=1), time()))
    return limit


def submit_review(engine: Engine, system_id: str, rule_id: str, *, actor_name: str,
                  answers: Mapping[str, str], evidence: Sequence[str | dict],
                  ruleset: RuleSet | None = None, now: datetime | None = None) -> dict:
    """The system owner answers a team-managed check; the result is pending review.

    A new submission replaces the previous one for the same system and rule: a
    pending one is superseded, an approval with different answers expires.
    """
    now = _naive(now)
    ruleset = ruleset if ruleset is not None else load_rules()
    meta = _rule(ruleset, rule_id)
    if meta.kind != "team-managed":
        raise InputError(f"rule {rule_id!r} is automated: its result comes from facts, not answers "
                         f"(team-managed rules: {', '.join(_team_managed_ids(ruleset)) or 'none loaded'})")
    resolved = _resolve_answers(meta, answers)
    items = _evidence_items(evidence)
    name = _actor_name(actor_name)
    with session_scope(engine) as session:
        ctx = _system_context(session, system_id)
        who = _scoped_actor(session, name, ctx)
        if ctx.retired:
            raise InputError(f"system {system_id} is retired; nothing to review")
        if not (who.owns(ctx.team) or who.admin):
            raise PermissionDenied(f"{who.name} cannot submit answers for {system_id}: only its owners "
                                   f"(members and leads of team {ctx.team}) or an admin can; {_describe(engine, who.name)}")
        digest = _answers_hash(resolved, items)
        review = Review(system_id=system_id, rule_id=rule_id, rule_version=meta.version, answers=resolved,
                        evidence=items, answers_hash=digest, submitted_by=who.name, submitted_at=now,
                        needs=[ARCHITECT] + ([READINESS_TEAM] if ctx.tier == "critical" else []),
                        state="pending")
        session.add(review)
        session.flush()
        previous = session.exec(select(Review).where(
            Review.system_id == system_id, Review.rule_id == rule_id, Review.id != review.id,
            Review.state.in_(("pending", "approved"))).with_for_update()).scalars().all()
        old_decisions = _decisions(session, [p.id for p in previous])
        for old in previous:
            before = _review_dict(old, old_decisions[old.id], now)
            changed = old.answers_hash != digest
            if old.state == "approved" and changed:
                old.state, action = "expired", "review.expired"
                old.closed_reason = f"answers changed by review {review.id}"
            else:
                old.state, action = "superseded", "review.superseded"
                old.closed_reason = f"replaced by review {review.id}"
            old.closed_at = now
            _audit(session, now=now, actor=who.name, action=action, entity=f"review:{old.id}",
                   system_id=system_id, rule_id=rule_id, before=before,
                   after=_review_dict(old, old_decisions[old.id], now))
        after = _review_dict(review, [], now)
        _audit(session, now=now, actor=who.name, action="review.submitted", entity=f"review:{review.id}",
               system_id=system_id, rule_id=rule_id, before=None, after=after)
    return after


def _load_review(session, review_id: int) -> Review:
    review = session.exec(select(Review).where(Review.id == review_id).with_for_update()).scalar_one_or_none()
    if review is None:
        raise NotFound(f"unknown review {review_id}: see `readiness review list`")
    return review


def _decidable(review: Review, decisions: list[ReviewDecision], now: datetime) -> None:
    state = review.state if review.state != "pending" else _state_at(review, decisions, now).state
    if state != "pending":
        raise InputError(f"review {review.id} is {state}; only pending reviews can be approved or rejected"
                         + (" (the owner submits again to start a new review)" if state != "approved" else ""))


def _eligible(who: Actor, ctx: _SystemContext, capacity: str) -> bool:
    if who.admin:
        return True
    return who.architect_of(ctx.domain) if capacity == ARCHITECT else who.readiness_team


def _who_may(engine: Engine, ctx: _SystemContext, capacity: str) -> str:
    if capacity == ARCHITECT:
        return f"a domain architect of {ctx.domain} ({_names(ctx.architects)})"
    return f"the central readiness team ({_names(central_role_members(engine, READINESS_TEAM))})"


def approve_review(engine: Engine, review_id: int, *, actor_name: str, comment: str = "",
                   now: datetime | None = None, validity: timedelta = APPROVAL_VALIDITY) -> dict:
    """Approve in the capacity the actor holds; approved once every required capacity has approved."""
    now = _naive(now)
    name = _actor_name(actor_name)
    expires_at = approval_expiry(engine, now, validity=validity)
    with session_scope(engine) as session:
        review = _load_review(session, review_id)
        decisions = _decisions(session, [review.id])[review.id]
        ctx = _system_context(session, review.system_id)
        who = _scoped_actor(session, name, ctx)
        _decidable(review, decisions, now)
        if who.name == review.submitted_by:
            raise PermissionDenied(f"{who.name} submitted review {review.id} and cannot approve it; "
                                   f"it needs {_who_may(engine, ctx, ARCHITECT)}")
        approved = {d.capacity: d.actor for d in decisions if d.decision == "approve"}
        if who.name in approved.values():
            cap = next(c for c, a in approved.items() if a == who.name)
            raise PermissionDenied(f"{who.name} already approved review {review.id} as {cap}; the other "
                                   "approval must come from another person")
        open_caps = [c for c in review.needs if c not in approved]
        capacity = next((c for c in open_caps if _eligible(who, ctx, c)), None)
        if capacity is None:
            raise PermissionDenied(_refusal(engine, who, review, ctx, open_caps))
        before = _review_dict(review, decisions, now)
        decision = ReviewDecision(review_id=review.id, actor=who.name, capacity=capacity, decision="approve",
                                  comment=comment.strip(), at=now)
        session.add(decision)
        decisions.append(decision)
        if set(review.needs) <= {d.capacity for d in decisions if d.decision == "approve"}:
            review.state, review.decided_at, review.expires_at = "approved", now, expires_at
        after = _review_dict(review, decisions, now)
        _audit(session, now=now, actor=who.name, action="review.approved", entity=f"review:{review.id}",
               system_id=review.system_id, rule_id=review.rule_id, before=before, after=after)
    return after


def _refusal(engine: Engine, who: Actor, review: Review, ctx: _SystemContext, open_caps: list[str]) -> str:
    needs = " and ".join(_who_may(engine, ctx, c) for c in open_caps)
    if ARCHITECT not in review.needs:
        return f"{who.name} may not decide review {review.id}: it needs {needs}; {_describe(engine, who.name)}"
    if who.readiness_team and ARCHITECT in open_caps and READINESS_TEAM not in review.needs:
        return (f"{who.name} is in the readiness team, but review {review.id} is for a {ctx.tier}-tier system, "
                f"which needs {needs} (the readiness team approves critical systems only)")
    if who.architect_of(ctx.domain) and ARCHITECT not in open_caps:
        return f"review {review.id} already has its architect approval; it now needs {needs}"
    return f"{who.name} is not {needs}: {_describe(engine, who.name)}"


def reject_review(engine: Engine, review_id: int, *, actor_name: str, comment: str,
                  now: datetime | None = None) -> dict:
    """Reject with a comment saying what to fix; the owner answers again to start over."""
    now = _naive(now)
    if len((comment or "").strip()) < MIN_COMMENT:
        raise InputError(f"--comment: say why the review is rejected (at least {MIN_COMMENT} characters)")
    name = _actor_name(actor_name)
    with session_scope(engine) as session:
        review = _load_review(session, review_id)
        decisions = _decisions(session, [review.id])[review.id]
        ctx = _system_context(session, review.system_id)
        who = _scoped_actor(session, name, ctx)
        _decidable(review, decisions, now)
        if who.name == review.submitted_by:
            raise PermissionDenied(f"{who.name} submitted review {review.id} and cannot decide it; "
                                   f"it needs {_who_may(engine, ctx, ARCHITECT)}")
        approved_by = {d.actor for d in decisions if d.decision == "approve"}
        if who.name in approved_by:
            raise PermissionDenied(f"{who.name} already approved review {review.id}; another approver must reject it")
        capacity = next((c for c in review.needs if _eligible(who, ctx, c)), None)
        if capacity is None:
            raise PermissionDenied(_refusal(engine, who, review, ctx, list(review.needs)))
        before = _review_dict(review, decisions, now)
        decision = ReviewDecision(review_id=review.id, actor=who.name, capacity=capacity, decision="reject",
                                  comment=comment.strip(), at=now)
        session.add(decision)
        decisions.append(decision)
        review.state, review.decided_at = "rejected", now
        after = _review_dict(review, decisions, now)
        _audit(session, now=now, actor=who.name, action="review.rejected", entity=f"review:{review.id}",
               system_id=review.system_id, rule_id=review.rule_id, before=before, after=after)
    return after


def get_review(engine: Engine, review_id: int, *, now: datetime | None = None) -> dict:
    with session_scope(engine) as session:
        review = session.get(Review, review_id)
        if review is None:
            raise NotFound(f"unknown review {review_id}: see `readiness review list`")
        return _review_dict(review, _decisions(session, [review_id])[review_id], _naive(now))


def list_reviews(engine: Engine, *, system_id: str | None = None, rule_id: str | None = None,
                 state: str | None = None, now: datetime | None = None) -> list[dict]:
    """Reviews, newest first, with their state at ``now``."""
    if state is not None and state not in REVIEW_STATES:
        raise InputError(f"--state {state!r}: accepted: {', '.join(REVIEW_STATES)}")
    now = _naive(now)
    with session_scope(engine) as session:
        query = select(Review)
        if system_id:
            query = query.where(Review.system_id == system_id)
        if rule_id:
            query = query.where(Review.rule_id == rule_id)
        reviews = list(session.exec(query.order_by(Review.id.desc())).scalars())
        decisions = _decisions(session, [r.id for r in reviews])
        rows = [_review_dict(r, decisions[r.id], now) for r in reviews]
    return [r for r in rows if state is None or r["state"] == state]


def attestation_facts(engine: Engine, now: datetime) -> dict[str, dict[str, dict]]:
    """Per active system, the latest review of each team-managed check as of ``now``,
    in the shape ``rulekit.attestation_outcome`` reads."""
    now = _naive(now)
    with session_scope(engine) as session:
        systems = session.exec(select(System.system_id).where(System.retired == False)).scalars().all()  # noqa: E712
        out: dict[str, dict[str, dict]] = {sid: {} for sid in systems}
        latest: dict[tuple[str, str], Review] = {}
        query = select(Review).where(Review.submitted_at <= now).order_by(Review.submitted_at, Review.id)
        for review in session.exec(query).scalars():
            latest[(review.system_id, review.rule_id)] = review
        decisions = _decisions(session, [r.id for r in latest.values()])
    for (system_id, rule_id), review in sorted(latest.items()):
        if system_id not in out:
            continue
        live = _state_at(review, decisions[review.id], now)
        approvers = [d.actor for d in live.approvals]
        out[system_id][rule_id] = {
            "state": live.state, "review_id": review.id, "submitted_by": review.submitted_by,
            "submitted_at": _iso(review.submitted_at), "needs": list(review.needs),
            "approvals": [{"by": d.actor, "as": d.capacity, "at": _iso(d.at)} for d in live.approvals],
            "decided_by": live.rejection.actor if live.rejection else (", ".join(approvers) or None),
            "decided_at": _iso(live.rejection.at if live.rejection else
                               (max(d.at for d in live.approvals) if live.state in ("approved", "expired")
                                else None)),
            "expires_at": _iso(review.expires_at) if live.state in ("approved", "expired") else None,
            "comment": live.rejection.comment if live.rejection else "; ".join(
                d.comment for d in live.approvals if d.comment),
            "answers": dict(review.answers), "evidence": list(review.evidence),
        }
    return out


@dataclass
class AttestationSource:
    """The ``attestations`` fact source: review states kept in our own tables, as of ``now``."""

    now: datetime
    name: str = ATTESTATIONS
    freshness: timedelta = timedelta(days=366)

    def collect(self, engine: Engine) -> CollectedFacts:
        expire_due(engine, self.now)
        return CollectedFacts(source=self.name, by_system=attestation_facts(engine, self.now),
                              origin="readiness_review")


# ---------------------------------------------------------------- waivers


def _waiver_state(waiver: Waiver, now: datetime) -> str:
    if waiver.state in ("requested", "approved") and waiver.expires_at <= now:
        return "expired"
    return waiver.state


def _waiver_dict(waiver: Waiver, now: datetime | None = None) -> dict:
    return {
        "id": waiver.id, "system_id": waiver.system_id, "rule_id": waiver.rule_id,
        "state": _waiver_state(waiver, now or datetime.min), "reason": waiver.reason,
        "expires": (waiver.expires_at - timedelta(days=1)).date().isoformat(),
        "expires_at": _iso(waiver.expires_at),
        "requested_by": waiver.requested_by, "requested_at": _iso(waiver.requested_at),
        "approved_by": waiver.approved_by, "approved_at": _iso(waiver.approved_at),
        "approval_comment": waiver.approval_comment,
        "revoked_by": waiver.revoked_by, "revoked_at": _iso(waiver.revoked_at),
        "revoke_reason": waiver.revoke_reason, "expired_at": _iso(waiver.expired_at),
    }


def _load_waiver(session, waiver_id: int) -> Waiver:
    waiver = session.exec(select(Waiver).where(Waiver.id == waiver_id).with_for_update()).scalar_one_or_none()
    if waiver is None:
        raise NotFound(f"unknown waiver {waiver_id}: see `readiness waiver list`")
    return waiver


def _check_waivable(meta: RuleMeta) -> None:
    if not meta.waivable:
        kind = "a blocker" if meta.blocker else "marked not waivable"
        raise InputError(f"rule {meta.id} is {kind} and cannot be waived: fix the finding instead "
                         f"({meta.remediation})")


def request_waiver(engine: Engine, system_id: str, rule_id: str, *, actor_name: str, reason: str,
                   expires: date, ruleset: RuleSet | None = None, now: datetime | None = None) -> dict:
    """Ask for an exception for one rule on one system, valid through ``expires`` (inclusive)."""
    now = _naive(now)
    ruleset = ruleset if ruleset is not None else load_rules()
    meta = _rule(ruleset, rule_id)
    _check_waivable(meta)
    problems = []
    if len((reason or "").strip()) < MIN_REASON:
        problems.append(f"--reason: explain why the rule cannot be met in time (at least {MIN_REASON} characters)")
    if expires < now.date():
        problems.append(f"--expires {expires.isoformat()}: in the past (accepted: {now.date().isoformat()} or later)")
    elif expires > (now + MAX_WAIVER).date():
        problems.append(f"--expires {expires.isoformat()}: more than {MAX_WAIVER.days} days ahead "
                        f"(accepted: up to {(now + MAX_WAIVER).date().isoformat()})")
    if problems:
        raise InputError(problems, origin=f"waiver for {system_id}/{rule_id}")
    name = _actor_name(actor_name)
    with session_scope(engine) as session:
        ctx = _system_context(session, system_id)
        who = _scoped_actor(session, name, ctx)
        if ctx.retired:
            raise InputError(f"system {system_id} is retired; nothing to waive")
        if not (who.owns(ctx.team) or who.architect_of(ctx.domain) or who.readiness_team or who.admin):
            raise PermissionDenied(f"{who.name} cannot request a waiver for {system_id}: owners (team {ctx.team}), "
                                   f"architects of {ctx.domain}, the readiness team or an admin can; "
                                   f"{_describe(engine, who.name)}")
        open_ones = [w for w in session.exec(select(Waiver).where(
            Waiver.system_id == system_id, Waiver.rule_id == rule_id,
            Waiver.state.in_(("requested", "approved")))).scalars() if w.expires_at > now]
        if open_ones:
            other = open_ones[0]
            raise InputError(f"waiver {other.id} ({other.state}, through "
                             f"{_waiver_dict(other)['expires']}) already covers {system_id}/{rule_id}; "
                             "revoke it first")
        waiver = Waiver(system_id=system_id, rule_id=rule_id, reason=reason.strip(),
                        expires_at=datetime.combine(expires + timedelta(days=1), time()),
                        requested_by=who.name, requested_at=now, state="requested")
        session.add(waiver)
        session.flush()
        after = _waiver_dict(waiver, now)
        _audit(session, now=now, actor=who.name, action="waiver.requested", entity=f"waiver:{waiver.id}",
               system_id=system_id, rule_id=rule_id, after=after)
    return after


def approve_waiver(engine: Engine, waiver_id: int, *, actor_name: str, comment: str = "",
                   ruleset: RuleSet | None = None, now: datetime | None = None) -> dict:
    """A domain architect of the system's domain (or an admin), never the requester, approves."""
    now = _naive(now)
    name = _actor_name(actor_name)
    with session_scope(engine) as session:
        waiver = _load_waiver(session, waiver_id)
        ctx = _system_context(session, waiver.system_id)
        who = _scoped_actor(session, name, ctx)
        state = _waiver_state(waiver, now)
        if state != "requested":
            raise InputError(f"waiver {waiver.id} is {state}; only requested waivers can be approved")
        if who.name == waiver.requested_by:
            raise PermissionDenied(f"{who.name} requested waiver {waiver.id} and cannot approve it; "
                                   f"a domain architect of {ctx.domain} must ({_names(ctx.architects)})")
        if not (who.architect_of(ctx.domain) or who.admin):
            raise PermissionDenied(f"{who.name} is not a domain architect of {ctx.domain} "
                                   f"({_names(ctx.architects)}); {_describe(engine, who.name)}")
        rules = (ruleset if ruleset is not None else load_rules()).by_id()
        if waiver.rule_id in rules:
            _check_waivable(rules[waiver.rule_id].meta)
        before = _waiver_dict(waiver, now)
        waiver.state, waiver.approved_by, waiver.approved_at = "approved", who.name, now
        waiver.approval_comment = comment.strip()
        after = _waiver_dict(waiver, now)
        _audit(session, now=now, actor=who.name, action="waiver.approved", entity=f"waiver:{waiver.id}",
               system_id=waiver.system_id, rule_id=waiver.rule_id, before=before, after=after)
    return after


def revoke_waiver(engine: Engine, waiver_id: int, *, actor_name: str, reason: str,
                  now: datetime | None = None) -> dict:
    """End a waiver early (architects of the domain, the readiness team, admins), or withdraw
    one's own request before it is approved. The rule counts again at the next evaluation."""
    now = _naive(now)
    if len((reason or "").strip()) < MIN_REASON:
        raise InputError(f"--reason: say why the waiver is revoked (at least {MIN_REASON} characters)")
    name = _actor_name(actor_name)
    with session_scope(engine) as session:
        waiver = _load_waiver(session, waiver_id)
        ctx = _system_context(session, waiver.system_id)
        who = _scoped_actor(session, name, ctx)
        state = _waiver_state(waiver, now)
        if state not in ("requested", "approved"):
            raise InputError(f"waiver {waiver.id} is already {state}")
        withdrawing = state == "requested" and who.name == waiver.requested_by
        if not (withdrawing or who.architect_of(ctx.domain) or who.readiness_team or who.admin):
            raise PermissionDenied(f"{who.name} cannot revoke waiver {waiver.id}: architects of {ctx.domain} "
                                   f"({_names(ctx.architects)}), the readiness team or an admin can"
                                   f"{' (or its requester before approval)' if state == 'requested' else ''}; "
                                   f"{_describe(engine, who.name)}")
        before = _waiver_dict(waiver, now)
        waiver.state, waiver.revoked_by, waiver.revoked_at = "revoked", who.name, now
        waiver.revoke_reason = reason.strip()
        after = _waiver_dict(waiver, now)
        _audit(session, now=now, actor=who.name, action="waiver.revoked", entity=f"waiver:{waiver.id}",
               system_id=waiver.system_id, rule_id=waiver.rule_id, before=before, after=after)
    return after


def list_waivers(engine: Engine, *, system_id: str | None = None, state: str | None = None,
                 now: datetime | None = None) -> list[dict]:
    """Waivers, newest first, with their state at ``now``."""
    if state is not None and state not in WAIVER_STATES:
        raise InputError(f"--state {state!r}: accepted: {', '.join(WAIVER_STATES)}")
    now = _naive(now)
    with session_scope(engine) as session:
        query = select(Waiver)
        if system_id:
            query = query.where(Waiver.system_id == system_id)
        rows = [_waiver_dict(w, now) for w in session.exec(query.order_by(Waiver.id.desc())).scalars()]
    return [r for r in rows if state is None or r["state"] == state]


def active_waivers(engine: Engine, now: datetime) -> dict[tuple[str, str], dict]:
    """Waivers in force at ``now``: approved by then, not revoked by then, not yet expired."""
    now = _naive(now)
    active: dict[tuple[str, str], dict] = {}
    with session_scope(engine) as session:
        query = select(Waiver).where(Waiver.approved_at.is_not(None), Waiver.approved_at <= now,
                                     Waiver.expires_at > now).order_by(Waiver.expires_at)
        for waiver in session.exec(query).scalars():
            if waiver.revoked_at is not None and waiver.revoked_at <= now:
                continue
            active[(waiver.system_id, waiver.rule_id)] = _waiver_dict(waiver, now)
    return active


@dataclass
class WaiverOverlay:
    """Turns a fail, no-data or expired result into ``waived`` where a waiver is in force."""

    active: dict[tuple[str, str], dict]

    def apply(self, system: SystemView, meta: RuleMeta, outcome: Outcome) -> tuple[Outcome, str] | None:
        waiver = self.active.get((system.system_id, meta.id))
        if waiver is None or not meta.waivable or outcome.status not in WAIVABLE_STATUSES:
            return None
        message = (f"waived through {waiver['expires']} (waiver {waiver['id']}, approved by "
                   f"{waiver['approved_by']}): {waiver['reason']} [underlying: {outcome.status.value}: "
                   f"{outcome.message}]")
        evidence = ({"waiver_id": waiver["id"], "approved_by": waiver["approved_by"],
                     "expires": waiver["expires"], "reason": waiver["reason"]},) + tuple(outcome.evidence)
        return Outcome(Status.WAIVED, 1.0, message, evidence), "waiver"


# ---------------------------------------------------------------- expiry, audit, hooks


@dataclass
class ExpiryReport:
    reviews: list[int]
    waivers: list[int]


def expire_due(engine: Engine, now: datetime | None = None) -> ExpiryReport:
    """Record approvals and waivers whose expiry has passed at ``now`` (once each, audited)."""
    now = _naive(now)
    expired_reviews, expired_waivers = [], []
    with session_scope(engine) as session:
        reviews = session.exec(select(Review).where(
            Review.state == "approved", Review.expires_at.is_not(None), Review.expires_at <= now)
            .with_for_update()).scalars().all()
        decisions = _decisions(session, [r.id for r in reviews])
        for review in reviews:
            before = _review_dict(review, decisions[review.id], review.expires_at - timedelta(seconds=1))
            review.state, review.closed_at = "expired", now
            review.closed_reason = f"approval expired at {_iso(review.expires_at)}"
            _audit(session, now=now, actor=EXPIRY_ACTOR, action="review.expired", entity=f"review:{review.id}",
                   system_id=review.system_id, rule_id=review.rule_id, before=before,
                   after=_review_dict(review, decisions[review.id], now))
            expired_reviews.append(review.id)
        waivers = session.exec(select(Waiver).where(
            Waiver.state.in_(("requested", "approved")), Waiver.expires_at <= now)
            .with_for_update()).scalars().all()
        for waiver in waivers:
            before = _waiver_dict(waiver, waiver.expires_at - timedelta(seconds=1))
            waiver.state, waiver.expired_at = "expired", now
            _audit(session, now=now, actor=EXPIRY_ACTOR, action="waiver.expired", entity=f"waiver:{waiver.id}",
                   system_id=waiver.system_id, rule_id=waiver.rule_id, before=before,
                   after=_waiver_dict(waiver, now))
            expired_waivers.append(waiver.id)
    return ExpiryReport(expired_reviews, expired_waivers)


def audit_log(engine: Engine, *, system_id: str | None = None, entity: str | None = None,
              action: str | None = None, limit: int | None = None) -> list[dict]:
    """The audit log, oldest first (the last ``limit`` entries when given)."""
    with session_scope(engine) as session:
        query = select(AuditEntry)
        if system_id:
            query = query.where(AuditEntry.system_id == system_id)
        if entity:
            query = query.where(AuditEntry.entity == entity)
        if action:
            query = query.where(AuditEntry.action == action)
        query = query.order_by(AuditEntry.id.desc())
        if limit:
            query = query.limit(limit)
        entries = list(session.exec(query).scalars())
    return [{"id": e.id, "at": _iso(e.at), "actor": e.actor, "action": e.action, "entity": e.entity,
             "system_id": e.system_id, "rule_id": e.rule_id, "before": e.before, "after": e.after}
            for e in reversed(entries)]


def overlays_for(engine: Engine, now: datetime) -> list:
    """Overlays applied after evaluation: the waivers in force at ``now``."""
    expire_due(engine, now)
    return [WaiverOverlay(active_waivers(engine, now))]


def sources_for(engine: Engine, now: datetime) -> list:
    """Fact sources kept in our own tables: the review states of team-managed checks."""
    return [AttestationSource(_naive(now))]


# ---------------------------------------------------------------- demo


DEMO_ANSWERS = ("Yes: written down and reviewed with the team on {day}; see the linked page.",
                "Owned by {owner}; rehearsed in the last game day, gaps tracked in the backlog.",
                "Confirmed with the dependencies' owners; numbers taken from the latest Kapacity forecast.",
                "Tested in staging at forecast peak; results and follow-ups are on the linked page.")


def seed_demo_governance(engine: Engine, now: datetime | None = None, *, ruleset: RuleSet | None = None) -> dict:
    """Put realistic reviews (pending, approved, rejected, expired) and waivers (in force,
    requested, expired, revoked) on the demo organisation, through the same role-checked
    functions as the CLI, with times in the past weeks. Does nothing when any review or
    waiver exists, so running the demo twice gives the same state."""
    import random

    from readiness.catalog import active_systems
    from readiness.models import RuleResult
    from readiness.reports import latest_run_id

    now = _naive(now)
    with session_scope(engine) as session:
        if session.exec(select(Review.id).limit(1)).first() or session.exec(select(Waiver.id).limit(1)).first():
            return {"skipped": True, "reviews": 0, "waivers": 0}
        teams = {t.key: t for t in session.exec(select(Team)).scalars()}
        domains = {d.key: d for d in session.exec(select(Domain)).scalars()}
    ruleset = ruleset if ruleset is not None else load_rules()
    checks = [r.meta for r in ruleset.rules if r.meta.kind == "team-managed"]
    readiness_team = central_role_members(engine, READINESS_TEAM)
    rng = random.Random("demo-governance")
    systems = [s for s in active_systems(engine)
               if (teams[s.team].leads or teams[s.team].members) and domains[s.domain].architects]
    events: list[tuple[datetime, int, object]] = []  # (when, order, action)

    def at(days: float, hours: int = 0) -> datetime:
        return now - timedelta(days=days, hours=hours)

    def add(when: datetime, action) -> None:
        events.append((when, len(events), action))

    reviews: dict[int, dict] = {}
    planned = 0
    for index, system in enumerate(sorted(systems, key=lambda s: (TIER_ORDER[s.tier], s.system_id))[:40]):
        team, domain = teams[system.team], domains[system.domain]
        owner = (team.leads or team.members)[0]
        architect = domain.architects[index % len(domain.architects)]
        for meta in checks:
            if meta.applies_to.reason_not_applicable(system) or rng.random() < 0.45:
                continue
            key, planned = planned, planned + 1
            fate = rng.choices(["approved", "pending", "rejected", "expired"], [0.55, 0.25, 0.15, 0.05])[0]
            start = at(200 if fate == "expired" else rng.randint(6, 20), rng.randint(0, 8))
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
    waivers = _seed_waivers(engine, systems, teams, domains, ruleset, latest_run_id(engine), RuleResult, at, add, rng)
    for _when, _order, action in sorted(events, key=lambda e: (e[0], e[1])):
        action()
    return {"skipped": False, "reviews": planned, "waivers": waivers}


TIER_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}
DEMO_WAIVER_REASON = ("The fix needs a platform migration scheduled after the code freeze; the risk is covered "
                      "by manual monitoring during peak.")


def _seed_waivers(engine, systems, teams, domains, ruleset, run_id, result_model, at, add, rng) -> int:
    """Waivers on automated rules that fail in the latest run: in force, requested, expired, revoked."""
    by_id = {s.system_id: s for s in systems}
    waivable = {r.meta.id for r in ruleset.rules if r.meta.kind == "automated" and r.meta.waivable}
    candidates: list[tuple[str, str]] = []
    if run_id is not None:
        with session_scope(engine) as session:
            rows = session.execute(select(result_model.system_id, result_model.rule_id).where(
                result_model.run_id == run_id, result_model.status == "fail")
                .order_by(result_model.system_id, result_model.rule_id)).all()
        candidates = [(s, r) for s, r in rows if s in by_id and r in waivable]
    if not candidates:
        candidates = [(s.system_id, r) for s in systems for r in sorted(waivable)][:50]
    rng.shuffle(candidates)
    fates = ["approved", "approved", "approved", "approved", "requested", "requested", "expired", "revoked"]
    chosen, used = [], set()
    for system_id, rule_id in candidates:
        if system_id not in used:
            chosen.append((system_id, rule_id))
            used.add(system_id)
        if len(chosen) == len(fates):
            break
    for (system_id, rule_id), fate in zip(chosen, fates, strict=False):
        system = by_id[system_id]
        team, domain = teams[system.team], domains[system.domain]
        owner, architect = (team.leads or team.members)[0], domain.architects[0]
        asked = at(40 if fate == "expired" else rng.randint(3, 12))
        expires = (at(3) if fate == "expired" else at(-rng.randint(20, 60))).date()
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
