"""``--format table|json|csv`` and writing rows in each, with one rule for missing values.

The rule: a missing value (None, or a NaN number) is an empty cell in tables and CSV,
and ``null`` in JSON. CSV lines end in LF on every platform.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated

import typer


class Format(StrEnum):
    """For commands printing rows."""

    table = "table"
    json = "json"
    csv = "csv"


class DocFormat(StrEnum):
    """For commands printing one document: text for people, or JSON."""

    table = "table"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]
DocFormatOption = Annotated[DocFormat, typer.Option("--format", help="Output format.")]

Cell = Callable[[object], str]


def emit(rows: Sequence[Mapping], fmt: str, columns: Sequence[str], *, cell: Cell = str,
         rule: bool = True, document: object = None) -> None:
    """Write rows to stdout in ``fmt``.

    ``columns`` are the table's and the CSV's columns, in order (JSON keeps every key);
    ``cell`` writes a present value as text (default ``str``); ``rule`` puts a line of
    dashes under the table's header; ``document``, when given, is what JSON prints
    instead of the rows (e.g. the rows with the settings that produced them).
    """
    if fmt == Format.json:
        emit_json(rows if document is None else document)
    elif fmt == Format.csv:
        typer.echo(_csv(rows, columns, cell), nl=False)
    else:
        typer.echo(_table(rows, columns, cell, rule=rule))


def emit_json(document: object) -> None:
    """Indented JSON on stdout; what JSON cannot hold (dates, paths) as its str()."""
    typer.echo(json.dumps(document, indent=2, default=str))


def cell_text(value: object, cell: Cell = str) -> str:
    """A value as a table or CSV cell: missing is empty, anything else ``cell(value)``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return cell(value)


def _csv(rows: Sequence[Mapping], columns: Sequence[str], cell: Cell) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([cell_text(row.get(c), cell) for c in columns] for row in rows)
    return out.getvalue()


def _table(rows: Sequence[Mapping], columns: Sequence[str], cell: Cell, *, rule: bool) -> str:
    cells = [[cell_text(row.get(c), cell) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [list(columns), *([["-" * w for w in widths]] if rule else []), *cells]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)
