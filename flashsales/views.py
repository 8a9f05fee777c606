"""What the use cases return: frozen views of requests, reviews, audit and notifications.

Views are plain dataclasses so the CLI prints them and the app caches them
without touching a session; ``to_jsonable`` turns any of them into JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flashsales.models import AuditEntry, Override, Review, SaleRequest


@dataclass(frozen=True)
class ReviewView:
    id: int
    reviewed_at: datetime
    decision: str  # no_change_needed | increase | refuse
    projected_peak_rpm: float | None
    category_limit_rpm: int
    proposed_limit_rpm: int | None
    extra_rps: float
    headroom_rps: float | None
    figures: dict
    reasoning: list[str]


@dataclass(frozen=True)
class RequestView:
    id: int
    status: str
    merchant_id: str
    merchant_name: str
    category: str
    reporter: str
    key_account_manager: str
    solution_engineer: str
    countries: list[str]
    starts_at: datetime  # naive UTC
    ends_at: datetime
    utc_offset: str
    expected_peak_rpm: float | None
    expected_multiplier: float | None
    notes: str
    submitted_by: str
    submitted_at: datetime
    proposed_limit_rpm: int | None
    granted_limit_rpm: int | None
    reserved_rps: float


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict


@dataclass(frozen=True)
class NotificationView:
    id: int
    event: str
    destination: str
    recipients: list[str]
    subject: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class RequestDetail:
    request: RequestView
    reviews: list[ReviewView]
    audit: list[AuditView]
    notifications: list[NotificationView]
    override: dict | None

    @property
    def latest_review(self) -> ReviewView | None:
        return self.reviews[-1] if self.reviews else None


@dataclass(frozen=True)
class SubmitResult:
    request: RequestView
    review: ReviewView | None
    review_error: str | None = None
    notifications: dict = field(default_factory=dict)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, datetimes (as ISO UTC with Z) and containers, for JSON output."""
    if hasattr(value, "__dataclass_fields__"):
        return {k: to_jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def request_view(row: SaleRequest) -> RequestView:
    return RequestView(
        id=row.id, status=row.status, merchant_id=row.merchant_id, merchant_name=row.merchant_name,
        category=row.category_key, reporter=row.reporter, key_account_manager=row.key_account_manager,
        solution_engineer=row.solution_engineer, countries=list(row.countries), starts_at=row.starts_at,
        ends_at=row.ends_at, utc_offset=row.utc_offset, expected_peak_rpm=row.expected_peak_rpm,
        expected_multiplier=row.expected_multiplier, notes=row.notes, submitted_by=row.submitted_by,
        submitted_at=row.submitted_at, proposed_limit_rpm=row.proposed_limit_rpm,
        granted_limit_rpm=row.granted_limit_rpm, reserved_rps=row.reserved_rps)


def review_view(row: Review) -> ReviewView:
    return ReviewView(row.id, row.reviewed_at, row.decision, row.projected_peak_rpm, row.category_limit_rpm,
                      row.proposed_limit_rpm, row.extra_rps, row.headroom_rps, dict(row.figures),
                      list(row.reasoning))


def audit_view(row: AuditEntry) -> AuditView:
    return AuditView(row.at, row.actor, row.action, row.from_status, row.to_status, dict(row.detail))


def notification_view(row: dict) -> NotificationView:
    """An outbox row (``notifications.list_messages``) of a request; its key is ``flashsale:<id>:<event>:<at>``."""
    event = row["message_key"].split(":")[2]
    return NotificationView(row["id"], event, row["destination"], list(row["recipients"]), row["subject"],
                            row["status"], row["attempts"], row["last_error"], row["sent_at"])


def override_view(row: Override | None) -> dict | None:
    if row is None:
        return None
    return {"merchant_id": row.merchant_id, "limit_rpm": row.limit_rpm, "starts_at": row.starts_at,
            "expires_at": row.expires_at, "approved_by": row.approved_by, "revoked_at": row.revoked_at}
