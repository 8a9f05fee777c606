"""Bring a database to the latest schema with Alembic.

Each context owns a branch (``readiness``, ``kapacity``, ...) in its own
``<package>/migrations`` folder, so contexts add tables without touching each
other's revisions; ``upgrade heads`` applies all branches.

A database already at every head is recognised without Alembic (:func:`is_current` reads the
revision ids from the migration files and compares them with ``alembic_version``): importing
Alembic and the migration environment, which imports every context's models, costs about a
second, paid before each command otherwise. This module imports neither Alembic nor SQLAlchemy
until it uses them, so that a read through sqlite3 (``storage.plainsql``) can ask
:func:`at_every_head` alone.
"""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Engine

# Contexts whose models.py the migration environment imports (their tables in one metadata), and
# whose migrations/ folder, when there is one, holds their branch. governance has tables but no
# branch yet: its tables came with the readiness branch (revision readiness_0002).
CONTEXTS_WITH_MIGRATIONS = ("readiness", "kapacity", "perftest", "flashsales", "governance", "notifications",
                            "identity")


def _version_locations() -> list[Path]:
    here = Path(str(resources.files("storage")))
    locations = [here / "migrations" / "versions"]
    for package in CONTEXTS_WITH_MIGRATIONS:
        folder = here.parent / package / "migrations"
        if folder.is_dir():
            locations.append(folder)
    return locations


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    here = Path(str(resources.files("storage")))
    config = Config(str(here / "alembic.ini"))
    config.set_main_option("script_location", str(here / "migrations"))
    config.set_main_option("version_locations", " ".join(str(p) for p in _version_locations()))
    config.set_main_option("path_separator", "space")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _revision_ids(path: Path) -> tuple[str, set[str]] | None:
    """A revision file's id and the ids it follows (``down_revision`` and ``depends_on``: Alembic
    keeps no row for a head another branch depends on); None when they are not plain literals."""
    values: dict[str, object] = {}
    for node in _module_body(path.read_text(encoding="utf-8"), path):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision", "depends_on") and node.value is not None:
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    return None
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    parents: set[str] = set()
    for follows in (down, values.get("depends_on")):
        parents |= {follows} if isinstance(follows, str) else set(follows or ())
    return revision, parents


# A revision file states its ids at the top, before its functions; parsing only that much is
# what keeps this check cheap (a whole migration file takes a few milliseconds to parse).
_FIRST_DEFINITION = re.compile(r"^(?:async\s+def|def|class)\b", re.MULTILINE)
_REVISION_NAMES = re.compile(r"^(?:revision|down_revision|depends_on)\b", re.MULTILINE)


def _module_body(source: str, path: Path) -> list[ast.stmt]:
    """The top-level statements that can state a revision's ids: those before the first function
    or class, unless the ids are (also) assigned further down; then the whole file's."""
    found = _FIRST_DEFINITION.search(source)
    if found is not None and not _REVISION_NAMES.search(source, found.start()):
        try:
            return ast.parse(source[:found.start()], filename=str(path)).body
        except SyntaxError:  # the cut fell inside a string or a bracket: read it all
            pass
    return ast.parse(source, filename=str(path)).body


def _heads() -> set[str] | None:
    """Every branch's head, read from the revision files; None when one cannot be read plainly."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for folder in _version_locations():
        for path in sorted(folder.glob("*.py")):
            found = _revision_ids(path)
            if found is None:
                return None
            revisions.add(found[0])
            followed |= found[1]
    return revisions - followed


# The revisions a database is at: one row per branch head (storage.plainsql asks it through sqlite3).
STORED_REVISIONS = "SELECT version_num FROM alembic_version"


def is_current(engine: Engine) -> bool:
    """Whether the database is at every branch's head already (False when unsure)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as connection:
            stored = {row[0] for row in connection.execute(text(STORED_REVISIONS))}
    except SQLAlchemyError:
        return False
    return at_every_head(stored)


def at_every_head(stored: set[str]) -> bool:
    """Whether ``stored`` (the rows of ``STORED_REVISIONS``) are every branch's head: neither
    behind nor ahead of these revision files (False when unsure)."""
    heads = _heads()
    return bool(heads) and stored == heads


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Upgrade to ``revision`` (default: every branch's head; nothing to do, and no Alembic
    imported, when the database is there already)."""
    if revision == "heads" and is_current(engine):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
