"""The ``attestations`` fact source: the state of each team-managed check per system,
as of the evaluation's ``now`` (see ``readiness.rulekit.attestation_outcome`` for the shape).

``sources_for`` is the ``peak_readiness.evaluation_sources`` hook the core calls before
every evaluation; collecting first records the expiries that fell due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine

from governance.expiry import expire_due
from governance.models import Review
from governance.reviews import decisions_of, state_at
from governance.times import iso, naive
from readiness import CollectedFacts, active_system_ids
from readiness.rulekit import ATTESTATIONS
from storage import session_scope


def attestation_facts(engine: Engine, now: datetime) -> dict[str, dict[str, dict]]:
    """Per active system, the latest review of each team-managed check as of ``now``,
    in the shape ``rulekit.attestation_outcome`` reads."""
    now = naive(now)
    out: dict[str, dict[str, dict]] = {system_id: {} for system_id in active_system_ids(engine)}
    with session_scope(engine) as session:
        latest: dict[tuple[str, str], Review] = {}
        query = select(Review).where(Review.submitted_at <= now).order_by(Review.submitted_at, Review.id)
        for review in session.exec(query).scalars():
            latest[(review.system_id, review.rule_id)] = review
        decisions = decisions_of(session, [r.id for r in latest.values()])
    for (system_id, rule_id), review in sorted(latest.items()):
        if system_id not in out:
            continue
        live = state_at(review, decisions[review.id], now)
        approvers = [d.actor for d in live.approvals]
        out[system_id][rule_id] = {
            "state": live.state, "review_id": review.id, "submitted_by": review.submitted_by,
            "submitted_at": iso(review.submitted_at), "needs": list(review.needs),
            "approvals": [{"by": d.actor, "as": d.capacity, "at": iso(d.at)} for d in live.approvals],
            "decided_by": live.rejection.actor if live.rejection else (", ".join(approvers) or None),
            "decided_at": iso(live.rejection.at if live.rejection else
                              (max(d.at for d in live.approvals) if live.state in ("approved", "expired")
                               else None)),
            "expires_at": iso(review.expires_at) if live.state in ("approved", "expired") else None,
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


def sources_for(engine: Engine, now: datetime) -> list:
    """Fact sources kept in our own tables: the review states of team-managed checks."""
    return [AttestationSource(naive(now))]
