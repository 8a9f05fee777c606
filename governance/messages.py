"""Decision messages: a review approved or rejected, a waiver approved or revoked, told to the team.

Audience: the channel of the team that owns the system (its chain team → group →
domain → default in the routing file, ``notifications.routing``), naming the
requester (or submitter), the decider and the team's leads; and an e-mail to the
requester or submitter when that person has an address and SMTP is set.

A message goes out after the decision is committed, through the outbox
(``notifications``): it is stored first, once per channel (its key names the
decision, so it is never stored twice), sent with one try, and what fails or has
no channel is sent by ``readiness notifications retry`` or the next ``serve``
cycle. A decision never fails because of its message.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

import notifications
from readiness import ownership

log = logging.getLogger("governance.messages")
SOURCE = "readiness"


def announce_review(engine: Engine, review: dict) -> None:
    """After a review reached approved or rejected."""
    if review["state"] not in ("approved", "rejected"):
        return
    what = f"{review['rule_id']} for {review['system_id']}"
    if review["state"] == "approved":
        approvers = ", ".join(a["by"] for a in review["approvals"])
        expires = (review["expires_at"] or "")[:10]
        subject = f"Review {review['id']} approved: {what}"
        body = (f"The team-managed check {review['rule_id']} of {review['system_id']} (review {review['id']}, "
                f"submitted by {review['submitted_by']}) is approved by {approvers}"
                + (f", valid until {expires}" if expires else "") + ". It counts from the next evaluation."
                + (f"\n\nComment: {review['comment']}" if review["comment"] else ""))
        deciders = [a["by"] for a in review["approvals"]]
    else:
        subject = f"Review {review['id']} rejected: {what}"
        body = (f"The team-managed check {review['rule_id']} of {review['system_id']} (review {review['id']}, "
                f"submitted by {review['submitted_by']}) is rejected by {review['rejected_by']}.\n\n"
                f"What to fix: {review['comment']}\n\nAnswer again when it is fixed: readiness review submit "
                f"{review['system_id']} {review['rule_id']}")
        deciders = [review["rejected_by"]]
    _announce(engine, f"review.{review['state']}", f"review:{review['id']}:{review['state']}", review["system_id"],
              subject, body, review["submitted_by"], deciders, ref=f"review:{review['id']}")


def announce_waiver(engine: Engine, waiver: dict) -> None:
    """After a waiver was approved or revoked (a request withdrawn by its requester included)."""
    what = f"{waiver['system_id']} {waiver['rule_id']}"
    if waiver["state"] == "approved":
        subject = f"Waiver {waiver['id']} approved: {what} through {waiver['expires']}"
        body = (f"Waiver {waiver['id']} ({what}), requested by {waiver['requested_by']}, is approved by "
                f"{waiver['approved_by']}. The rule does not count against {waiver['system_id']} through "
                f"{waiver['expires']}, from the next evaluation on.\n\nReason given: {waiver['reason']}"
                + (f"\nComment: {waiver['approval_comment']}" if waiver["approval_comment"] else ""))
        decider = waiver["approved_by"]
    elif waiver["state"] == "revoked":
        withdrawn = waiver["revoked_by"] == waiver["requested_by"] and not waiver["approved_by"]
        verb = "withdrawn" if withdrawn else "revoked"
        subject = f"Waiver {waiver['id']} {verb}: {what}"
        body = (f"Waiver {waiver['id']} ({what}), requested by {waiver['requested_by']}, is {verb} by "
                f"{waiver['revoked_by']}: {waiver['revoke_reason']}\n\n"
                + ("The request is closed." if withdrawn else
                   "The rule counts again from the next evaluation: fix the finding (readiness explain "
                   f"{waiver['system_id']}) or request a new waiver."))
        decider = waiver["revoked_by"]
    else:
        return
    _announce(engine, f"waiver.{waiver['state']}", f"waiver:{waiver['id']}:{waiver['state']}", waiver["system_id"],
              subject, body, waiver["requested_by"], [decider], ref=f"waiver:{waiver['id']}")


def _announce(engine: Engine, kind: str, key: str, system_id: str, subject: str, body: str, requester: str,
              deciders: list[str], *, ref: str) -> None:
    try:
        routing = notifications.load_routing()
        owners = ownership(engine)
        team, _domain = owners.systems.get(system_id, (None, None))
        info = owners.teams.get(team, {}) if team else {}
        chain = notifications.audience(("team", team), ("group", info.get("group")), ("domain", info.get("domain")))
        people = sorted({requester, *deciders, *info.get("leads", [])} - {None, ""})
        audiences = {chain: people, **routing.emailable([requester])}
        draft = notifications.Draft(SOURCE, kind, key, subject, body, audiences, ref=ref)
        ids = notifications.enqueue(engine, draft, routing)
        notifications.deliver(engine, routing, ids=ids, attempts=1)
    except Exception:  # the decision is committed; its message is retried from the outbox, or logged here
        log.exception("the %s message of %s could not be stored or sent", kind, ref)
