"""Reads written once in plain SQL, run on SQLite through the standard library or through SQLAlchemy.

The command line's quick reads (``readiness.quickreads``) answer from the SQLite file a person
works on through ``sqlite3``: importing SQLAlchemy alone takes longer than such a read (about
0.2-0.3 s of a 0.5 s budget on the slow CI machine; issue 19, benchmarks/cli_speed.py).
PostgreSQL, and an engine the caller already holds (the app), go through SQLAlchemy. Both run
the same SQL with ``:name`` parameters (sqlite3's named style, and SQLAlchemy's ``text()``).

Values come back as the table models' types would give them: SQLite keeps datetimes (in
SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff``) and JSON as text and booleans as 0/1, so a read on
SQLite turns the columns it names into Python values (:meth:`PlainReader.moment`, ``document``,
``flag``); PostgreSQL's driver gives them already.

A file is read this way only when it is at every migration head (``storage.migrate``): anything
else (a new file, one behind or ahead, a URL with options) goes through ``clikit.open_engine``,
which migrates or says what is wrong, as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from storage.migrate import STORED_REVISIONS, at_every_head
from storage.urls import sqlite_file

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

Rows = Callable[[str, Mapping[str, Any]], list[tuple]]


class PlainReader:
    """Runs a read's SQL and makes its stored values Python, on SQLite or PostgreSQL."""

    def __init__(self, rows: Rows, *, sqlite: bool, close: Callable[[], None] = lambda: None) -> None:
        self._rows = rows
        self.sqlite = sqlite
        self.close = close

    def __enter__(self) -> PlainReader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        return self._rows(sql, params)

    def value(self, sql: str, **params: Any) -> Any:
        """The first column of the first row, or None when there is no row."""
        found = self._rows(sql, params)
        return found[0][0] if found else None

    def moment(self, stored: Any) -> datetime | None:
        """A DateTime column's value (naive UTC, as stored)."""
        if self.sqlite and stored is not None:
            return datetime.fromisoformat(stored)
        return stored

    def document(self, stored: Any) -> Any:
        """A JSON column's value, read as the engine's json_deserializer (orjson) reads it."""
        if self.sqlite and stored is not None:
            return orjson.loads(stored)
        return stored

    def flag(self, stored: Any) -> bool | None:
        """A Boolean column's value."""
        return bool(stored) if self.sqlite and stored is not None else stored


def engine_reader(engine: Engine) -> PlainReader:
    """Reads through an SQLAlchemy engine (any database it opens)."""
    from sqlalchemy import text

    def rows(sql: str, params: Mapping[str, Any]) -> list[tuple]:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    return PlainReader(rows, sqlite=engine.dialect.name == "sqlite")


def current_sqlite_reader(url: str) -> PlainReader | None:
    """Reads through sqlite3 from the existing SQLite file ``url`` names, when it is at every
    migration head; None for any other URL, a missing file, or a file that is not such a
    database (behind, ahead, or no database at all: the engine's way says which)."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    try:
        # No pragmas: reads need no foreign-key checks, and WAL is a lasting setting of the file.
        connection = sqlite3.connect(path, timeout=30)
    except sqlite3.Error:
        return None
    try:
        stored = {revision for revision, in connection.execute(STORED_REVISIONS)}
    except sqlite3.Error:
        stored = set()
    if not at_every_head(stored):
        connection.close()
        return None
    return PlainReader(lambda sql, params: connection.execute(sql, params).fetchall(), sqlite=True,
                       close=connection.close)
