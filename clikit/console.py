"""Messages on stderr, exit codes, and named errors turned into one clear line."""

from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

import typer

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


def run(app: typer.Typer, *, errors: tuple[type[Exception], ...] = (), narrow: bool = False) -> None:
    """The console script's main: run ``app``; the package's named errors become
    ``error: message`` on stderr and exit 1 (or their ``exit_code``), not a traceback.

    ``narrow``: build only the command the arguments name (:func:`asked_only`)."""
    try:
        (asked_only(app, sys.argv[1:]) if narrow else app)()
    except errors as exc:
        say(f"error: {exc}")
        sys.exit(_exit_code(exc))


def asked_only(app: typer.Typer, argv: Sequence[str]) -> typer.Typer:
    """``app`` with only the command or group that ``argv`` names first (and one other command,
    so that it stays a group): what a person sees of it, options, help, errors, is the same.

    Typer turns every command of an app into a click command, evaluating each function's
    signature, before it runs the one asked: a few hundredths of a second for the `readiness`
    command's forty, paid by every quick read (issue 19). Anything else (no arguments, an
    option first, a name that is no command, an app with unnamed groups) gets ``app`` itself.
    """
    if not argv or argv[0].startswith("-") or any(not isinstance(group.name, str) for group in app.registered_groups):
        return app
    commands = [c for c in app.registered_commands if _name(c) == argv[0]]
    groups = [g for g in app.registered_groups if g.name == argv[0]]
    if len(commands) + len(groups) != 1 or len(app.registered_commands) + len(app.registered_groups) < 2:
        return app
    if commands:
        commands.append(next(c for c in app.registered_commands if c is not commands[0]))
    narrowed = copy.copy(app)
    narrowed.registered_commands, narrowed.registered_groups = commands, groups
    return narrowed


def _name(command: typer.models.CommandInfo) -> str | None:
    """A command's name as typer gives it (its function's name with dashes, unless named)."""
    if command.name:
        return command.name
    callback = command.callback
    return callback.__name__.lower().replace("_", "-") if callback is not None else None


def _exit_code(exc: Exception) -> int:
    return getattr(exc, "exit_code", EXIT_ERROR)
