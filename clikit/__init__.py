"""The command-line plumbing every CLI shares: formats, ``--db``, engine opening, output, errors.

A kernel package: it imports typer and ``storage``, nothing else of ours. The rules it
applies everywhere (so the CLIs cannot drift apart again):

- counts in messages are words for people (``counted(3, "system")``: "3 systems", never "system(s)");
- data goes to stdout (``emit``, ``emit_json``), progress and errors to stderr (``say``, ``fail``);
- exit codes: 0 ok, 1 error, 2 usage (typer's own), 3 a gate failed;
- ``--format table|json|csv``: CSV with LF line endings and formula prefixes escaped; a missing value (None, or a NaN
  number) is an empty cell in tables and CSV and ``null`` in JSON;
- a ``--db`` that cannot be opened (bad URL, no driver, unreachable server, missing folder)
  ends the command with one line ``error: cannot open the database ...`` and exit 1;
- a write a person decides names its actor through ``proven_actor`` (a personal API token, ``identity``).
"""

from clikit.console import (
    EXIT_ERROR,
    EXIT_GATE_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    fail,
    reported,
    run,
    say,
)
from clikit.database import DbOption, open_engine
from clikit.identity import TokenFileOption, proven_actor, token_secret
from clikit.output import (
    DocFormat,
    DocFormatOption,
    Format,
    FormatOption,
    cell_text,
    counted,
    csv_safe,
    emit,
    emit_json,
)

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
    "counted",
    "csv_safe",
    "emit",
    "emit_json",
    "fail",
    "open_engine",
    "proven_actor",
    "reported",
    "run",
    "say",
    "token_secret",
]
