"""What a notification says about a sale, and sending it once the decision is committed.

``compose`` writes the subject and body (schedule in the sale's local time,
countries, peak times, limits, the review's reasoning); ``send`` hands them to
``flashsales.notify`` and records a failure in the audit instead of raising,
because the decision it reports is already stored.

Each event has a kind and an audience (docs/operations.md): the announcement of a
new sale and its cancellation are *lifecycle* messages, the request for a
temporary increase is a *review* message for the rate-limit team, approvals,
rejections and refusals are *decisions*. Every person is reached through the
channel of their role or team (``audiences.by_channel``). A decision that
changes nothing (``no_change_needed``) is recorded in the outbox, never sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from flashsales.audiences import by_channel
from flashsales.models import AuditEntry
from flashsales.notify import Message, Sender, deliver
from flashsales.roles import SYSTEM_ACTOR
from flashsales.settings import Settings
from flashsales.views import RequestDetail, RequestView, ReviewView
from storage import session_scope

KINDS = {"submitted": "flashsale.lifecycle", "cancelled": "flashsale.lifecycle",
         "increase_requested": "flashsale.review"}  # everything else is a flashsale.decision
RECORDED_ONLY = frozenset({"no_change_needed"})  # nothing changes for anyone: kept, not broadcast
TITLES = {"submitted": "new flash sale announced", "increase_requested": "temporary rate-limit increase requested",
          "no_change_needed": "no rate-limit change needed", "refused": "refused: the platform cannot take it",
          "approved": "temporary rate-limit increase approved", "rejected": "rate-limit increase rejected",
          "cancelled": "flash sale cancelled"}


@dataclass(frozen=True)
class Delivery:
    """How one use case's notifications go out: settings and clock, plus the sender and sleep tests inject."""

    settings: Settings
    now: datetime
    sender: Sender | None = None
    sleep: Callable[[float], None] | None = None


def send(engine: Engine, delivery: Delivery, detail: RequestDetail, event: str, recipients: list[str], *,
         comment: str = "") -> dict:
    """Deliver the event's message to ``recipients``; the report, or ``{"error": ...}`` when the outbox broke."""
    message = compose(detail, event, comment=comment)
    people = sorted(set(recipients))
    message = Message(message.event, message.subject, message.body, tuple(people),
                      kind=KINDS.get(event, "flashsale.decision"),
                      channels=by_channel(engine, delivery.settings, people), broadcast=event not in RECORDED_ONLY)
    options = {"sender": delivery.sender, "now": delivery.now}
    if delivery.sleep is not None:
        options["sleep"] = delivery.sleep
    try:
        report = deliver(engine, detail.request.id, message, delivery.settings, **options)
    except Exception as exc:  # the decision is committed; a broken outbox must not hide it
        error = f"{type(exc).__name__}: {exc}"
        _audit_failure(engine, detail.request.id, event, error, delivery.now)
        return {"error": error}
    return asdict(report)


def _audit_failure(engine: Engine, request_id: int, event: str, error: str, now: datetime) -> None:
    with session_scope(engine) as session:
        session.add(AuditEntry(request_id=request_id, at=now, actor=SYSTEM_ACTOR, action="notification_failed",
                               detail={"event": event, "error": error[:2000]}))


def compose(detail: RequestDetail, event: str, *, comment: str = "") -> Message:
    """Subject and body of a notification: schedule, countries, peak times, limits, reasoning."""
    r, review = detail.request, detail.latest_review
    title = TITLES.get(event, event)
    window = f"{local_time(r.starts_at, r.utc_offset)} to {local_time(r.ends_at, r.utc_offset)}"
    subject = f"[flash sale #{r.id}] {title}: {r.merchant_name} ({r.merchant_id}), {window}"
    lines = [
        f"Flash sale #{r.id}: {title}",
        f"Merchant: {r.merchant_name} ({r.merchant_id}), category {r.category}",
        f"Status: {r.status}",
        f"Schedule: {window} (UTC {r.starts_at:%Y-%m-%d %H:%M} to {r.ends_at:%Y-%m-%d %H:%M})",
        f"Countries: {', '.join(r.countries)}",
        _peak_times(review),
        _expected_peak(r, review),
        f"Rate limit: {_limit(r, review)}",
        f"Reporter: {r.reporter}; key account manager: {r.key_account_manager}; "
        f"solution engineer: {r.solution_engineer}",
    ]
    if comment:
        lines.append(f"Comment: {comment}")
    if review:
        lines.append("Review:")
        lines += [f"  - {reason}" for reason in review.reasoning]
    if r.notes:
        lines.append(f"Notes: {r.notes}")
    return Message(event, subject, "\n".join(lines), ())


def local_time(moment: datetime, offset: str) -> str:
    """A naive UTC moment at the sale's ``+HH:MM`` offset, with the offset."""
    sign = 1 if offset.startswith("+") else -1
    hours, minutes = offset[1:].split(":")
    delta = timedelta(hours=int(hours), minutes=int(minutes)) * sign
    return (moment.replace(tzinfo=UTC) + delta).strftime("%Y-%m-%d %H:%M") + f" {offset}"


def _peak_times(review: ReviewView | None) -> str:
    busiest = (review.figures.get("history") or {}).get("busiest_hour") if review else None
    if busiest is None:
        return "Expected peak times: throughout the window"
    return f"Expected peak times: throughout the window; the merchant's busiest hour is usually {busiest:02d}:00 local"


def _expected_peak(r: RequestView, review: ReviewView | None) -> str:
    if review and review.projected_peak_rpm:
        return f"Expected peak: {review.projected_peak_rpm:.0f} rpm"
    declared = [f"peak {r.expected_peak_rpm:g} rpm" if r.expected_peak_rpm else "",
                f"{r.expected_multiplier:g}x the usual traffic" if r.expected_multiplier else ""]
    return "Declared: " + (", ".join(d for d in declared if d) or "no expected peak given")


def _limit(r: RequestView, review: ReviewView | None) -> str:
    if r.granted_limit_rpm:
        return f"{r.granted_limit_rpm} rpm (temporary, until {local_time(r.ends_at, r.utc_offset)})"
    if r.proposed_limit_rpm:
        return f"{r.proposed_limit_rpm} rpm proposed"
    return f"unchanged at the {r.category} limit" + (f" of {review.category_limit_rpm} rpm" if review else "")
