"""Waivers: a documented, approved exception for one rule on one system until a date.

Owners, architects, the readiness team or an admin request one; a domain architect of
the system's domain (or an admin), never the requester, approves it; architects, the
readiness team or an admin revoke it (the requester may withdraw it before approval).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from governance.audit import record_audit
from governance.checks import rule_meta, ruleset_or_default
from governance.messages import announce_waiver
from governance.models import Waiver
from governance.roles import acting_user, describe, names, row_context, scoped_actor, system_context
from governance.times import iso, naive
from readiness import InputError, NotFound, PermissionDenied, RuleMeta, RuleSet
from storage import session_scope

MAX_WAIVER = timedelta(days=366)
MIN_REASON = 10  # characters in a waiver reason or revocation
WAIVER_STATES = ("requested", "approved", "revoked", "expired")


def waiver_state(waiver: Waiver, now: datetime) -> str:
    if waiver.state in ("requested", "approved") and waiver.expires_at <= now:
        return "expired"
    return waiver.state


def waiver_dict(waiver: Waiver, now: datetime | None = None) -> dict:
    return {
        "id": waiver.id, "system_id": waiver.system_id, "rule_id": waiver.rule_id,
        "state": waiver_state(waiver, now or datetime.min), "reason": waiver.reason,
        "expires": (waiver.expires_at - timedelta(days=1)).date().isoformat(),
        "expires_at": iso(waiver.expires_at),
        "requested_by": waiver.requested_by, "requested_at": iso(waiver.requested_at),
        "approved_by": waiver.approved_by, "approved_at": iso(waiver.approved_at),
        "approval_comment": waiver.approval_comment,
        "revoked_by": waiver.revoked_by, "revoked_at": iso(waiver.revoked_at),
        "revoke_reason": waiver.revoke_reason, "expired_at": iso(waiver.expired_at),
    }


def _load_waiver(session, waiver_id: int) -> Waiver:
    waiver = session.exec(select(Waiver).where(Waiver.id == waiver_id).with_for_update()).scalar_one_or_none()
    if waiver is None:
        raise NotFound(_unknown_waiver(waiver_id))
    return waiver


def _unknown_waiver(waiver_id: int) -> str:
    return f"unknown waiver {waiver_id}: see `readiness waiver list`"


def _check_waivable(meta: RuleMeta) -> None:
    if not meta.waivable:
        kind = "a blocker" if meta.blocker else "marked not waivable"
        raise InputError(f"rule {meta.id} is {kind} and cannot be waived: fix the finding instead "
                         f"({meta.remediation})")


def _check_request(system_id: str, rule_id: str, reason: str, expires: date, now: datetime) -> None:
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


def request_waiver(engine: Engine, system_id: str, rule_id: str, *, actor_name: str, reason: str,
                   expires: date, ruleset: RuleSet | None = None, now: datetime | None = None) -> dict:
    """Ask for an exception for one rule on one system, valid through ``expires`` (inclusive)."""
    now = naive(now)
    ruleset = ruleset_or_default(ruleset)
    meta = rule_meta(ruleset, rule_id)
    _check_waivable(meta)
    _check_request(system_id, rule_id, reason, expires, now)
    ctx = system_context(engine, system_id)
    who = scoped_actor(engine, acting_user(actor_name), ctx)
    if ctx.retired:
        raise InputError(f"system {system_id} is retired; nothing to waive")
    if not (who.owns(ctx.team) or who.architect_of(ctx.domain) or who.readiness_team or who.admin):
        raise PermissionDenied(f"{who.name} cannot request a waiver for {system_id}: owners (team {ctx.team}), "
                               f"architects of {ctx.domain}, the readiness team or an admin can; "
                               f"{describe(engine, who.name)}")
    with session_scope(engine) as session:
        open_ones = [w for w in session.exec(select(Waiver).where(
            Waiver.system_id == system_id, Waiver.rule_id == rule_id,
            Waiver.state.in_(("requested", "approved")))).scalars() if w.expires_at > now]
        if open_ones:
            other = open_ones[0]
            raise InputError(f"waiver {other.id} ({other.state}, through "
                             f"{waiver_dict(other)['expires']}) already covers {system_id}/{rule_id}; "
                             "revoke it first")
        waiver = Waiver(system_id=system_id, rule_id=rule_id, reason=reason.strip(),
                        expires_at=datetime.combine(expires + timedelta(days=1), time()),
                        requested_by=who.name, requested_at=now, state="requested")
        session.add(waiver)
        session.flush()
        after = waiver_dict(waiver, now)
        record_audit(session, now=now, actor=who.name, action="waiver.requested", entity=f"waiver:{waiver.id}",
                     system_id=system_id, rule_id=rule_id, after=after)
    return after


@contextmanager
def _deciding(engine: Engine, waiver_id: int, actor_name: str, now: datetime):
    """Open a decision on a waiver: the actor in the system's context, the waiver and its
    state at ``now``, in one transaction."""
    name = acting_user(actor_name)
    ctx = row_context(engine, Waiver, waiver_id, _unknown_waiver(waiver_id))
    who = scoped_actor(engine, name, ctx)
    with session_scope(engine) as session:
        waiver = _load_waiver(session, waiver_id)
        yield session, who, ctx, waiver, waiver_state(waiver, now)


def approve_waiver(engine: Engine, waiver_id: int, *, actor_name: str, comment: str = "",
                   ruleset: RuleSet | None = None, now: datetime | None = None) -> dict:
    """A domain architect of the system's domain (or an admin), never the requester, approves."""
    now = naive(now)
    with _deciding(engine, waiver_id, actor_name, now) as (session, who, ctx, waiver, state):
        if state != "requested":
            raise InputError(f"waiver {waiver.id} is {state}; only requested waivers can be approved")
        if who.name == waiver.requested_by:
            raise PermissionDenied(f"{who.name} requested waiver {waiver.id} and cannot approve it; "
                                   f"a domain architect of {ctx.domain} must ({names(ctx.architects)})")
        if not (who.architect_of(ctx.domain) or who.admin):
            raise PermissionDenied(f"{who.name} is not a domain architect of {ctx.domain} "
                                   f"({names(ctx.architects)}); {describe(engine, who.name)}")
        rules = ruleset_or_default(ruleset).by_id()
        if waiver.rule_id in rules:
            _check_waivable(rules[waiver.rule_id].meta)
        after = _audited_change(session, waiver, actor=who.name, now=now, action="waiver.approved",
                                state="approved", approved_by=who.name, approved_at=now,
                                approval_comment=comment.strip())
    announce_waiver(engine, after)  # committed: the requesting team hears of it
    return after


