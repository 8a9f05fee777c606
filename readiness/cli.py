"""The `readiness` command line: import, evaluate, score, explain, export, demo.

Data goes to stdout, progress and errors to stderr. Exit codes: 0 ok,
1 error, 2 usage, 3 a --fail-under gate failed.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from readiness import reports
from readiness.cli_collect import collect_app
from readiness.cli_collect import register as register_collect_commands
from readiness.cli_season import season_app
from readiness.errors import ReadinessError
from readiness.export import export_run
from readiness.rulebook import load_rules
from readiness.rulekit import describe_offset
from readiness.scoring import BASES
from readiness.service import (
    import_catalog_file,
    import_inventory_file,
    open_database,
    run_demo,
    run_evaluation,
)
from storage import database_url, get_engine

app = typer.Typer(help="Peak-season readiness: catalog, facts, rules, scores.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
rules_app = typer.Typer(help="The rule pack.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(collect_app, name="collect")
app.add_typer(season_app, name="season")
register_collect_commands(app)

# Other contexts add their commands (review, waiver, audit, collect kubernetes, serve, digest)
# through this entry-point group, so the core imports none of them. Each entry point is a
# function register(app, groups) where groups holds the core's sub-commands by name.
CLI_PLUGINS = "peak_readiness.cli"


def _register_plugins() -> None:
    from importlib.metadata import entry_points

    groups = {"rules": rules_app, "collect": collect_app}
    for plugin in sorted(entry_points(group=CLI_PLUGINS), key=lambda ep: ep.name):
        plugin.load()(app, groups)


_register_plugins()

GATE_FAILED = 3


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Level(StrEnum):
    company = "company"
    domain = "domain"
    group = "group"
    team = "team"
    system = "system"


DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: PEAK_DATABASE_URL or sqlite:///peak.db).")]
RulesDirs = Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra folder of rule modules (repeatable).")]
FailUnder = Annotated[float | None, typer.Option("--fail-under", help="Exit 3 when the company score is below this.")]
FormatOption = Annotated[Format, typer.Option("--format", help="Output format.")]


def _engine(db: str | None):
    return open_database(get_engine(database_url(db)))


def _say(message: str) -> None:
    typer.echo(message, err=True)


def _emit(rows: list[dict], fmt: Format, columns: list[str]) -> None:
    if fmt == Format.json:
        typer.echo(json.dumps(rows, indent=2, default=str))
    elif fmt == Format.csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        typer.echo(out.getvalue(), nl=False)
    else:
        typer.echo(_table(rows, columns))


def _table(rows: list[dict], columns: list[str]) -> str:
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


def _gate(score: float, fail_under: float | None) -> None:
    if fail_under is not None and score < fail_under:
        _say(f"company score {score:.2f} is below --fail-under {fail_under:g}")
        raise typer.Exit(GATE_FAILED)


@app.command()
def demo(db: DbOption = None,
         systems: Annotated[int, typer.Option(min=1, max=100_000, help="How many systems.")] = 450,
         seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same organisation.")] = 7,
         out: Annotated[Path, typer.Option(help="Where to write the catalog and inventory files.")] = Path("demo")):
    """Generate the demo organisation, import it like real data, and evaluate it."""
    engine = _engine(db)
    started = time.perf_counter()
    report = run_demo(engine, out, systems=systems, seed=seed)
    last = report.runs[-1]
    _say(f"wrote the demo files to {out}/ and evaluated in {time.perf_counter() - started:.1f}s")
    typer.echo(f"imported {report.catalog.domains} domains, {report.catalog.groups} groups, "
               f"{report.catalog.teams} teams, {report.catalog.systems} systems; "
               f"{len(report.runs)} run(s); latest run {last.run_id}: company score {last.company.score:.1f}, "
               f"{last.company.outstanding:.0f} points outstanding")


@app.command("import")
def import_(catalog: Annotated[Path | None, typer.Option(help="Systems-registry export (.yaml or .csv).")] = None,
            inventory: Annotated[Path | None, typer.Option(help="Cloud-inventory export (.json or .yaml).")] = None,
            db: DbOption = None):
    """Import a catalog and/or an inventory; each in one transaction, nothing written on error."""
    if catalog is None and inventory is None:
        raise typer.BadParameter("give --catalog, --inventory or both")
    engine = _engine(db)
    if catalog:
        report = import_catalog_file(engine, catalog)
        typer.echo(f"catalog: {report.systems} systems ({len(report.created)} new, {len(report.retired)} retired), "
                   f"{report.teams} teams, {report.groups} groups, {report.domains} domains")
    if inventory:
        stored = import_inventory_file(engine, inventory)
        typer.echo(f"inventory: facts for {stored.systems} systems ({stored.changed} changed)")
        if stored.unknown_systems:
            _say(f"warning: {len(stored.unknown_systems)} SystemID(s) not in the catalog, ignored: "
                 f"{', '.join(stored.unknown_systems[:10])}")


@app.command("evaluate")
def evaluate_(db: DbOption = None, rules_dir: RulesDirs = None, fail_under: FailUnder = None,
              fmt: FormatOption = Format.table):
    """Evaluate every system against the rule pack and store the run."""
    from readiness.serve import evaluation_lock

    engine = _engine(db)
    with evaluation_lock(engine) as taken:
        if not taken:
            _say("error: another evaluation is running (readiness serve or another evaluate); try again when it ends")
            raise typer.Exit(1)
        report = run_evaluation(engine, rules_dirs=rules_dir or [])
    summary = {"run_id": report.run_id, "systems": report.systems, "results": report.results,
               "errors": report.errors, "company_score": report.company.score,
               "points_outstanding": report.company.outstanding, "statuses": report.status_counts,
               "load_errors": report.load_errors}
    if fmt == Format.json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        typer.echo(f"run {report.run_id}: {report.systems} systems, {report.results} results, "
                   f"company score {report.company.score:.2f}, {report.company.outstanding:.1f} points outstanding")
        for error in report.load_errors:
            _say(f"error: {error}")
        if report.errors:
            _say(f"{report.errors} error result(s): see `readiness export --format json`")
    _gate(report.company.score, fail_under)


@app.command()
def score(level: Annotated[Level, typer.Option(help="Organisational level.")] = Level.company,
          fmt: FormatOption = Format.table, db: DbOption = None, fail_under: FailUnder = None,
          run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None,
          parent: Annotated[str | None, typer.Option(help="Only units under this parent key.")] = None):
    """Scores per unit at a level (0-100), worst first, with points outstanding and evidence confidence."""
    engine = _engine(db)
    rows = reports.scores(engine, level.value, run_id=run, parent=parent)
    for row in rows:
        for basis in BASES:
            row[f"confidence_{basis}"] = row["confidence"].get(basis, 0.0)
    columns = ["level", "key", "name", "score", "points_outstanding", "systems", "failing_rules",
               *(f"confidence_{basis}" for basis in BASES)]
    _emit(rows, fmt, columns)
    company = reports.scores(engine, "company", run_id=run)
    if company:
        _gate(company[0]["score"], fail_under)


@app.command()
def explain(system_id: str, db: DbOption = None, fmt: FormatOption = Format.table,
            rules_dir: RulesDirs = None,
            run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None):
    """Why a system is below 100: failing rules, evidence and how to fix each."""
    engine = _engine(db)
    report = reports.explain(engine, system_id, load_rules(rules_dir or []), run_id=run)
    if fmt != Format.table:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    typer.echo(f"{report['system_id']} {report['name']} ({report['tier']}, {report['traffic_class']}): "
               f"score {report['score']} with {report['points_outstanding']} points outstanding (run {report['run_id']})")
    if not report["findings"]:
        typer.echo("every applicable rule passes")
    for finding in report["findings"]:
        blocker = " BLOCKER" if finding["blocker"] else ""
        typer.echo(f"\n[{finding['status'].upper()}{blocker}] {finding['rule_id']}: {finding['title']} "
                   f"(-{finding['points_lost']} points)")
        typer.echo(f"  why: {finding['message']}")
        for stale in finding.get("stale", []):
            typer.echo(f"  stale since {stale['stale_since']}: {stale['stale_source']} facts last seen "
                       f"{stale['last_seen']} (maximum age {stale['max_age_days']} days); to refresh: "
                       f"{stale['refresh']}")
        for item in finding["evidence"][:8]:
            typer.echo(f"  evidence: {json.dumps(item, default=str)}")
        typer.echo(f"  fix: {finding['remediation']}")
        if finding["link"]:
            typer.echo(f"  more: {finding['link']}")


@rules_app.command("list")
def rules_list(fmt: FormatOption = Format.table, rules_dir: RulesDirs = None):
    """Every rule in the pack, with its metadata."""
    ruleset = load_rules(rules_dir or [])
    rows = [{"id": r.meta.id, "title": r.meta.title, "category": r.meta.category, "kind": r.meta.kind,
             "severity": r.meta.severity, "points": r.meta.points, "blocker": r.meta.blocker,
             "version": r.meta.version, "due": describe_offset(r.meta.due) if r.meta.due is not None else None,
             "rationale": r.meta.rationale, "remediation": r.meta.remediation, "link": r.meta.link,
             "origin": r.origin} for r in ruleset.rules]
    _emit(rows, fmt, ["id", "category", "kind", "severity", "blocker", "title"])
    for error in ruleset.load_errors:
        _say(f"error: {error}")


@rules_app.command("docs")
def rules_docs(out: Annotated[Path, typer.Option(help="Folder for the pages and index.md.")] = Path("docs/rules"),
               rules_dir: RulesDirs = None,
               check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 3 when the pages "
                                                   "differ from the pack (for CI).")] = False):
    """One Markdown page per rule (expected, why, fix, evaluation, bands, applicability, due date) and an index."""
    from readiness.ruledocs import write_docs

    ruleset = load_rules(rules_dir or [])
    for error in ruleset.load_errors:
        _say(f"error: {error}")
    report = write_docs(ruleset, out, check=check)
    if check:
        if report.stale:
            _say(f"{len(report.stale)} page(s) out of date: {', '.join(p.name for p in report.stale)}; "
                 f"run `readiness rules docs --out {out}`")
            raise typer.Exit(GATE_FAILED)
        typer.echo(f"{out}: {len(ruleset.rules)} rule pages up to date")
        return
    typer.echo(f"wrote {len(report.written) - 1} rule pages and {out / 'index.md'}"
               + (f"; removed {len(report.removed)} page(s) of rules no longer in the pack" if report.removed else ""))
    if ruleset.load_errors:
        raise typer.Exit(1)


@app.command()
def export(fmt: Annotated[str, typer.Option("--format", help="json, csv, sarif or junit.")] = "json",
           db: DbOption = None, rules_dir: RulesDirs = None,
           out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
           run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None):
    """Export a run's results for CI systems and code-scanning tools."""
    text = export_run(_engine(db), load_rules(rules_dir or []), fmt, run_id=run)
    if out:
        out.write_text(text, encoding="utf-8")
        _say(f"wrote {out}")
    else:
        typer.echo(text)


