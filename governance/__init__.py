"""Governance: team-managed checks, waivers, roles and the append-only audit log.

Roles come from the catalog (``readiness.people``); every write here checks the actor's
role before it writes anything, and appends to the audit log in the same transaction.
The readiness core never imports this package: it plugs in through entry points
(see pyproject.toml): ``sources_for`` (the ``attestations`` fact source), ``overlays_for``
(waivers in force), ``seed_demo_governance`` (the demo), ``audit_role_changes`` (central
roles a catalog import changed) and ``governance.cli:register`` (``readiness review``,
``readiness waiver``, ``readiness audit``).

Other packages import from here only:
- roles: ``Actor``, ``actor``, ``central_role_members``, ``ARCHITECT``, ``READINESS_TEAM``
- reviews: ``submit_review``, ``approve_review``, ``reject_review``, ``get_review``,
  ``list_reviews``, ``parse_answers``, ``approval_expiry``, ``REVIEW_STATES``
- waivers: ``request_waiver``, ``approve_waiver``, ``revoke_waiver``, ``list_waivers``,
  ``active_waivers``, ``WAIVER_STATES``
- evaluation: ``AttestationSource``, ``attestation_facts``, ``WaiverOverlay``, ``expire_due``,
  ``ExpiryReport``, ``EXPIRY_ACTOR``
- audit: ``audit_log``
"""

from governance.attestations import AttestationSource, attestation_facts, sources_for
from governance.audit import audit_log, audit_role_changes
from governance.demo import seed_demo_governance
from governance.expiry import EXPIRY_ACTOR, ExpiryReport, expire_due
from governance.overlay import WaiverOverlay, overlays_for
from governance.reviews import (
    APPROVAL_VALIDITY,
    REVIEW_STATES,
    approval_expiry,
    approve_review,
    get_review,
    list_reviews,
    parse_answers,
    reject_review,
    submit_review,
)
from governance.roles import ARCHITECT, READINESS_TEAM, Actor, actor, central_role_members
from governance.waivers import (
    WAIVER_STATES,
    active_waivers,
    approve_waiver,
    list_waivers,
    request_waiver,
    revoke_waiver,
)

__all__ = [
    "APPROVAL_VALIDITY", "ARCHITECT", "EXPIRY_ACTOR", "READINESS_TEAM", "REVIEW_STATES", "WAIVER_STATES",
    "Actor", "AttestationSource", "ExpiryReport", "WaiverOverlay", "active_waivers", "actor",
    "approval_expiry", "approve_review", "approve_waiver", "attestation_facts", "audit_log",
    "audit_role_changes", "central_role_members", "expire_due", "get_review", "list_reviews",
    "list_waivers", "overlays_for", "parse_answers", "reject_review", "request_waiver", "revoke_waiver",
    "seed_demo_governance", "sources_for", "submit_review",
]
