"""The `readiness` command line: import, evaluate, score, explain, export, demo.

Data goes to stdout, progress and errors to stderr. Exit codes: 0 ok,
1 error, 2 usage, 3 a --fail-under gate failed.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from clikit import (
    EXIT_ERROR,
    EXIT_GATE_FAILED,
    DbOption,
    Format,
    FormatOption,
    cli_app,
    counted,
    emit,
    emit_json,
    fail,
    names_a_command,
    open_engine,
    open_reader,
    say,
)
from clikit import run as run_app
from readiness.cli_collect import collect_app
from readiness.cli_collect import register as register_collect_commands
from readiness.cli_season import season_app
from readiness.errors import ReadinessError

# Each command imports what it needs inside its body: `--help` and the quick reads (`runs`,
# `score`, `explain`) must not pay for the catalog import, the engine, the demo or the
# other contexts' stacks (benchmarks/cli_speed.py, tests/clikit/test_startup.py). The quick
# reads go through readiness.quickreads (plain SQL: no SQLModel, no ORM, no table models, and on
# an SQLite file no SQLAlchemy either).

# The core's own commands; `app`, the whole `readiness` command, adds the other contexts' (below).
core = cli_app("Peak-season readiness: catalog, facts, rules, scores.", pretty_exceptions_enable=False)
rules_app = cli_app("The rule pack.")
core.add_typer(rules_app, name="rules")
core.add_typer(collect_app, name="collect")
core.add_typer(season_app, name="season")
register_collect_commands(core)

# Other contexts add their commands (review, waiver, audit, collect kubernetes, serve, digest)
# through this entry-point group, so the core imports none of them. Each entry point is a
# function register(app, groups) where groups holds the core's sub-commands by name.
CLI_PLUGINS = "peak_readiness.cli"


@functools.cache
def whole_app() -> typer.Typer:
    """The `readiness` command with the commands every plugin adds (registered once, in the core).

    Looked up only when needed (the listing, a plugin's command, a group plugins add to): finding
    the entry points (importlib.metadata reads every installed package's metadata) and importing
    the plugins cost a core command such as `readiness runs` 15-35 ms of its start (issue 19)."""
    from importlib.metadata import entry_points

    groups = {"rules": rules_app, "collect": collect_app}
    for plugin in sorted(entry_points(group=CLI_PLUGINS), key=lambda ep: ep.name):
        plugin.load()(core, groups)
    return core


def __getattr__(name: str) -> typer.Typer:
    """``readiness.cli.app`` is the whole command (PEP 562: the plugins load on first use)."""
    if name == "app":
        return whole_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Level(StrEnum):
    company = "company"
    domain = "domain"
    group = "group"
    team = "team"
    system = "system"


RulesDirs = Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra folder of rule modules (repeatable).")]
FailUnder = Annotated[float | None, typer.Option("--fail-under", help="Exit 3 when the company score is below this.")]
BackstageOption = Annotated[bool, typer.Option("--backstage", help="Read the PATHS as Backstage entity YAML "
                                                "(files or folders; Location targets followed). See docs/catalog-backstage.md.")]
BackstagePaths = Annotated[list[Path] | None, typer.Argument(help="With --backstage: entity files or folders.",
                                                             show_default=False)]
BackstageSystemKind = Annotated[str, typer.Option(help="With --backstage: the kind scored as a system "
                                                  "(component, system or resource).")]
StrictOption = Annotated[bool, typer.Option("--strict", help="With --backstage: refuse the import on any problem, "
                                            "writing nothing.")]


def _gate(score: float, fail_under: float | None, *, errors: int = 0) -> None:
    if fail_under is not None and score < fail_under:
        counted = f" counting {errors} error result{'' if errors == 1 else 's'} as failures" if errors else ""
        say(f"company score {score:.2f}{counted} is below --fail-under {fail_under:g}")
        raise typer.Exit(EXIT_GATE_FAILED)


@core.command()
def demo(db: DbOption = None,
         systems: Annotated[int, typer.Option(min=1, max=100_000, help="How many systems.")] = 450,
         seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same organisation.")] = 7,
         out: Annotated[Path, typer.Option(help="Where to write the catalog and inventory files.")] = Path("demo")):
    """Generate the demo organisation, import it like real data, and evaluate it."""
    from readiness.service import run_demo

    engine = open_engine(db)
    started = time.perf_counter()
    report = run_demo(engine, out, systems=systems, seed=seed)
    last = report.runs[-1]
    say(f"wrote the demo files to {out}/ and evaluated in {time.perf_counter() - started:.1f}s")
    typer.echo(f"imported {report.catalog.domains} domains, {report.catalog.groups} groups, "
               f"{report.catalog.teams} teams, {report.catalog.systems} systems; "
               f"{counted(len(report.runs), 'run')}; latest run {last.run_id}: company score {last.company.score:.1f}, "
               f"{last.company.outstanding:.0f} points outstanding")


@core.command("import")
def import_(catalog: Annotated[Path | None, typer.Option(help="Systems-registry export (.yaml or .csv).")] = None,
            inventory: Annotated[Path | None, typer.Option(help="Cloud-inventory export (.json or .yaml).")] = None,
            db: DbOption = None, backstage: BackstageOption = False, paths: BackstagePaths = None,
            backstage_system_kind: BackstageSystemKind = "component", strict: StrictOption = False,
            fmt: FormatOption = Format.table,
            allow_retire: Annotated[bool, typer.Option(
                "--allow-retire", help="Retire every active system missing from the catalog, however many.")] = False,
            max_retire_share: Annotated[float | None, typer.Option(
                "--max-retire-share", min=0.0, max=1.0,
                help="Share of the active systems an import may retire without --allow-retire "
                     "(default: PEAK_MAX_RETIRE_SHARE or 0.1).")] = None):
    """Import a catalog and/or an inventory; each in one transaction, nothing written on error.

    A catalog that would retire more than the allowed share of the active systems
    (10%, at least one) is refused, nothing written, unless --allow-retire."""
    if paths and not backstage:
        raise typer.BadParameter("file arguments are read only with --backstage")
    if catalog and backstage:
        raise typer.BadParameter("--catalog and --backstage each replace the whole catalog: give one")
    if catalog is None and inventory is None and not backstage:
        raise typer.BadParameter("give --catalog, --inventory, --backstage PATH... or a combination")
    from readiness.service import import_catalog_file, import_inventory_file

    engine = open_engine(db)
    if backstage:
        _import_backstage(engine, paths or [], backstage_system_kind, strict, fmt)
    if catalog:
        report = import_catalog_file(engine, catalog, allow_retire=allow_retire, max_retire_share=max_retire_share)
        typer.echo(f"catalog: {report.systems} systems ({len(report.created)} new, {len(report.retired)} retired), "
                   f"{report.teams} teams, {report.groups} groups, {report.domains} domains")
    if inventory:
        stored = import_inventory_file(engine, inventory)
        typer.echo(f"inventory: facts for {stored.systems} systems ({stored.changed} changed)")
        if stored.unknown_systems:
            say(f"warning: {counted(len(stored.unknown_systems), 'SystemID')} not in the catalog, ignored: "
                 f"{', '.join(stored.unknown_systems[:10])}")


def _import_backstage(engine, paths: list[Path], system_kind: str, strict: bool, fmt: Format) -> None:
    from readiness.backstage import import_backstage, summary_text

    if not paths:
        raise typer.BadParameter("--backstage needs at least one file or folder")
    report = import_backstage(engine, paths, system_kind=system_kind, strict=strict)
    typer.echo(json.dumps(report.as_dict(), indent=2) if fmt == Format.json else summary_text(report))
    if report.refused:
        count = len(report.catalog.problems)
        raise fail(f"--strict: the Backstage catalog has {count} problem{'' if count == 1 else 's'}; "
                   "nothing was written")


@core.command("evaluate")
def evaluate_(db: DbOption = None, rules_dir: RulesDirs = None, fail_under: FailUnder = None,
              fmt: FormatOption = Format.table,
              rule_timeout: Annotated[float | None, typer.Option(
                  "--rule-timeout", min=0.0, help="Seconds one rule call or rule module import may take; "
                  "past it the rule's result is an error (default: PEAK_RULE_TIMEOUT or 5; 0: no limit).")] = None,
              errors_pass: Annotated[bool, typer.Option(
                  "--errors-pass", help="Let --fail-under judge the company score alone; by default "
                  "error results count as failures that earn nothing.")] = False,
              full: Annotated[bool, typer.Option(
                  "--full", help="Evaluate every system; by default only systems whose facts, catalog entry, "
                  "waivers or rules changed since the last complete run are evaluated again.")] = False):
    """Evaluate every system against the rule pack and store the run.

    With --fail-under, error results (a rule that raised, exited, hung or failed to
    load) count as failures that earn nothing unless --errors-pass."""
    from readiness.locking import evaluation_lock
    from readiness.service import run_evaluation

    engine = open_engine(db)
    with evaluation_lock(engine) as taken:
        if not taken:
            raise fail("another evaluation is running (readiness serve or another evaluate); try again when it ends")
        try:
            report = run_evaluation(engine, rules_dirs=rules_dir or [], rule_timeout=rule_timeout, full=full)
        except SystemExit as exc:  # whatever reaches here must not end the gate with its exit code (0)
            raise fail(f"the evaluation was stopped by sys.exit({exc.code!r}); no run was stored") from None
    summary = {"run_id": report.run_id, "systems": report.systems, "results": report.results,
               "errors": report.errors, "company_score": report.company.score,
               "gate_score": report.gate_score,
               "points_outstanding": report.company.outstanding, "statuses": report.status_counts,
               "load_errors": report.load_errors}
    if fmt == Format.json:
        emit_json(summary)
    else:
        errors = f"{report.errors} error results, " if report.errors else ""
        counted = f" ({report.gate_score:.2f} counting the errors as failures)" if report.errors else ""
        typer.echo(f"run {report.run_id}: {report.systems} systems, {report.results} results, {errors}"
                   f"company score {report.company.score:.2f}{counted}, "
                   f"{report.company.outstanding:.1f} points outstanding")
        for error in report.load_errors:
            say(f"error: {error}")
        if report.errors:
            say(f"{report.errors} error result{'' if report.errors == 1 else 's'}: see `readiness export --format json`")
    if errors_pass or not report.errors:
        _gate(report.company.score, fail_under)
    else:
        _gate(report.gate_score, fail_under, errors=report.errors)


@core.command()
def score(level: Annotated[Level, typer.Option(help="Organisational level.")] = Level.company,
          fmt: FormatOption = Format.table, db: DbOption = None, fail_under: FailUnder = None,
          run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None,
          parent: Annotated[str | None, typer.Option(help="Only units under this parent key.")] = None):
    """Scores per unit at a level (0-100), worst first, with points outstanding and evidence confidence."""
    from readiness.quickreads import BASES, scores

    with open_reader(db) as reader:
        rows = scores(reader, level.value, run_id=run, parent=parent)
        company = scores(reader, "company", run_id=run) if fail_under is not None else []
    for row in rows:
        for basis in BASES:
            row[f"confidence_{basis}"] = row["confidence"].get(basis, 0.0)
    columns = ["level", "key", "name", "score", "points_outstanding", "systems", "failing_rules",
               *(f"confidence_{basis}" for basis in BASES)]
    emit(rows, fmt, columns)
    if company:
        _gate(company[0]["score"], fail_under)


@core.command()
def explain(system_id: str, db: DbOption = None, fmt: FormatOption = Format.table,
            rules_dir: RulesDirs = None,
            run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None):
    """Why a system is below 100: failing rules, evidence and how to fix each."""
    from readiness.quickreads import explain as explained

    with open_reader(db) as reader:
        report = explained(reader, system_id, rules_dirs=rules_dir or [], run_id=run)
    if fmt != Format.table:
        emit_json(report)
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
    from readiness.rulebook import load_rules
    from readiness.rulekit import describe_offset

    ruleset = load_rules(rules_dir or [])
    rows = [{"id": r.meta.id, "title": r.meta.title, "category": r.meta.category, "kind": r.meta.kind,
             "severity": r.meta.severity, "points": r.meta.points, "blocker": r.meta.blocker,
             "version": r.meta.version, "due": describe_offset(r.meta.due) if r.meta.due is not None else None,
             "rationale": r.meta.rationale, "remediation": r.meta.remediation, "link": r.meta.link,
             "origin": r.origin} for r in ruleset.rules]
    emit(rows, fmt, ["id", "category", "kind", "severity", "blocker", "title"])
    for error in ruleset.load_errors:
        say(f"error: {error}")


@rules_app.command("docs")
def rules_docs(out: Annotated[Path, typer.Option(help="Folder for the pages and index.md.")] = Path("docs/rules"),
               rules_dir: RulesDirs = None,
               check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 3 when the pages "
                                                   "differ from the pack (for CI).")] = False):
    """One Markdown page per rule (expected, why, fix, evaluation, bands, applicability, due date) and an index."""
    from readiness.rulebook import load_rules
    from readiness.ruledocs import write_docs

    ruleset = load_rules(rules_dir or [])
    for error in ruleset.load_errors:
        say(f"error: {error}")
    report = write_docs(ruleset, out, check=check)
    if check:
        if report.stale:
            say(f"{counted(len(report.stale), 'page')} out of date: {', '.join(p.name for p in report.stale)}; "
                 f"run `readiness rules docs --out {out}`")
            raise typer.Exit(EXIT_GATE_FAILED)
        typer.echo(f"{out}: {len(ruleset.rules)} rule pages up to date")
        return
    typer.echo(f"wrote {len(report.written) - 1} rule pages and {out / 'index.md'}"
               + (f"; removed {counted(len(report.removed), 'page')} of rules no longer in the pack" if report.removed else ""))
    if ruleset.load_errors:
        raise typer.Exit(EXIT_ERROR)


@core.command()
def export(fmt: Annotated[str, typer.Option("--format", help="json, csv, sarif or junit.")] = "json",
           db: DbOption = None, rules_dir: RulesDirs = None,
           out: Annotated[Path | None, typer.Option(help="Write here instead of stdout.")] = None,
           run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None):
    """Export a run's results for CI systems and code-scanning tools."""
    from readiness.export import export_run
    from readiness.rulebook import load_rules

    text = export_run(open_engine(db), load_rules(rules_dir or []), fmt, run_id=run)
    if out:
        out.write_text(text, encoding="utf-8")
        say(f"wrote {out}")
    else:
        typer.echo(text)


@core.command()
def runs(db: DbOption = None, fmt: FormatOption = Format.table,
         limit: Annotated[int, typer.Option(min=1)] = 20):
    """Recent evaluation runs: when, what they read, the company score."""
    from readiness.quickreads import as_of, list_runs

    with open_reader(db) as reader:
        recent = list_runs(reader, limit)
    rows = [{**r, "started_at": as_of(r["started_at"]), "inputs_hash": r["inputs_hash"][:12]} for r in recent]
    emit(rows, fmt, ["id", "started_at", "status", "systems", "errors", "company_score", "inputs_hash"])


@core.command()
def changes(since: Annotated[int, typer.Option(help="Compare against this run id.")], db: DbOption = None,
            fmt: FormatOption = Format.table,
            run: Annotated[int | None, typer.Option(help="Run id (default: the latest).")] = None):
    """What changed since run N: results that flipped and the biggest movers."""
    from readiness import reports

    diff = reports.changes(open_engine(db), since, run_id=run)
    if fmt == Format.json:
        emit_json(diff)
        return
    typer.echo(f"run {diff['from_run']} -> {diff['to_run']}: {counted(len(diff['results_changed']), 'result')} changed")
    emit(diff["movers"][:20], Format.table, ["level", "key", "name", "before", "after", "delta"])


@core.command()
def progress(db: DbOption = None, fmt: FormatOption = Format.table,
             season: Annotated[str | None, typer.Option(help="Season key (default: the current season).")] = None):
    """The season's score (over its scope) against its target date, and the projected date of reaching it."""
    from readiness import reports
    from readiness.seasons import current_season, get_season

    engine = open_engine(db)
    chosen = get_season(engine, season) if season else current_season(engine)
    if chosen is None:
        say("no season yet: create one with `readiness season create KEY --name NAME --starts-on YYYY-MM-DD "
             "--ends-on YYYY-MM-DD --target-date YYYY-MM-DD --as USER` (see docs/season.md)")
        raise typer.Exit(EXIT_ERROR)
    status = reports.progress(engine, season=chosen.key)
    if status is None:
        say(f"no evaluation run in season {chosen.key} yet: run `readiness evaluate`")
        raise typer.Exit(EXIT_ERROR)
    if fmt == Format.json:
        emit_json(status)
        return
    projected = status["projected_date"] or "not at the current trend"
    scope = "; ".join(f"{key} {', '.join(values)}" for key, values in status["scope"].items())
    typer.echo(f"{status['event']}{f' ({scope})' if scope else ''}: score {status['score']:.1f} of {status['target_score']:g} by "
               f"{status['target_date']} ({status['days_left']} days left); projected to reach it: {projected}; "
               f"{'on track' if status['on_track'] else 'NOT on track'}")


def main() -> None:
    # One of the core's own commands needs no plugin (its group is the core's too: plugins add to
    # `rules` and `collect`, so a group asked loads them).
    run_app(core if names_a_command(core, sys.argv[1:]) else whole_app(), errors=(ReadinessError, ValueError))


if __name__ == "__main__":
    main()
