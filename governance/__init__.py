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

from storage import lazy_surface

# Each public name loads from its module on first use (PEP 562): importing the package, or a
# light submodule of it such as its CLI, does not import the whole context and its heavy
# dependencies. tests/clikit/test_startup.py checks every name here resolves.
_EXPORTS = {
    "AttestationSource": "governance.attestations",
    "attestation_facts": "governance.attestations",
    "sources_for": "governance.attestations",
    "audit_log": "governance.audit",
    "audit_role_changes": "governance.audit",
    "seed_demo_governance": "governance.demo",
    "EXPIRY_ACTOR": "governance.expiry",
    "ExpiryReport": "governance.expiry",
    "expire_due": "governance.expiry",
    "WaiverOverlay": "governance.overlay",
    "overlays_for": "governance.overlay",
    "APPROVAL_VALIDITY": "governance.reviews",
    "REVIEW_STATES": "governance.reviews",
    "approval_expiry": "governance.reviews",
    "approve_review": "governance.reviews",
    "get_review": "governance.reviews",
    "list_reviews": "governance.reviews",
    "parse_answers": "governance.reviews",
    "reject_review": "governance.reviews",
    "submit_review": "governance.reviews",
    "ARCHITECT": "governance.roles",
    "READINESS_TEAM": "governance.roles",
    "Actor": "governance.roles",
    "actor": "governance.roles",
    "central_role_members": "governance.roles",
    "WAIVER_STATES": "governance.waivers",
    "active_waivers": "governance.waivers",
    "approve_waiver": "governance.waivers",
    "list_waivers": "governance.waivers",
    "request_waiver": "governance.waivers",
    "revoke_waiver": "governance.waivers",
}

__all__ = [
    "APPROVAL_VALIDITY", "ARCHITECT", "EXPIRY_ACTOR", "READINESS_TEAM", "REVIEW_STATES", "WAIVER_STATES",
    "Actor", "AttestationSource", "ExpiryReport", "WaiverOverlay", "active_waivers", "actor",
    "approval_expiry", "approve_review", "approve_waiver", "attestation_facts", "audit_log",
    "audit_role_changes", "central_role_members", "expire_due", "get_review", "list_reviews",
    "list_waivers", "overlays_for", "parse_answers", "reject_review", "request_waiver", "revoke_waiver",
    "seed_demo_governance", "sources_for", "submit_review",
]


lazy_surface(__name__, _EXPORTS)
