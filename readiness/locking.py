"""One evaluation at a time, across processes: `readiness evaluate` and every `readiness serve`.

A PostgreSQL session advisory lock, or an exclusive file lock beside an SQLite
database, so any number of processes may share one database; the one that finds
the lock taken skips (never waits).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import threading
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Engine

LOCK_NAME = "readiness.serve.evaluation"  # kept: the advisory lock key is derived from it
# pg advisory locks take a bigint; derive ours from a name so it cannot clash by accident
LOCK_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)


_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


@contextlib.contextmanager
def evaluation_lock(engine: Engine) -> Iterator[bool]:
    """Try to take the one-evaluation-at-a-time lock; yields whether it was taken (never waits).

    PostgreSQL: ``pg_try_advisory_lock`` on a connection held for the duration (the
    server releases it if the process dies). SQLite: an exclusive ``flock`` on
    ``<database>.lock`` (SQLite is one host, so a file lock covers every process); an
    in-memory database uses a lock within the process.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar())
            try:
                yield taken
            finally:
                if taken:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        with open(f"{database}.lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with _local_guard:
        lock = _local_locks.setdefault(str(engine.url), threading.Lock())
    taken = lock.acquire(blocking=False)
    try:
        yield taken
    finally:
        if taken:
            lock.release()

