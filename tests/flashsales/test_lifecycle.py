"""Lifecycle: only valid transitions, each audited with actor and time; roles in the service layer."""

from __future__ import annotations

from datetime import timedelta

import pytest

import flashsales
from flashsales.errors import InputError, InvalidTransition, NotFound, PermissionDenied
from flashsales.lifecycle import STATES, TRANSITIONS
from tests.flashsales.helpers import ADMIN, NOW, RATELIMIT_USER, READINESS_USER, request, settings

START = NOW + timedelta(days=1)


def _increase(engine):
    return flashsales.submit(engine, request(), now=NOW, settings=settings()).request


def test_every_state_has_its_transitions_declared():
    assert set(TRANSITIONS) == set(STATES)
    assert all(target in STATES for targets in TRANSITIONS.values() for target in targets)


def test_the_whole_life_of_an_approved_sale_is_audited(org_engine):
    sale = _increase(org_engine)
    flashsales.approve(org_engine, sale.id, actor=RATELIMIT_USER, comment="ok for the drop",
                    now=NOW + timedelta(minutes=5), settings=settings())
    flashsales.advance(org_engine, now=NOW + timedelta(minutes=10))
    flashsales.advance(org_engine, now=START + timedelta(minutes=1))
    flashsales.advance(org_engine, now=START + timedelta(hours=5))
    detail = flashsales.get_request(org_engine, sale.id)
    steps = [(a.actor, a.action, a.from_status, a.to_status) for a in detail.audit]
    assert steps == [
        ("bd.bea", "submit", None, "submitted"),
        ("flashsales", "review_started", "submitted", "under_review"),
        ("flashsales", "review_increase", "under_review", "increase_requested"),
        (RATELIMIT_USER, "approve", "increase_requested", "approved"),
        ("flashsales", "advance_scheduled", "approved", "scheduled"),
        ("flashsales", "advance_live", "scheduled", "live"),
        ("flashsales", "advance_completed", "live", "completed"),
    ]
    assert [a.at for a in detail.audit][-1] == START + timedelta(hours=5)
    assert detail.audit[3].detail["comment"] == "ok for the drop"
    assert detail.request.status == "completed"


def test_advance_is_idempotent(org_engine):
    sale = _increase(org_engine)
    flashsales.approve(org_engine, sale.id, actor=RATELIMIT_USER, now=NOW, settings=settings())
    assert flashsales.advance(org_engine, now=NOW) == [(sale.id, "approved", "scheduled")]
    assert flashsales.advance(org_engine, now=NOW) == []


def test_only_the_rate_limit_team_decides_increases(org_engine):
    sale = _increase(org_engine)
    for actor in ("bd.bea", READINESS_USER, ADMIN):
        with pytest.raises(PermissionDenied, match="rate-limit team"):
            flashsales.approve(org_engine, sale.id, actor=actor, now=NOW, settings=settings())
        with pytest.raises(PermissionDenied):
            flashsales.reject(org_engine, sale.id, actor=actor, reason="no", now=NOW, settings=settings())
    assert flashsales.get_request(org_engine, sale.id).request.status == "increase_requested"


def test_a_stored_grant_makes_a_catalog_user_a_rate_limit_team_member(org_engine):
    sale = _increase(org_engine)
    with pytest.raises(PermissionDenied, match="not an admin"):
        flashsales.grant_role(org_engine, "cy.checkout", actor="bd.bea")
    with pytest.raises(InputError, match="not a user in the catalog"):
        flashsales.grant_role(org_engine, "nobody.here", actor=ADMIN)
    flashsales.grant_role(org_engine, "cy.checkout", actor=ADMIN)
    no_env_team = settings(ratelimit_team=())
    assert flashsales.ratelimit_team(org_engine, no_env_team) == {"cy.checkout"}
    approved = flashsales.approve(org_engine, sale.id, actor="cy.checkout", now=NOW, settings=no_env_team)
    assert approved.status == "approved"


def test_only_increase_requests_can_be_approved_or_rejected(org_engine):
    small = flashsales.submit(org_engine, request(expected_multiplier=2), now=NOW, settings=settings()).request
    assert small.status == "no_change_needed"
    with pytest.raises(InvalidTransition, match="only increase_requested"):
        flashsales.approve(org_engine, small.id, actor=RATELIMIT_USER, now=NOW, settings=settings())
    with pytest.raises(InvalidTransition):
        flashsales.reject(org_engine, small.id, actor=RATELIMIT_USER, reason="no", now=NOW, settings=settings())


def test_a_rejection_needs_a_reason_and_releases_the_hold(org_engine):
    sale = _increase(org_engine)
    with pytest.raises(InputError, match="reason"):
        flashsales.reject(org_engine, sale.id, actor=RATELIMIT_USER, reason=" ", now=NOW, settings=settings())
    rejected = flashsales.reject(org_engine, sale.id, actor=RATELIMIT_USER, reason="Black Friday freeze",
                              now=NOW, settings=settings())
    assert rejected.status == "rejected" and rejected.reserved_rps == 0
    with pytest.raises(InvalidTransition, match="cannot be cancelled"):
        flashsales.cancel(org_engine, sale.id, actor="bd.bea", now=NOW, settings=settings())


def test_approval_cannot_exceed_the_reviewed_proposal_nor_stay_at_the_category_limit(org_engine):
    sale = _increase(org_engine)
    with pytest.raises(InputError, match="at most the reviewed proposal of 1600"):
        flashsales.approve(org_engine, sale.id, actor=RATELIMIT_USER, limit_rpm=1700, now=NOW, settings=settings())
    with pytest.raises(InputError, match="above the fashion limit of 600"):
        flashsales.approve(org_engine, sale.id, actor=RATELIMIT_USER, limit_rpm=600, now=NOW, settings=settings())


def test_stakeholders_and_central_teams_may_cancel_others_may_not(org_engine):
    sale = _increase(org_engine)
    with pytest.raises(PermissionDenied, match="cancel someone else's"):
        flashsales.cancel(org_engine, sale.id, actor="cy.checkout", now=NOW, settings=settings())
    done = flashsales.cancel(org_engine, sale.id, actor=READINESS_USER, reason="merchant postponed", now=NOW,
                          settings=settings())
    assert done.status == "cancelled"
    other = _increase(org_engine)
    assert flashsales.cancel(org_engine, other.id, actor="se.sol", now=NOW, settings=settings()).status == "cancelled"


def test_reviewing_again_is_for_the_readiness_team(org_engine):
    sale = _increase(org_engine)
    with pytest.raises(PermissionDenied, match="review a flash sale"):
        flashsales.review(org_engine, sale.id, actor="bd.bea", now=NOW, settings=settings())
    with pytest.raises(PermissionDenied, match="rate-limit team"):
        flashsales.set_category(org_engine, "fashion", rate_limit_rpm=2000, actor=READINESS_USER, settings=settings())
    flashsales.set_category(org_engine, "fashion", rate_limit_rpm=2000, actor=RATELIMIT_USER, settings=settings())
    again = flashsales.review(org_engine, sale.id, actor=READINESS_USER, now=NOW, settings=settings())
    assert again.decision == "no_change_needed"
    detail = flashsales.get_request(org_engine, sale.id)
    assert detail.request.status == "no_change_needed" and detail.request.reserved_rps == 0
    assert len(detail.reviews) == 2


def test_an_unknown_request_is_named(org_engine):
    with pytest.raises(NotFound, match="#99"):
        flashsales.get_request(org_engine, 99)
