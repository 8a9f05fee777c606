"""Expiries: approvals past their expiry and waivers past their date, recorded once each.

Both evaluation hooks (and ``readiness serve``) call ``expire_due`` first, so the state
stored and the audit log agree with what the evaluation sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from governance.audit import record_audit
from governance.models import Review, Waiver
from governance.reviews import decisions_of, review_dict
from governance.times import iso, naive
from governance.waivers import waiver_dict
from storage import session_scope

EXPIRY_ACTOR = "readiness:expiry"  # the actor of expiries recorded by an evaluation


@dataclass
class ExpiryReport:
    reviews: list[int]
    waivers: list[int]


def expire_due(engine: Engine, now: datetime | None = None) -> ExpiryReport:
    """Record approvals and waivers whose expiry has passed at ``now`` (once each, audited)."""
    now = naive(now)
    with session_scope(engine) as session:
        return ExpiryReport(_expire_reviews(session, now), _expire_waivers(session, now))


def _expire_reviews(session, now: datetime) -> list[int]:
    reviews = session.exec(select(Review).where(
        Review.state == "approved", Review.expires_at.is_not(None), Review.expires_at <= now)
        .with_for_update()).scalars().all()
    decisions = decisions_of(session, [r.id for r in reviews])
    for review in reviews:
        before = review_dict(review, decisions[review.id], review.expires_at - timedelta(seconds=1))
        review.state, review.closed_at = "expired", now
        review.closed_reason = f"approval expired at {iso(review.expires_at)}"
        record_audit(session, now=now, actor=EXPIRY_ACTOR, action="review.expired", entity=f"review:{review.id}",
                     system_id=review.system_id, rule_id=review.rule_id, before=before,
                     after=review_dict(review, decisions[review.id], now))
    return [review.id for review in reviews]


def _expire_waivers(session, now: datetime) -> list[int]:
    waivers = session.exec(select(Waiver).where(
        Waiver.state.in_(("requested", "approved")), Waiver.expires_at <= now)
        .with_for_update()).scalars().all()
    for waiver in waivers:
        before = waiver_dict(waiver, waiver.expires_at - timedelta(seconds=1))
        waiver.state, waiver.expired_at = "expired", now
        record_audit(session, now=now, actor=EXPIRY_ACTOR, action="waiver.expired", entity=f"waiver:{waiver.id}",
                     system_id=waiver.system_id, rule_id=waiver.rule_id, before=before,
                     after=waiver_dict(waiver, now))
    return [waiver.id for waiver in waivers]
