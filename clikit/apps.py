"""The typer apps every CLI builds, and building only what a command line asks for.

Start-up is most of what a person waits for in `--help` or a quick read (issue 19,
benchmarks/cli_speed.py), and two things typer does by default cost more than the command:

- Rich help: typer renders help and usage errors with rich when it is installed, importing
  rich, rich.markdown and markdown-it (0.1-0.17 s on the 2-core test machine) before the first line.
  :func:`cli_app` makes apps with click's plain help instead; :class:`ListedGroup` lists each
  command with its whole first sentence or paragraph, wrapped, where click would cut it with "...".
- Building every command: before it runs anything, typer turns every command of an app into a
  click command, evaluating each function's signature and annotations (0.1 s for `readiness`'s
  forty). :func:`asked_only` keeps the command a command line names and, for the app's own
  `--help`, lists the commands from their help texts alone.
"""

from __future__ import annotations

import copy
import inspect
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import solve_typer_info_help
from typer.models import CommandInfo, TyperInfo


class ListedGroup(TyperGroup):
    """A command group whose help lists each command with its whole short description.

    Click shortens a command's description to what fits on the line beside its name and ends it
    with "..."; rich used to wrap it instead. This wraps it (``get_short_help_str`` with no
    limit: the short help when given, else the help's first paragraph up to its first sentence)."""

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:
        rows = [(name, command.get_short_help_str(limit=sys.maxsize)) for name in self.list_commands(ctx)
                if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def cli_app(help: str, **settings: Any) -> typer.Typer:  # noqa: A002  typer's own name for it
    """A typer app (or sub-command group) with plain help: no rich, see the module's doc.

    ``settings`` are typer.Typer's; ``no_args_is_help`` is on unless said otherwise."""
    return typer.Typer(help=help, rich_markup_mode=None, cls=ListedGroup,
                       **{"no_args_is_help": True, **settings})


HELP = "--help"


def asked_only(app: typer.Typer, argv: Sequence[str]) -> typer.Typer:
    """``app`` with only the command or group that ``argv`` names first (and one other command,
    so that it stays a group): what a person sees of it, options, help, errors, is the same.
    ``--help`` alone gets :func:`listing`, the app with its commands described but not built.

    Anything else (no arguments, an option first, a name that is no command, an app with
    unnamed groups) gets ``app`` itself.
    """
    if list(argv) == [HELP]:
        return listing(app)
    if not argv or argv[0].startswith("-") or not _all_groups_named(app):
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


def names_a_command(app: typer.Typer, argv: Sequence[str]) -> bool:
    """Whether ``argv`` first names one of ``app``'s own commands (not one of its groups)."""
    return bool(argv) and any(_name(command) == argv[0] for command in app.registered_commands)


def listing(app: typer.Typer) -> typer.Typer:
    """``app`` for its own ``--help``: each command and group stands in as a command without
    parameters, with the same name, help, short help, and hidden and deprecated flags; the app's
    own options and callback stay. Its help is the whole app's, the same text
    (tests/clikit/test_startup.py), for a thousandth of the building."""
    if len(app.registered_commands) + len(app.registered_groups) < 2 or not _all_groups_named(app):
        return app  # a single command is the app's help itself; an unnamed group merges its commands
    listed = copy.copy(app)
    listed.registered_commands = [*map(_listed_command, app.registered_commands),
                                  *map(_listed_group, app.registered_groups)]
    listed.registered_groups = []
    return listed


def _listed_command(command: CommandInfo) -> CommandInfo:
    return CommandInfo(_name(command), callback=_not_run, help=_help_of(command), short_help=command.short_help,
                       hidden=command.hidden, deprecated=command.deprecated)


def _listed_group(group: TyperInfo) -> CommandInfo:
    settings = typer.main.solve_typer_info_defaults(group)
    return CommandInfo(group.name, callback=_not_run, help=solve_typer_info_help(group),
                       short_help=settings.short_help, hidden=settings.hidden, deprecated=settings.deprecated)


def _help_of(command: CommandInfo) -> str | None:
    """A command's help as typer takes it: given, else its function's docstring."""
    if command.help is not None:
        return command.help
    return inspect.getdoc(command.callback) if command.callback is not None else None


def _not_run() -> None:
    """Stands in for a command in the app's listing, which only its --help builds."""
    raise AssertionError("a listed command is never run: a listing only answers --help")


def _all_groups_named(app: typer.Typer) -> bool:
    return all(isinstance(group.name, str) for group in app.registered_groups)


def _name(command: CommandInfo) -> str | None:
    """A command's name as typer gives it (its function's name with dashes, unless named)."""
    if command.name:
        return command.name
    callback = command.callback
    return callback.__name__.lower().replace("_", "-") if callback is not None else None
