"""Writes from the pages, each through the owning service's function with the user as actor.

The service checks the role and validates the input; a refusal or a bad input
comes back as an ``Outcome`` with the service's own words, and nothing is
written. The pages only decide which forms to show (``app.permissions``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import flashsales
import governance
import readiness
from app import data, permissions, words
from app.auth import User


@dataclass
class Outcome:
    ok: bool
    message: str
    problems: list[str] = field(default_factory=list)
    record: dict | None = None


def _fail(exc: Exception) -> Outcome:
    """A service's refusal in words for the page (no command-line flags or "problem(s)")."""
    problems = [words.plain(str(p)) for p in getattr(exc, "problems", []) or []]
    if isinstance(exc, readiness.PermissionDenied):
        return Outcome(False, f"Not allowed: {words.plain(str(exc))}")
    if len(problems) > 1:
        return Outcome(False, f"Not saved: fix these {len(problems)} problems; nothing was written.", problems)
    return Outcome(False, f"Not saved: {problems[0] if problems else words.plain(str(exc))}")


def _call(user: User, write: Callable[..., dict], *args, **kwargs) -> Outcome:
    """One governance write as the logged-in user; cached reviews, waivers and audit are dropped after it."""
    try:
        record = write(data.engine(data.db_url()), *args, actor_name=user.username, **kwargs)
    except readiness.ReadinessError as exc:
        return _fail(exc)
    data.forget_governance()
    return Outcome(True, "saved", record=record)


def submit_review(user: User, system_id: str, rule_id: str, answers: dict[str, str], evidence: list[str]) -> Outcome:
    outcome = _call(user, governance.submit_review, system_id, rule_id, answers=answers, evidence=evidence,
                    ruleset=data.ruleset())
    if outcome.ok:
        outcome.message = (f"Review {outcome.record['id']} submitted for {system_id} / {rule_id}; it now waits for "
                           f"{words.capacities(outcome.record['needs'])} to approve it. The score changes at the next "
                           "evaluation run.")
    return outcome


def approve_review(user: User, review_id: int, comment: str) -> Outcome:
    outcome = _call(user, governance.approve_review, review_id, comment=comment)
    if outcome.ok:
        outcome.message = f"Review {review_id} approved: now {outcome.record['state']}."
    return outcome


def reject_review(user: User, review_id: int, comment: str) -> Outcome:
    outcome = _call(user, governance.reject_review, review_id, comment=comment)
    if outcome.ok:
        outcome.message = f"Review {review_id} rejected; the owner can answer again."
    return outcome


def decide_reviews(user: User, review_ids: list[int], *, approve: bool, comment: str) -> Outcome:
    """A bulk decision: each review approved or rejected on its own through governance (checked and
    audited per review); the outcome lists the ones refused with the reason."""
    decide = approve_review if approve else reject_review
    done, refused = [], []
    for review_id in review_ids:
        outcome = decide(user, review_id, comment)
        if outcome.ok:
            done.append(review_id)
        else:
            refused.append(f"review {review_id}: {outcome.message}")
    verb = "approved" if approve else "rejected"
    ids = ", ".join(str(i) for i in done)
    message = f"{len(done)} of {len(review_ids)} reviews {verb}" + (f" ({ids})." if done else ".")
    if refused:
        message += " The others were left as they were:"
    return Outcome(not refused, message, refused)


def request_waiver(user: User, system_id: str, rule_id: str, reason: str, expires: date) -> Outcome:
    outcome = _call(user, governance.request_waiver, system_id, rule_id, reason=reason, expires=expires,
                    ruleset=data.ruleset())
    if outcome.ok:
        outcome.message = (f"Waiver {outcome.record['id']} requested for {system_id} / {rule_id} through "
                           f"{outcome.record['expires']}; a domain architect approves it.")
    return outcome


def approve_waiver(user: User, waiver_id: int, comment: str) -> Outcome:
    outcome = _call(user, governance.approve_waiver, waiver_id, comment=comment, ruleset=data.ruleset())
    if outcome.ok:
        outcome.message = f"Waiver {waiver_id} approved; it applies from the next evaluation run."
    return outcome


def revoke_waiver(user: User, waiver_id: int, reason: str) -> Outcome:
    outcome = _call(user, governance.revoke_waiver, waiver_id, reason=reason)
    if outcome.ok:
        outcome.message = f"Waiver {waiver_id} revoked; the rule counts again from the next evaluation run."
    return outcome


# ------------------------------------------------------------------ flash sales


@dataclass
class SaleOutcome(Outcome):
    fields: dict[str, list[str]] = field(default_factory=dict)  # messages per request field, for the form


