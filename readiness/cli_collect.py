"""`readiness collect sources` (the registered fact sources) and `readiness facts SYSTEM_ID`.

Collectors in other packages add their own `collect` commands through the ``peak_readiness.cli``
entry points (`collect kubernetes` comes from ``collectors``).

Data goes to stdout, progress, warnings and errors to stderr. Exit codes: 0 ok, 1 error
(for `collect sources`: a source collected nothing because of errors), 2 usage.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from clikit import (
    EXIT_USAGE,
    DbOption,
    Format,
    FormatOption,
    cli_app,
    emit,
    emit_json,
    fail,
    open_engine,
    say,
)

collect_app = cli_app("Collect facts from a source and store them.")


def facts(system_id: Annotated[str, typer.Argument(help="The SystemID.")],
          source: Annotated[str | None, typer.Option(help="Only this fact source (inventory, kubernetes, ...).")] = None,
          fmt: FormatOption = Format.table, db: DbOption = None):
    """The stored facts of a system: per source, when collected and last seen, and from where."""
    from readiness.catalog import get_system
    from readiness.facts import latest_facts
    from readiness.quickreads import as_of

    engine = open_engine(db)
    if get_system(engine, system_id) is None:
        raise fail(f"unknown system {system_id!r}")
    stored = latest_facts(engine, [system_id]).get(system_id, {})
    rows = [{"source": name, "collected_at": as_of(f.collected_at), "last_seen_at": as_of(f.last_seen_at),
             "origin": f.origin, "content_hash": f.content_hash, "data": f.data}
            for name, f in sorted(stored.items()) if source is None or name == source]
    if not rows:
        say(f"no stored facts for {system_id}" + (f" from {source}" if source else ""))
    if fmt == Format.json:
        emit_json({"system_id": system_id, "sources": rows})
    elif fmt == Format.csv:
        emit([r | {"data": json.dumps(r["data"], sort_keys=True, default=str)} for r in rows], fmt,
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

    engine = open_engine(db)
    wanted = names or list(registered_sources())
    rows, failed = [], False
    for name in wanted:
        try:
            source = load_source(name)
        except KeyError as exc:
            raise fail(exc.args[0], code=EXIT_USAGE) from None
        report = collect_and_store(engine, source)
        failed |= bool(report.errors) and report.systems == 0
        rows.append({"source": name, "systems": report.systems, "changed": report.changed,
                     "errors": "; ".join(report.errors[:3])})
    emit(rows, fmt, ["source", "systems", "changed", "errors"])
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add top-level commands of this module (`facts`) to the main app."""
    app.command("facts")(facts)
