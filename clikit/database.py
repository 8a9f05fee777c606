"""``--db`` and opening the database it names, with a clean error when that fails."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from clikit.console import fail

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from storage import PlainReader

DbOption = Annotated[str | None, typer.Option(
    "--db", help="Database URL (default: PEAK_DATABASE_URL or sqlite:///peak.db).")]

def _cannot_open() -> tuple[type[BaseException], ...]:
    """What a wrong --db raises: a URL that does not parse (ArgumentError, ValueError), a
    driver that is not installed (ImportError), a server or file that cannot be reached
    (OperationalError, OSError), a schema from another version (alembic's CommandError).
    Imported here, not at the top: commands that never open a database (kapacity's file
    commands, --help) must not pay for the database layer."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    return SQLAlchemyError, OSError, ImportError, ValueError, CommandError


def open_engine(db: str | None) -> Engine:
    """The engine for ``--db`` (else PEAK_DATABASE_URL, else sqlite:///peak.db), migrated
    to the latest schema (cheap when it already is).

    When the database cannot be opened, the command ends here: one line
    ``error: cannot open the database 'URL': Reason: detail`` on stderr and exit 1.
    """
    from storage import database_url, get_engine, migrate

    url = database_url(db)
    try:
        engine = get_engine(url)
        migrate(engine)
    except _cannot_open() as exc:
        raise fail(f"cannot open the database {_without_password(url)!r}: {_reason(exc)}") from None
    return engine


def open_reader(db: str | None) -> PlainReader:
    """For reads in plain SQL (``storage.plainsql``): an SQLite file already at every migration
    head through the standard library's sqlite3, without importing SQLAlchemy; any other
    database through :func:`open_engine`, migrated, or ended with its one-line error."""
    from storage import current_sqlite_reader, database_url, engine_reader

    return current_sqlite_reader(database_url(db)) or engine_reader(open_engine(db))


def _without_password(url: str) -> str:
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def _reason(exc: Exception) -> str:
    """The driver's own error when SQLAlchemy wraps one, on one line."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0].strip()}" if lines else type(cause).__name__
