"""Personal API tokens for tests that write through the command lines on a non-demo database."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage import get_engine


def issue_token(db: str | Engine, person: str, *, days: int = 30) -> str:
    """A token proving ``person`` on that database (issued as setup, outside the admin check)."""
    from identity import issue_token as issue

    engine = get_engine(db) if isinstance(db, str) else db
    return issue(engine, person, issued_by="tests", days=days).secret


def token_env(db: str | Engine, person: str) -> dict[str, str]:
    """The environment a command needs to act as ``person``: ``PEAK_TOKEN``."""
    return {"PEAK_TOKEN": issue_token(db, person)}