@app.command()
def runs(db: DbOption = None, fmt: FormatOption = Format.table,
         limit: Annotated[int, typer.Option(min=1)] = 20):
    """Recent evaluation runs: when, what they read, the company score."""
    rows = [{"id": r.id, "started_at": reports.as_of(r.started_at), "status": r.status, "systems": r.systems,
             "results": r.results, "errors": r.errors, "company_score": r.company_score,
             "inputs_hash": r.inputs_hash[:12]} for r in reports.list_runs(_engine(db), limit)]
    _emit(rows, fmt, ["id", "started_at", "status", "systems", "errors", "company_score", "inputs_hash"])


@app.command()
def changes(since: Annotated[int, typer.Option(help="Compare against this run id.")], db: DbOption = None,
            fmt: FormatOption = Format.table,
            run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None):
    """What changed since run N: results that flipped and the biggest movers."""
    diff = reports.changes(_engine(db), since, run_id=run)
    if fmt == Format.json:
        typer.echo(json.dumps(diff, indent=2, default=str))
        return
    typer.echo(f"run {diff['from_run']} -> {diff['to_run']}: {len(diff['results_changed'])} result(s) changed")
    _emit(diff["movers"][:20], Format.table, ["level", "key", "name", "before", "after", "delta"])


@app.command()
def progress(db: DbOption = None, fmt: FormatOption = Format.table,
             season: Annotated[str | None, typer.Option(help="Season key (default: the current season).")] = None):
    """The season's score (over its scope) against its target date, and the projected date of reaching it."""
    from readiness.seasons import current_season, get_season

    engine = _engine(db)
    chosen = get_season(engine, season) if season else current_season(engine)
    if chosen is None:
        _say("no season yet: create one with `readiness season create KEY --name NAME --starts-on YYYY-MM-DD "
             "--ends-on YYYY-MM-DD --target-date YYYY-MM-DD --as USER` (see docs/season.md)")
        raise typer.Exit(1)
    status = reports.progress(engine, season=chosen.key)
    if status is None:
        _say(f"no evaluation run in season {chosen.key} yet: run `readiness evaluate`")
        raise typer.Exit(1)
    if fmt == Format.json:
        typer.echo(json.dumps(status, indent=2))
        return
    projected = status["projected_date"] or "not at the current trend"
    scope = "; ".join(f"{key} {', '.join(values)}" for key, values in status["scope"].items())
    typer.echo(f"{status['event']}{f' ({scope})' if scope else ''}: score {status['score']:.1f} of {status['target_score']:g} by "
               f"{status['target_date']} ({status['days_left']} days left); projected to reach it: {projected}; "
               f"{'on track' if status['on_track'] else 'NOT on track'}")


def main() -> None:
    try:
        app()
    except ReadinessError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
