"""Times as governance stores them: naive UTC, shown to the second."""

from __future__ import annotations

from datetime import UTC, datetime

from storage import utcnow


def naive(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    return now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None
