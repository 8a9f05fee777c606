"""Reviews of team-managed checks: the owner answers, architects (and, for critical systems,
the readiness team) approve or reject; an approval lasts until it expires.

Every write checks the actor's role before it writes anything and appends to the
audit log in the same transaction; a refusal raises ``PermissionDenied`` (or
``InputError`` for bad input) naming why and who could do it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from governance.audit import record_audit
from governance.checks import rule_meta, ruleset_or_default, team_managed_ids
from governance.messages import announce_review
from governance.models import Review, ReviewDecision
from governance.roles import (
    ARCHITECT,
    READINESS_TEAM,
    Actor,
    acting_user,
    central_role_members,
    describe,
    names,
    row_context,
    scoped_actor,
    system_context,
)
from governance.times import iso, naive
from readiness import (
    InputError,
    NotFound,
    PermissionDenied,
    RuleMeta,
    RuleSet,
    SystemPeople,
    current_peak_event,
)
from storage import session_scope

APPROVAL_VALIDITY = timedelta(days=180)  # an approval lasts this long at most, or to the end of the peak event
MIN_COMMENT = 3  # characters in a rejection comment
REVIEW_STATES = ("pending", "approved", "rejected", "expired", "superseded")


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
class ReviewState:
    state: str
    approvals: list[ReviewDecision] = field(default_factory=list)
    rejection: ReviewDecision | None = None


def state_at(review: Review, decisions: list[ReviewDecision], now: datetime) -> ReviewState:
    """Where a review stands at ``now`` from its decisions (superseded is decided by the caller)."""
    seen = [d for d in decisions if d.at <= now]
    rejection = next((d for d in seen if d.decision == "reject"), None)
    approvals = [d for d in seen if d.decision == "approve"]
    if rejection is not None:
        return ReviewState("rejected", approvals, rejection)
    if set(review.needs) <= {d.capacity for d in approvals}:
        if review.expires_at is not None and now >= review.expires_at:
            return ReviewState("expired", approvals)
        return ReviewState("approved", approvals)
    return ReviewState("pending", approvals)


def review_dict(review: Review, decisions: list[ReviewDecision], now: datetime | None = None) -> dict:
    if review.state in ("superseded", "rejected") or (review.state == "expired" and review.closed_at):
        state = review.state
        live = state_at(review, decisions, datetime.max)
    else:
        live = state_at(review, decisions, now or datetime.max)
        state = live.state
    return {
        "id": review.id, "system_id": review.system_id, "rule_id": review.rule_id,
        "rule_version": review.rule_version, "state": state, "needs": list(review.needs),
        "submitted_by": review.submitted_by, "submitted_at": iso(review.submitted_at),
        "answers": dict(review.answers), "evidence": list(review.evidence),
        "approvals": [{"by": d.actor, "as": d.capacity, "at": iso(d.at), "comment": d.comment}
                      for d in live.approvals],
        "rejected_by": live.rejection.actor if live.rejection else None,
        "comment": live.rejection.comment if live.rejection else "; ".join(
            d.comment for d in live.approvals if d.comment),
        "decided_at": iso(review.decided_at), "expires_at": iso(review.expires_at),
        "closed_reason": review.closed_reason,
    }


def decisions_of(session, review_ids: Iterable[int]) -> dict[int, list[ReviewDecision]]:
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
    now = naive(now)
    ruleset = ruleset_or_default(ruleset)
    meta = rule_meta(ruleset, rule_id)
    if meta.kind != "team-managed":
        raise InputError(f"rule {rule_id!r} is automated: its result comes from facts, not answers "
                         f"(team-managed rules: {', '.join(team_managed_ids(ruleset)) or 'none loaded'})")
    resolved = _resolve_answers(meta, answers)
    items = _evidence_items(evidence)
    who, ctx = _owner(engine, acting_user(actor_name), system_id)
    digest = _answers_hash(resolved, items)
    with session_scope(engine) as session:
        review = Review(system_id=system_id, rule_id=rule_id, rule_version=meta.version, answers=resolved,
                        evidence=items, answers_hash=digest, submitted_by=who.name, submitted_at=now,
                        needs=[ARCHITECT] + ([READINESS_TEAM] if ctx.tier == "critical" else []),
                        state="pending")
        session.add(review)
        session.flush()
        _close_previous(session, review, who, now)
        after = review_dict(review, [], now)
        record_audit(session, now=now, actor=who.name, action="review.submitted", entity=f"review:{review.id}",
                     system_id=system_id, rule_id=rule_id, before=None, after=after)
    return after


def _owner(engine: Engine, name: str, system_id: str) -> tuple[Actor, SystemPeople]:
    """The submitter, if they may answer for the system: its owners or an admin."""
    ctx = system_context(engine, system_id)
    who = scoped_actor(engine, name, ctx)
    if ctx.retired:
        raise InputError(f"system {system_id} is retired; nothing to review")
    if not (who.owns(ctx.team) or who.admin):
        raise PermissionDenied(f"{who.name} cannot submit answers for {system_id}: only its owners "
                               f"(members and leads of team {ctx.team}) or an admin can; {describe(engine, who.name)}")
    return who, ctx


def _close_previous(session, review: Review, who: Actor, now: datetime) -> None:
    """A pending review before this one is superseded; an approval with other answers expires."""
    previous = session.exec(select(Review).where(
        Review.system_id == review.system_id, Review.rule_id == review.rule_id, Review.id != review.id,
        Review.state.in_(("pending", "approved"))).with_for_update()).scalars().all()
    old_decisions = decisions_of(session, [p.id for p in previous])
    for old in previous:
        before = review_dict(old, old_decisions[old.id], now)
        if old.state == "approved" and old.answers_hash != review.answers_hash:
            old.state, action = "expired", "review.expired"
            old.closed_reason = f"answers changed by review {review.id}"
        else:
            old.state, action = "superseded", "review.superseded"
            old.closed_reason = f"replaced by review {review.id}"
        old.closed_at = now
        record_audit(session, now=now, actor=who.name, action=action, entity=f"review:{old.id}",
                     system_id=review.system_id, rule_id=review.rule_id, before=before,
                     after=review_dict(old, old_decisions[old.id], now))


def _load_review(session, review_id: int) -> Review:
    review = session.exec(select(Review).where(Review.id == review_id).with_for_update()).scalar_one_or_none()
    if review is None:
        raise NotFound(_unknown_review(review_id))
    return review


def _unknown_review(review_id: int) -> str:
    return f"unknown review {review_id}: see `readiness review list`"


def _decidable(review: Review, decisions: list[ReviewDecision], now: datetime) -> None:
    state = review.state if review.state != "pending" else state_at(review, decisions, now).state
    if state != "pending":
        raise InputError(f"review {review.id} is {state}; only pending reviews can be approved or rejected"
                         + (" (the owner submits again to start a new review)" if state != "approved" else ""))


def _eligible(who: Actor, ctx: SystemPeople, capacity: str) -> bool:
    if who.admin:
        return True
    return who.architect_of(ctx.domain) if capacity == ARCHITECT else who.readiness_team


def _who_may(engine: Engine, ctx: SystemPeople, capacity: str) -> str:
    if capacity == ARCHITECT:
        return f"a domain architect of {ctx.domain} ({names(ctx.architects)})"
    return f"the central readiness team ({names(central_role_members(engine, READINESS_TEAM))})"


@contextmanager
def _deciding(engine: Engine, review_id: int, actor_name: str, now: datetime, *, verb: str):
    """Open a decision on a review: the actor in the system's context, the review and its
    decisions in one transaction; refused when it is not decidable or the actor submitted it."""
    who_name = acting_user(actor_name)
    ctx = row_context(engine, Review, review_id, _unknown_review(review_id))
    who = scoped_actor(engine, who_name, ctx)
    with session_scope(engine) as session:
        review = _load_review(session, review_id)
        decisions = decisions_of(session, [review.id])[review.id]
        _decidable(review, decisions, now)
        if who.name == review.submitted_by:
            raise PermissionDenied(f"{who.name} submitted review {review.id} and cannot {verb} it; "
                                   f"it needs {_who_may(engine, ctx, ARCHITECT)}")
        yield session, who, ctx, review, decisions


def approve_review(engine: Engine, review_id: int, *, actor_name: str, comment: str = "",
                   now: datetime | None = None, validity: timedelta = APPROVAL_VALIDITY) -> dict:
    """Approve in the capacity the actor holds; approved once every required capacity has approved."""
    now = naive(now)
    expires_at = approval_expiry(engine, now, validity=validity)
    with _deciding(engine, review_id, actor_name, now, verb="approve") as (session, who, ctx, review, decisions):
        approved = {d.capacity: d.actor for d in decisions if d.decision == "approve"}
        if who.name in approved.values():
            cap = next(c for c, a in approved.items() if a == who.name)
            raise PermissionDenied(f"{who.name} already approved review {review.id} as {cap}; the other "
                                   "approval must come from another person")
        open_caps = [c for c in review.needs if c not in approved]
        capacity = next((c for c in open_caps if _eligible(who, ctx, c)), None)
        if capacity is None:
            raise PermissionDenied(_refusal(engine, who, review, ctx, open_caps))
        before = review_dict(review, decisions, now)
        decision = ReviewDecision(review_id=review.id, actor=who.name, capacity=capacity, decision="approve",
                                  comment=comment.strip(), at=now)
        session.add(decision)
        decisions.append(decision)
        if set(review.needs) <= {d.capacity for d in decisions if d.decision == "approve"}:
            review.state, review.decided_at, review.expires_at = "approved", now, expires_at
        after = review_dict(review, decisions, now)
        record_audit(session, now=now, actor=who.name, action="review.approved", entity=f"review:{review.id}",
                     system_id=review.system_id, rule_id=review.rule_id, before=before, after=after)
    announce_review(engine, after)  # committed: the team hears of it when it is approved
    return after


def _refusal(engine: Engine, who: Actor, review: Review, ctx: SystemPeople, open_caps: list[str]) -> str:
    needs = " and ".join(_who_may(engine, ctx, c) for c in open_caps)
    if ARCHITECT not in review.needs:
        return f"{who.name} may not decide review {review.id}: it needs {needs}; {describe(engine, who.name)}"
    if who.readiness_team and ARCHITECT in open_caps and READINESS_TEAM not in review.needs:
        return (f"{who.name} is in the readiness team, but review {review.id} is for a {ctx.tier}-tier system, "
                f"which needs {needs} (the readiness team approves critical systems only)")
    if who.architect_of(ctx.domain) and ARCHITECT not in open_caps:
        return f"review {review.id} already has its architect approval; it now needs {needs}"
    return f"{who.name} is not {needs}: {describe(engine, who.name)}"


def reject_review(engine: Engine, review_id: int, *, actor_name: str, comment: str,
                  now: datetime | None = None) -> dict:
    """Reject with a comment saying what to fix; the owner answers again to start over."""
    now = naive(now)
    if len((comment or "").strip()) < MIN_COMMENT:
        raise InputError(f"--comment: say why the review is rejected (at least {MIN_COMMENT} characters)")
    with _deciding(engine, review_id, actor_name, now, verb="decide") as (session, who, ctx, review, decisions):
        approved_by = {d.actor for d in decisions if d.decision == "approve"}
        if who.name in approved_by:
            raise PermissionDenied(f"{who.name} already approved review {review.id}; another approver must reject it")
        capacity = next((c for c in review.needs if _eligible(who, ctx, c)), None)
        if capacity is None:
            raise PermissionDenied(_refusal(engine, who, review, ctx, list(review.needs)))
        before = review_dict(review, decisions, now)
        decision = ReviewDecision(review_id=review.id, actor=who.name, capacity=capacity, decision="reject",
                                  comment=comment.strip(), at=now)
        session.add(decision)
        decisions.append(decision)
        review.state, review.decided_at = "rejected", now
        after = review_dict(review, decisions, now)
        record_audit(session, now=now, actor=who.name, action="review.rejected", entity=f"review:{review.id}",
                     system_id=review.system_id, rule_id=review.rule_id, before=before, after=after)
    announce_review(engine, after)
    return after


def get_review(engine: Engine, review_id: int, *, now: datetime | None = None) -> dict:
    with session_scope(engine) as session:
        review = session.get(Review, review_id)
        if review is None:
            raise NotFound(_unknown_review(review_id))
        return review_dict(review, decisions_of(session, [review_id])[review_id], naive(now))


def list_reviews(engine: Engine, *, system_id: str | None = None, rule_id: str | None = None,
                 state: str | None = None, now: datetime | None = None) -> list[dict]:
    """Reviews, newest first, with their state at ``now``."""
    if state is not None and state not in REVIEW_STATES:
        raise InputError(f"--state {state!r}: accepted: {', '.join(REVIEW_STATES)}")
    now = naive(now)
    with session_scope(engine) as session:
        query = select(Review)
        if system_id:
            query = query.where(Review.system_id == system_id)
        if rule_id:
            query = query.where(Review.rule_id == rule_id)
        reviews = list(session.exec(query.order_by(Review.id.desc())).scalars())
        decisions = decisions_of(session, [r.id for r in reviews])
        rows = [review_dict(r, decisions[r.id], now) for r in reviews]
    return [r for r in rows if state is None or r["state"] == state]
