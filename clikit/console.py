"""Messages on stderr, exit codes, and named errors turned into one clear line."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

import typer

from clikit.apps import asked_only

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2  # typer's own code for bad options; commands use it for refused input too
EXIT_GATE_FAILED = 3  # the command worked and a gate (--fail-under, SLOs, --check) failed

Command = TypeVar("Command", bound=Callable)
# Exits and usage errors typer already handles: never reported as the command's own errors.
_CLI_FLOW = (typer.Exit, typer.Abort, typer.TyperException)


def say(message: str) -> None:
    """Progress, warnings and errors go to stderr, so stdout stays data."""
    typer.echo(message, err=True)


def fail(message: object, *, code: int = EXIT_ERROR, label: str = "error") -> typer.Exit:
    """Say ``label: message`` and return the exit to raise: ``raise fail(...)``."""
    say(f"{label}: {message}")
    return typer.Exit(code)


def reported(*errors: type[Exception], label: str = "error") -> Callable[[Command], Command]:
    """Decorate a command: these errors become ``label: message`` and exit 1 (or the
    error's own ``exit_code``, as perftest's usage errors carry 2).

    Unlike ``run``, this also holds under typer's CliRunner, which calls the command
    itself; stack two for two labels (the inner one wins).
    """

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def checked(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except _CLI_FLOW:
                raise
            except errors as exc:
                raise fail(exc, code=_exit_code(exc), label=label) from None

        return checked  # type: ignore[return-value]

    return decorate


def run(app: typer.Typer, *, errors: tuple[type[Exception], ...] = ()) -> None:
    """The console script's main: run ``app``, built only as far as the arguments ask
    (:func:`clikit.apps.asked_only`); the package's named errors become ``error: message`` on
    stderr and exit 1 (or their ``exit_code``), not a traceback."""
    try:
        asked_only(app, sys.argv[1:])()
    except errors as exc:
        say(f"error: {exc}")
        sys.exit(_exit_code(exc))


def _exit_code(exc: Exception) -> int:
    return getattr(exc, "exit_code", EXIT_ERROR)
