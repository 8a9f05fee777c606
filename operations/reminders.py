"""Reminders before approved waivers and approvals of team-managed checks expire.

A reminder goes out ``reminder_days`` before an approved waiver or an approval
of a team-managed check expires, to the requester (or submitter), the approver
and the team's leads. Windows are stateless: a job firing at ``until`` whose
previous fire time was ``since`` reminds about what reaches a reminder point in
``(since, until]``, so a schedule that keeps firing sends each reminder once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from operations.digests import Message
from readiness import ownership


def _reached(expires_at: str | None, days: Iterable[int], since: datetime, until: datetime) -> int | None:
    """The reminder point (days before expiry) that falls in ``(since, until]``, if any."""
    if not expires_at:
        return None
    expiry = datetime.fromisoformat(expires_at)
    for day in sorted(days):
        if since < expiry - timedelta(days=day) <= until:
            return day
    return None


def build_reminders(engine: Engine, *, since: datetime, until: datetime,
                    days: Sequence[int] = (14, 3)) -> list[Message]:
    """Reminders for approved waivers and approvals reaching a reminder point in ``(since, until]``."""
    from governance import list_reviews, list_waivers

    owners = ownership(engine)
    systems, teams = owners.systems, owners.teams

    def team_leads(system_id: str) -> list[str]:
        team = systems.get(system_id, (None, None))[0]
        return list(teams.get(team, {}).get("leads", []))

    messages = []
    for waiver in list_waivers(engine, state="approved", now=until):
        day = _reached(waiver["expires_at"], days, since, until)
        if day is None:
            continue
        subject = (f"Waiver {waiver['id']} for {waiver['system_id']} {waiver['rule_id']} ends after "
                   f"{waiver['expires']} ({day} days)")
        body = (f"Waiver {waiver['id']} ({waiver['system_id']}, rule {waiver['rule_id']}) is in force through "
                f"{waiver['expires']}: {day} days from now. From then on the rule counts again.\n\n"
                f"Reason given: {waiver['reason']}\nRequested by {waiver['requested_by']}, approved by "
                f"{waiver['approved_by']}.\n\nFix the finding before then (readiness explain "
                f"{waiver['system_id']}), or request a new waiver (readiness waiver request).")
        recipients = {waiver["requested_by"], waiver["approved_by"], *team_leads(waiver["system_id"])} - {None}
        messages.append(Message("reminder", f"waiver:{waiver['id']}", subject, body, tuple(sorted(recipients)),
                                {"waiver_id": waiver["id"], "days": day, "expires_at": waiver["expires_at"],
                                 "system_id": waiver["system_id"], "rule_id": waiver["rule_id"]}))
    for review in list_reviews(engine, state="approved", now=until):
        day = _reached(review["expires_at"], days, since, until)
        if day is None:
            continue
        expires = review["expires_at"][:16].replace("T", " ")
        subject = (f"Approval of {review['rule_id']} for {review['system_id']} expires {expires} UTC "
                   f"({day} days)")
        approvers = [a["by"] for a in review["approvals"]]
        body = (f"The approval of review {review['id']} ({review['system_id']}, check {review['rule_id']}) "
                f"expires at {expires} UTC: {day} days from now. After that the check counts as expired "
                f"and loses its points.\n\nApproved by {', '.join(approvers) or '-'}; submitted by "
                f"{review['submitted_by']}.\n\nSubmit the check again for review (readiness review submit) "
                "so it is approved before it expires.")
        recipients = {review["submitted_by"], *approvers, *team_leads(review["system_id"])}
        messages.append(Message("reminder", f"review:{review['id']}", subject, body, tuple(sorted(recipients)),
                                {"review_id": review["id"], "days": day, "expires_at": review["expires_at"],
                                 "system_id": review["system_id"], "rule_id": review["rule_id"]}))
    return messages

