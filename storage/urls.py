"""Which database a command opens, and the file an SQLite URL names, without SQLAlchemy.

Kept apart from ``storage.engine`` so that a command reading an SQLite file through the
standard library's ``sqlite3`` (``storage.plainsql``) does not import SQLAlchemy to find it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_URL = "sqlite:///peak.db"
ENV_VAR = "PEAK_DATABASE_URL"

# The plain forms only: a URL with a query (driver options, URI filenames) or a %-escape is
# left to SQLAlchemy, which reads it in full; "sqlite://" and ":memory:" name no file.
_SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?%]+)")


def database_url(explicit: str | None = None) -> str:
    """The URL given, else ``PEAK_DATABASE_URL``, else an SQLite file here."""
    return explicit or os.environ.get(ENV_VAR) or DEFAULT_URL


def sqlite_file(url: str) -> Path | None:
    """The file a plain SQLite URL names, as SQLAlchemy reads it (``sqlite:///peak.db`` is
    ``peak.db`` here, ``sqlite:////tmp/peak.db`` is ``/tmp/peak.db``); None for any other URL."""
    found = _SQLITE_FILE.fullmatch(url)
    if found is None or found["path"] == ":memory:":
        return None
    return Path(found["path"])