def _sale_call(user: User, write: Callable, *args, **kwargs) -> SaleOutcome:
    """Call one of flashsales' writes with the user as actor; its refusals become the outcome."""
    try:
        record = write(data.engine(data.db_url()), *args, actor=user.username, **kwargs)
    except flashsales.InputError as exc:
        fields: dict[str, list[str]] = {}
        for problem in exc.problems:
            fields.setdefault(problem.field, []).append(words.sale_problem(problem.field, problem.message))
        return SaleOutcome(False, "Not saved: fix the fields marked below; nothing was stored.",
                           [m for messages in fields.values() for m in messages], fields=fields)
    except flashsales.PermissionDenied as exc:
        return SaleOutcome(False, f"Not allowed: {words.plain(str(exc))}")
    except flashsales.FlashSalesError as exc:
        return SaleOutcome(False, words.plain(str(exc)))
    data.forget_flashsales()
    return SaleOutcome(True, "saved", record=record)


VIEWER_REFUSAL = ("Not allowed: you are logged in as a viewer, and viewers change nothing. Ask a system owner, "
                  "a domain architect or the readiness team to do it.")


def submit_sale(user: User, raw: dict) -> SaleOutcome:
    """Validate (pydantic, via the service), store, review; the review's decision comes back.

    The service accepts a request from anyone; the app refuses viewers here too, so a forged
    form post is refused like the hidden form."""
    if not permissions.may_submit_sale(user):
        return SaleOutcome(False, VIEWER_REFUSAL)
    outcome = _sale_call(user, flashsales.submit, raw, origin="dashboard form")
    if outcome.ok:
        result = outcome.record
        request, review = result.request, result.review
        decision = (f"review: {review.decision.replace('_', ' ')}" if review else
                    f"review pending ({result.review_error})" if result.review_error else "review pending")
        outcome.message = f"Request #{request.id} for {request.merchant_name} stored as {request.status}; {decision}."
        outcome.record = {"id": request.id, "status": request.status}
    return outcome


def approve_sale(user: User, request_id: int, limit_rpm: int | None, comment: str) -> SaleOutcome:
    outcome = _sale_call(user, flashsales.approve, request_id, limit_rpm=limit_rpm, comment=comment)
    if outcome.ok:
        outcome.message = (f"Request #{request_id} approved at {outcome.record.granted_limit_rpm} rpm; "
                           "the override is in the rate-limit export for the sale's window.")
    return outcome


def reject_sale(user: User, request_id: int, reason: str) -> SaleOutcome:
    outcome = _sale_call(user, flashsales.reject, request_id, reason=reason)
    if outcome.ok:
        outcome.message = f"Request #{request_id} rejected; the reporter and impacted teams are notified."
    return outcome


def cancel_sale(user: User, request_id: int, reason: str) -> SaleOutcome:
    outcome = _sale_call(user, flashsales.cancel, request_id, reason=reason)
    if outcome.ok:
        outcome.message = f"Request #{request_id} cancelled; its capacity hold is released."
    return outcome


# ------------------------------------------------------------------ seasons

SEASON_REFUSAL = ("Not allowed: only the readiness team and admins create, change or close seasons "
                  "(the catalog's readiness_team and admins lists).")


def _season_call(user: User, write: Callable, *args, **kwargs) -> Outcome:
    """A season write through ``readiness.seasons`` as the logged-in user (checked and recorded there);
    refused here first when the user has not the role, so a forged form post writes nothing."""
    if not permissions.may_manage_seasons(user):
        return Outcome(False, SEASON_REFUSAL)
    try:
        season = write(data.engine(data.db_url()), *args, actor=user.username, **kwargs)
    except readiness.ReadinessError as exc:
        return _fail(exc)
    data.forget_seasons()
    return Outcome(True, "saved", record=readiness.season_record(season))


def _milestones(text: str) -> dict[str, int | None]:
    """``capacity=-6w, rule:ddos_fire_drill=-10d`` (commas or lines); a named rule must be in the pack."""
    parsed = dict(readiness.parse_milestone(part) for part in re.split(r"[,\n]", text or "") if part.strip())
    known = {rule.meta.id for rule in data.ruleset().rules}
    unknown = sorted(k.removeprefix("rule:") for k in parsed if k.startswith("rule:") and k[5:] not in known)
    if unknown:
        raise readiness.InputError(f"milestone: no rule {', '.join(unknown)} in the rule pack")
    return parsed


def create_season(user: User, fields: dict, milestones: str = "") -> Outcome:
    """``fields``: key, name, starts_on, ends_on, target_date, target_score, freeze_on, scope."""
    try:
        parsed = _milestones(milestones)
    except readiness.ReadinessError as exc:
        return _fail(exc)
    outcome = _season_call(user, readiness.create_season, milestones=parsed, **fields)
    if outcome.ok:
        outcome.message = f"Season {fields['key']} created; the next evaluation run is counted in it."
    return outcome


def update_season(user: User, key: str, changes: dict, milestones: str = "") -> Outcome:
    try:
        parsed = _milestones(milestones)
    except readiness.ReadinessError as exc:
        return _fail(exc)
    outcome = _season_call(user, readiness.update_season, key, milestones=parsed, **changes)
    if outcome.ok:
        outcome.message = f"Season {key} saved; the next evaluation run uses its due dates."
    return outcome


def close_season(user: User, key: str) -> Outcome:
    outcome = _season_call(user, readiness.close_season, key)
    if outcome.ok:
        outcome.message = f"Season {key} closed: it is no longer current and can no longer change."
    return outcome
