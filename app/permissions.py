"""Which writes a page offers to the logged-in user.

These mirror the role checks of the ``governance`` package so the page never
offers a write the service would refuse; the service still checks every write
(a refusal is shown as the service worded it). Keep them in step with
governance's rules: owners answer checks and request waivers for their teams'
systems, architects of the system's domain approve (never their own
submission), the readiness team gives the second approval on critical systems.
"""

from __future__ import annotations

from app.auth import User

ARCHITECT, READINESS_TEAM = "architect", "readiness_team"


def may_answer(user: User | None, *, team: str) -> bool:
    return user is not None and (user.owns(team) or user.admin)


def open_capacities(review: dict) -> list[str]:
    approved = {a["as"] for a in review.get("approvals", [])}
    return [c for c in review.get("needs", []) if c not in approved]


def may_decide_review(user: User | None, review: dict, *, domain: str) -> bool:
    """Approve (or reject) a pending review: in a capacity still open, never one's own submission."""
    if user is None or review.get("state") != "pending" or review.get("submitted_by") == user.username:
        return False
    if user.username in {a["by"] for a in review.get("approvals", [])}:
        return False
    for capacity in open_capacities(review):
        if user.admin or (capacity == ARCHITECT and user.architect_of(domain)) or \
                (capacity == READINESS_TEAM and user.readiness_team):
            return True
    return False


def may_request_waiver(user: User | None, *, team: str, domain: str) -> bool:
    return user is not None and (user.owns(team) or user.architect_of(domain) or user.readiness_team or user.admin)


def may_approve_waiver(user: User | None, waiver: dict, *, domain: str) -> bool:
    return (user is not None and waiver.get("state") == "requested" and waiver.get("requested_by") != user.username
            and (user.architect_of(domain) or user.admin))


def may_revoke_waiver(user: User | None, waiver: dict, *, domain: str) -> bool:
    if user is None or waiver.get("state") not in ("requested", "approved"):
        return False
    withdrawing = waiver.get("state") == "requested" and waiver.get("requested_by") == user.username
    return withdrawing or user.architect_of(domain) or user.readiness_team or user.admin


def may_write_anything(user: User | None) -> bool:
    return user is not None and bool(user.roles)


# Flash sales (mirrors flashsales.service: the central rate-limit team decides increases; the
# request's people, the readiness team, admins and the rate-limit team cancel). The service lets
# anyone file a request; the app does not let a viewer (the login page promises viewers write
# nothing), so ``app.actions.submit_sale`` checks this itself.

SALE_TERMINAL = ("rejected", "completed", "cancelled")


def may_submit_sale(user: User | None) -> bool:
    return may_write_anything(user)


def may_decide_sale(user: User | None, request: dict, *, ratelimit_team: set[str]) -> bool:
    return user is not None and user.username in ratelimit_team and request.get("status") == "increase_requested"


def may_cancel_sale(user: User | None, request: dict, *, ratelimit_team: set[str]) -> bool:
    if user is None or request.get("status") in SALE_TERMINAL:
        return False
    people = {request.get("reporter"), request.get("key_account_manager"), request.get("solution_engineer")}
    return (user.username in people or user.readiness_team or user.admin or user.username in ratelimit_team)


# Seasons (mirrors readiness.seasons: the catalog's readiness team and admins create, change and
# close seasons). ``app.actions`` checks this before calling the service, which checks again.


def may_manage_seasons(user: User | None) -> bool:
    return user is not None and (user.readiness_team or user.admin)
