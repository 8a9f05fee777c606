"""`readiness collect kubernetes`: added to the `readiness` command through the ``peak_readiness.cli``
entry point (``register``), so the readiness core never imports the collectors.

Data goes to stdout, progress, warnings and errors to stderr. Exit codes: 0 ok, 1 error (some file
or object could not be read; the others were still collected), 2 usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from clikit import DbOption, Format, FormatOption, counted, emit, emit_json, fail, open_engine, say
from readiness import ReadinessError

if TYPE_CHECKING:
    from collectors import KubernetesScan

# The collector itself (manifest parsing, the fact store) loads when the command runs, so
# registering it costs `readiness --help` and every other `readiness` command nothing.

WORKLOAD_COLUMNS = ["kind", "namespace", "name", "system_id", "replicas", "readiness_probe", "liveness_probe",
                    "requests_set", "memory_limit_set", "hpa", "pdb", "spread", "image_pinned", "source"]


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """The ``peak_readiness.cli`` hook: `kubernetes` under `readiness collect`."""
    groups["collect"].command("kubernetes")(kubernetes)


def _cell(value: object) -> str:
    """A workload fact as one cell: an HPA as ``min-max``, a source as ``file:line (doc N#item)``."""
    if isinstance(value, dict) and set(value) == {"min", "max"}:
        return f"{value['min']}-{value['max']}"
    if isinstance(value, dict) and "file" in value:
        item = f"#{value['item']}" if "item" in value else ""
        return f"{value['file']}:{value['line']} (doc {value['document']}{item})"
    return str(value)


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
    try:
        if dry_run:
            result = _dry_run(paths, system_label, mapping, fmt)
        else:
            result = _collect(paths, system_label, mapping, fmt, db)
    except ReadinessError as exc:
        raise fail(exc) from None
    _report(result, dry_run)
    if result.errors:
        raise typer.Exit(1)


def _dry_run(paths: list[Path], system_label: list[str] | None, mapping: Path | None,
             fmt: Format) -> KubernetesScan:
    from collectors import FACT_KEYS, KubernetesSource

    result = KubernetesSource(paths, system_label, mapping).scan(None)
    rows = [{key: w[key] for key in FACT_KEYS} | {k: v for k, v in w.items() if k not in FACT_KEYS}
            for w in result.workloads]
    emit(rows, fmt, WORKLOAD_COLUMNS, cell=_cell)
    return result


def _collect(paths: list[Path], system_label: list[str] | None, mapping: Path | None, fmt: Format,
             db: str | None) -> KubernetesScan:
    from collectors import collect_kubernetes

    result, stored = collect_kubernetes(open_engine(db), paths, system_labels=system_label, mapping=mapping)
    if fmt == Format.json:
        summary = {"files": result.files, "workloads": len(result.workloads), "systems": stored.systems,
                   "changed": stored.changed, "unmapped": result.unmapped, "skipped": result.skipped,
                   "warnings": result.warnings, "errors": result.errors}
        emit_json(summary)
    elif fmt == Format.csv:
        emit(result.workloads, fmt, WORKLOAD_COLUMNS, cell=_cell)
    else:
        typer.echo(f"kubernetes: {counted(len(result.workloads), 'workload')} in {counted(result.files, 'file')}; "
                   f"facts stored for {counted(stored.systems, 'system')} ({stored.changed} changed); "
                   f"{len(result.unmapped)} unmapped")
    return result


def _report(result: KubernetesScan, dry_run: bool) -> None:
    """What was skipped, unmapped, warned about or failed, on stderr."""
    if result.skipped:
        say(f"skipped {counted(sum(result.skipped.values()), 'object')} of other kinds: "
            + ", ".join(f"{kind} x{count}" for kind, count in result.skipped.items()))
    for item in result.unmapped:
        source = item["source"]
        say(f"unmapped: {item['workload']} ({source['file']}:{source['line']}): {item['reason']}")
    if not dry_run and result.workloads and len(result.unmapped) == len(result.workloads):
        say("hint: no workload maps to a system in the catalog: import the catalog first "
            "(`readiness import --catalog FILE`), pass --system-label or --mapping, or look with --dry-run")
    for warning in result.warnings:
        say(f"warning: {warning}")
    for error in result.errors:
        say(f"error: {error}")
