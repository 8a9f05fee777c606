"""The command-line plumbing every CLI shares: formats, ``--db``, engine opening, output, errors.

A kernel package: it imports typer, ``storage`` and ``identity``, nothing else of ours. The rules it
applies everywhere (so the CLIs cannot drift apart again):

- counts in messages are words for people (``counted(3, "system")``: "3 systems", never "system(s)");
- data goes to stdout (``emit``, ``emit_json``), progress and errors to stderr (``say``, ``fail``);
- apps with plain help that list every command's whole description (``cli_app``);
- exit codes: 0 ok, 1 error, 2 usage (typer's own), 3 a gate failed;
- ``--format table|json|csv``: CSV with LF line endings and formula prefixes escaped; a missing value (None, or a NaN
  number) is an empty cell in tables and CSV and ``null`` in JSON;
- a ``--db`` that cannot be opened (bad URL, no driver, unreachable server, missing folder)
  ends the command with one line ``error: cannot open the database ...`` and exit 1;
- a write a person decides names its actor through ``proven_actor`` (a personal API token, ``identity``).
"""

from storage import lazy_surface

# Each public name loads from its module on first use (PEP 562): a count in words
# (``clikit.words``) is used by errors modules and rules that must not load typer.
_EXPORTS = {
    "EXIT_ERROR": "clikit.console",
    "EXIT_GATE_FAILED": "clikit.console",
    "EXIT_OK": "clikit.console",
    "EXIT_USAGE": "clikit.console",
    "cli_app": "clikit.apps",
    "names_a_command": "clikit.apps",
    "fail": "clikit.console",
    "reported": "clikit.console",
    "run": "clikit.console",
    "say": "clikit.console",
    "DbOption": "clikit.database",
    "open_engine": "clikit.database",
    "open_reader": "clikit.database",
    "TokenFileOption": "clikit.identity",
    "proven_actor": "clikit.identity",
    "token_secret": "clikit.identity",
    "DocFormat": "clikit.output",
    "DocFormatOption": "clikit.output",
    "Format": "clikit.output",
    "FormatOption": "clikit.output",
    "cell_text": "clikit.output",
    "csv_safe": "clikit.output",
    "emit": "clikit.output",
    "emit_json": "clikit.output",
    "counted": "clikit.words",
}

__all__ = [
    "EXIT_ERROR",
    "EXIT_GATE_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "DbOption",
    "DocFormat",
    "DocFormatOption",
    "Format",
    "FormatOption",
    "TokenFileOption",
    "cell_text",
    "cli_app",
    "counted",
    "csv_safe",
    "emit",
    "emit_json",
    "fail",
    "names_a_command",
    "open_engine",
    "open_reader",
    "proven_actor",
    "reported",
    "run",
    "say",
    "token_secret",
]


lazy_surface(__name__, _EXPORTS)
