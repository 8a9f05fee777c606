"""What a command needs to know of identity without loading the database layer: the errors,
the token's environment variable and its limits (``--help`` and the CLI's error handling
import this, not the token store)."""

from __future__ import annotations

DEFAULT_DAYS = 90
MAX_DAYS = 366
DEMO = "demo"
TOKEN_ENV = "PEAK_TOKEN"
HOW_TO_GET_ONE = (f"writes on this database need a personal API token: ask an admin to run "
                  f"`readiness tokens issue YOUR_NAME`, then set {TOKEN_ENV} to it or pass --token-file FILE "
                  f"(the first admin of a new database: `readiness tokens issue ADMIN --bootstrap`); a name alone "
                  f"is accepted only on a demo database (`readiness demo`)")


class IdentityError(Exception):
    """A token or identity request that cannot be honoured (the message says why, for a person)."""


class NotProven(IdentityError):
    """A write whose actor is not proven: no token where one is needed, or one that does not prove the name."""
