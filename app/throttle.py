"""Login attempts per user name: after ``MAX_FAILURES`` wrong passwords within ``WINDOW``,
that user name waits until the oldest of them is ``WINDOW`` old (a password cannot be guessed
by trying many). One process-wide record (the app runs as one Streamlit server process)."""

from __future__ import annotations

import threading
from collections import deque
from datetime import UTC, datetime, timedelta

from clikit import counted

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


class LoginThrottle:
    def __init__(self, max_failures: int = MAX_FAILURES, window: timedelta = WINDOW) -> None:
        self.max_failures, self.window = max_failures, window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def failed(self, username: str, now: datetime | None = None) -> None:
        """Record one wrong password for ``username``."""
        now = now or _now()
        with self._lock:
            self._recent(username, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)

    def wait(self, username: str, now: datetime | None = None) -> timedelta | None:
        """How long ``username`` must wait before trying again, or None when it may try now."""
        now = now or _now()
        with self._lock:
            recent = self._recent(username, now)
            if len(recent) < self.max_failures:
                return None
            return recent[-self.max_failures] + self.window - now

    def _recent(self, username: str, now: datetime) -> deque[datetime]:
        recent = self._failures.setdefault(username, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        return recent


def wait_message(wait: timedelta) -> str:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return (f"Too many wrong passwords for this user name: try again in {counted(minutes, 'minute')}, "
            "or ask an admin to reset the password.")


def _now() -> datetime:
    return datetime.now(UTC)
