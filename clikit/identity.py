"""Proving who runs a write command: ``--token-file`` / ``PEAK_TOKEN`` beside ``--as`` (or ``--actor``).

Every command that changes something a person decides calls ``proven_actor`` before it
writes; a refusal is one line ``refused: ...`` (saying how to get a token) and exit 1,
with nothing written.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clikit.console import fail

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

TokenFileOption = Annotated[Path | None, typer.Option(
    "--token-file", help="File holding your personal API token (default: the PEAK_TOKEN variable). "
                         "Get one from an admin: `readiness tokens issue`.")]


def token_secret(token_file: Path | None) -> str | None:
    """The token from ``--token-file`` (readable by its owner only, as ssh keys), else ``PEAK_TOKEN``."""
    from identity import TOKEN_ENV

    if token_file is None:
        return os.environ.get(TOKEN_ENV) or None
    try:
        mode = token_file.stat().st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise fail(f"--token-file {token_file}: other users can read it; `chmod 600 {token_file}` first",
                       label="refused")
        secret = token_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"--token-file {token_file}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    if not secret:
        raise fail(f"--token-file {token_file}: the file is empty", label="refused")
    return secret


def proven_actor(engine: Engine, claimed: str | None, token_file: Path | None = None, *, option: str = "--as") -> str:
    """The person this command acts as, proven by their token (or, on a demo database, the name claimed).

    ``claimed`` is what ``--as`` / ``--actor`` said (None when not given); with a token it must
    match the token's person. Refused: ``refused: <why and how to get a token>``, exit 1.
    """
    from identity import NotProven, prove

    try:
        return prove(engine, claimed=claimed, secret=token_secret(token_file), option=option)
    except NotProven as exc:
        raise fail(exc, label="refused") from None
