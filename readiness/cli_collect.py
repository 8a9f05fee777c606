"""`readiness collect sources` (the registered fact sources) and `readiness facts SYSTEM_ID`.

Collectors in other packages add their own `collect` commands through the ``peak_readiness.cli``
entry points (`collect kubernetes` comes from ``collectors``).

Data goes to stdout, progress, warnings and errors to stderr. Exit codes: 0 ok, 1 error
(for `collect sources`: a source collected nothing because of errors), 2 usage.
"""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Annotated

import typer

collect_app = typer.Typer(help="Collect facts from a source and store them.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: PEAK_DATABASE_URL or sqlite:///peak.db).")]
FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]


def _engine(db: str | None):
    from readiness.service import open_database
    from storage import database_url, get_engine

    return open_database(get_engine(database_url(db)))


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _cell(value, empty: str = "-") -> str:
    if value is None:
        return empty
    return str(value)


def _emit(rows: list[dict], fmt: Format, columns: list[str]) -> None:
    if fmt == Format.json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    cells = [[_cell(row.get(c), "" if fmt == Format.csv else "-") for c in columns] for row in rows]
    if fmt == Format.csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(cells)
        typer.echo(out.getvalue(), nl=False)
        return
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()  # noqa: E731
    typer.echo("\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells]))


def facts(system_id: Annotated[str, typer.Argument(help="The SystemID.")],
          source: Annotated[str | None, typer.Option(help="Only this fact source (inventory, kubernetes, ...).")] = None,
          fmt: FormatOption = Format.table, db: DbOption = None):
    """The stored facts of a system: per source, when collected and last seen, and from where."""
    from readiness.catalog import get_system
    from readiness.facts import latest_facts
    from readiness.reports import as_of

    engine = _engine(db)
    if get_system(engine, system_id) is None:
        _say(f"error: unknown system {system_id!r}")
        raise typer.Exit(1)
    stored = latest_facts(engine, [system_id]).get(system_id, {})
    rows = [{"source": name, "collected_at": as_of(f.collected_at), "last_seen_at": as_of(f.last_seen_at),
             "origin": f.origin, "content_hash": f.content_hash, "data": f.data}
            for name, f in sorted(stored.items()) if source is None or name == source]
    if not rows:
        _say(f"no stored facts for {system_id}" + (f" from {source}" if source else ""))
    if fmt == Format.json:
        typer.echo(json.dumps({"system_id": system_id, "sources": rows}, indent=2, default=str))
    elif fmt == Format.csv:
        _emit([r | {"data": json.dumps(r["data"], sort_keys=True, default=str)} for r in rows], fmt,
              ["source", "collected_at", "last_seen_at", "origin", "content_hash", "data"])
    else:
        for row in rows:
            typer.echo(f"== {row['source']}: collected {row['collected_at']}, last seen {row['last_seen_at']}, "
                       f"from {row['origin'] or '?'}")
            typer.echo(yaml_dump(row["data"]))


def yaml_dump(data) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, width=120).rstrip()


@collect_app.command("sources")
def sources(names: Annotated[list[str] | None, typer.Argument(help="Registered sources to collect (default: all).")] = None,
            db: DbOption = None, fmt: FormatOption = Format.table):
    """Collect from the fact sources other packages register (kapacity, perftest, ...)."""
    from readiness.facts import collect_and_store, load_source, registered_sources

    engine = _engine(db)
    wanted = names or list(registered_sources())
    rows, failed = [], False
    for name in wanted:
        try:
            source = load_source(name)
        except KeyError as exc:
            _say(f"error: {exc.args[0]}")
            raise typer.Exit(2) from None
        report = collect_and_store(engine, source)
        failed |= bool(report.errors) and report.systems == 0
        rows.append({"source": name, "systems": report.systems, "changed": report.changed,
                     "errors": "; ".join(report.errors[:3])})
    _emit(rows, fmt, ["source", "systems", "changed", "errors"])
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add top-level commands of this module (`facts`) to the main app."""
    app.command("facts")(facts)
