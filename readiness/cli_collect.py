"""`readiness collect ...` (fact sources) and `readiness facts SYSTEM_ID`.

Data goes to stdout, progress, warnings and errors to stderr. Exit codes: 0 ok, 1 error
(for `collect`: some file or object could not be read; the others were still collected), 2 usage.
"""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from readiness.errors import ReadinessError

collect_app = typer.Typer(help="Collect facts from a source and store them.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: PEAK_DATABASE_URL or sqlite:///peak.db).")]
FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]
WORKLOAD_COLUMNS = ["kind", "namespace", "name", "system_id", "replicas", "readiness_probe", "liveness_probe",
                    "requests_set", "memory_limit_set", "hpa", "pdb", "spread", "image_pinned", "source"]


def _engine(db: str | None):
    from readiness.service import open_database
    from storage import database_url, get_engine

    return open_database(get_engine(database_url(db)))


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _fail(exc: ReadinessError) -> typer.Exit:
    _say(f"error: {exc}")
    return typer.Exit(1)


def _cell(value, empty: str = "-") -> str:
    if isinstance(value, dict) and set(value) == {"min", "max"}:
        return f"{value['min']}-{value['max']}"
    if isinstance(value, dict) and "file" in value:
        item = f"#{value['item']}" if "item" in value else ""
        return f"{value['file']}:{value['line']} (doc {value['document']}{item})"
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


@collect_app.command("kubernetes")
def kubernetes(
    paths: Annotated[list[Path], typer.Argument(help="Manifest files or folders (read recursively: .yaml, .yml, .json).")],
    system_label: Annotated[list[str] | None, typer.Option(
        "--system-label", help="Label naming the system (repeatable, tried in order; default "
                               "app.kubernetes.io/part-of, then app.kubernetes.io/name, then app).")] = None,
    mapping: Annotated[Path | None, typer.Option(
        help="YAML file mapping workloads, label values or namespaces to SystemIDs (see docs/kubernetes.md).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the facts per workload; store nothing, no catalog needed.")] = False,
    fmt: FormatOption = Format.table,
    db: DbOption = None,
):
    """Collect workload facts from Kubernetes manifests (rendered Helm/kustomize output, kubectl exports)."""
    from readiness.sources.kubernetes import FACT_KEYS, KubernetesSource, collect_kubernetes

    try:
        if dry_run:
            result = KubernetesSource(paths, system_label, mapping).scan(None)
            rows = [{key: w[key] for key in FACT_KEYS} | {k: v for k, v in w.items() if k not in FACT_KEYS}
                    for w in result.workloads]
            _emit(rows, fmt, WORKLOAD_COLUMNS)
        else:
            result, stored = collect_kubernetes(_engine(db), paths, system_labels=system_label, mapping=mapping)
            summary = {"files": result.files, "workloads": len(result.workloads), "systems": stored.systems,
                       "changed": stored.changed, "unmapped": result.unmapped, "skipped": result.skipped,
                       "warnings": result.warnings, "errors": result.errors}
            if fmt == Format.json:
                typer.echo(json.dumps(summary, indent=2, default=str))
            elif fmt == Format.csv:
                _emit(result.workloads, fmt, WORKLOAD_COLUMNS)
            else:
                typer.echo(f"kubernetes: {len(result.workloads)} workload(s) in {result.files} file(s); "
                           f"facts stored for {stored.systems} system(s) ({stored.changed} changed); "
                           f"{len(result.unmapped)} unmapped")
    except ReadinessError as exc:
        raise _fail(exc) from None
    if result.skipped:
        _say(f"skipped {sum(result.skipped.values())} object(s) of other kinds: "
             + ", ".join(f"{kind} x{count}" for kind, count in result.skipped.items()))
    for item in result.unmapped:
        source = item["source"]
        _say(f"unmapped: {item['workload']} ({source['file']}:{source['line']}): {item['reason']}")
    if not dry_run and result.workloads and len(result.unmapped) == len(result.workloads):
        _say("hint: no workload maps to a system in the catalog: import the catalog first "
             "(`readiness import --catalog FILE`), pass --system-label or --mapping, or look with --dry-run")
    for warning in result.warnings:
        _say(f"warning: {warning}")
    for error in result.errors:
        _say(f"error: {error}")
    if result.errors:
        raise typer.Exit(1)


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
