"""Bring a database to the latest schema with Alembic.

Each context owns a branch (``readiness``, ``kapacity``, ...) in its own
``<package>/migrations`` folder, so contexts add tables without touching each
other's revisions; ``upgrade heads`` applies all branches.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

# Contexts whose models.py the migration environment imports (their tables in one metadata), and
# whose migrations/ folder, when there is one, holds their branch. governance has tables but no
# branch yet: its tables came with the readiness branch (revision readiness_0002).
CONTEXTS_WITH_MIGRATIONS = ("readiness", "kapacity", "perftest", "flashsales", "governance", "notifications",
                            "identity")


def alembic_config(engine: Engine | None = None) -> Config:
    here = Path(str(resources.files("storage")))
    config = Config(str(here / "alembic.ini"))
    config.set_main_option("script_location", str(here / "migrations"))
    locations = [str(here / "migrations" / "versions")]
    for package in CONTEXTS_WITH_MIGRATIONS:
        folder = here.parent / package / "migrations"
        if folder.is_dir():
            locations.append(str(folder))
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Upgrade to ``revision`` (default: every branch's head)."""
    command.upgrade(alembic_config(engine), revision)