def revoke_waiver(engine: Engine, waiver_id: int, *, actor_name: str, reason: str,
                  now: datetime | None = None) -> dict:
    """End a waiver early (architects of the domain, the readiness team, admins), or withdraw
    one's own request before it is approved. The rule counts again at the next evaluation."""
    now = naive(now)
    if len((reason or "").strip()) < MIN_REASON:
        raise InputError(f"--reason: say why the waiver is revoked (at least {MIN_REASON} characters)")
    with _deciding(engine, waiver_id, actor_name, now) as (session, who, ctx, waiver, state):
        if state not in ("requested", "approved"):
            raise InputError(f"waiver {waiver.id} is already {state}")
        withdrawing = state == "requested" and who.name == waiver.requested_by
        if not (withdrawing or who.architect_of(ctx.domain) or who.readiness_team or who.admin):
            raise PermissionDenied(f"{who.name} cannot revoke waiver {waiver.id}: architects of {ctx.domain} "
                                   f"({names(ctx.architects)}), the readiness team or an admin can"
                                   f"{' (or its requester before approval)' if state == 'requested' else ''}; "
                                   f"{describe(engine, who.name)}")
        after = _audited_change(session, waiver, actor=who.name, now=now, action="waiver.revoked",
                                state="revoked", revoked_by=who.name, revoked_at=now, revoke_reason=reason.strip())
    announce_waiver(engine, after)
    return after


def _audited_change(session, waiver: Waiver, *, actor: str, now: datetime, action: str, **fields) -> dict:
    """Set ``fields`` on the waiver and record the change, before and after, in the audit log."""
    before = waiver_dict(waiver, now)
    for name, value in fields.items():
        setattr(waiver, name, value)
    after = waiver_dict(waiver, now)
    record_audit(session, now=now, actor=actor, action=action, entity=f"waiver:{waiver.id}",
                 system_id=waiver.system_id, rule_id=waiver.rule_id, before=before, after=after)
    return after


def list_waivers(engine: Engine, *, system_id: str | None = None, state: str | None = None,
                 now: datetime | None = None) -> list[dict]:
    """Waivers, newest first, with their state at ``now``."""
    if state is not None and state not in WAIVER_STATES:
        raise InputError(f"--state {state!r}: accepted: {', '.join(WAIVER_STATES)}")
    now = naive(now)
    with session_scope(engine) as session:
        query = select(Waiver)
        if system_id:
            query = query.where(Waiver.system_id == system_id)
        rows = [waiver_dict(w, now) for w in session.exec(query.order_by(Waiver.id.desc())).scalars()]
    return [r for r in rows if state is None or r["state"] == state]


def active_waivers(engine: Engine, now: datetime) -> dict[tuple[str, str], dict]:
    """Waivers in force at ``now``: approved by then, not revoked by then, not yet expired."""
    now = naive(now)
    active: dict[tuple[str, str], dict] = {}
    with session_scope(engine) as session:
        query = select(Waiver).where(Waiver.approved_at.is_not(None), Waiver.approved_at <= now,
                                     Waiver.expires_at > now).order_by(Waiver.expires_at)
        for waiver in session.exec(query).scalars():
            if waiver.revoked_at is not None and waiver.revoked_at <= now:
                continue
            active[(waiver.system_id, waiver.rule_id)] = waiver_dict(waiver, now)
    return active
