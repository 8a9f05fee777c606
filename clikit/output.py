"""``--format table|json|csv`` and writing rows in each, with one rule for missing values.

The rule: a missing value (None, or a NaN number) is an empty cell in tables and CSV,
and ``null`` in JSON. CSV lines end in LF on every platform, and a text cell a spreadsheet
would run as a formula is escaped (:func:`csv_safe`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import numbers
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


# OWASP CSV injection: a cell starting with one of these is a formula to Excel, LibreOffice, Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``'`` before a formula prefix."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_cell(value: object, cell: Cell) -> str:
    text = cell_text(value, cell)
    # numbers are data, not formulas: -3 stays -3 (escaping would make it text)
    return text if isinstance(value, numbers.Number) else csv_safe(text)


def _csv(rows: Sequence[Mapping], columns: Sequence[str], cell: Cell) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_safe(c) for c in columns])
    writer.writerows([_csv_cell(row.get(c), cell) for c in columns] for row in rows)
    return out.getvalue()


def _table(rows: Sequence[Mapping], columns: Sequence[str], cell: Cell, *, rule: bool) -> str:
    cells = [[cell_text(row.get(c), cell) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [list(columns), *([["-" * w for w in widths]] if rule else []), *cells]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)
