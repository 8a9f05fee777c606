"""`readiness season create|update|list|show|close|report`: the peak season as data.

Writes are made by a proven actor (a personal API token, ``--as USER`` alone only on a
demo database: ``clikit.proven_actor``) and are allowed to the catalog's readiness team and
admins; every change is recorded (``season show`` prints the history). Exit
codes: 0 ok, 1 error or refusal, 2 usage.
"""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from clikit import (
    DbOption,
    Format,
    FormatOption,
    TokenFileOption,
    cli_app,
    emit,
    open_engine,
    proven_actor,
    reported,
    say,
)
from readiness.errors import PermissionDenied, ReadinessError

season_app = cli_app("Peak seasons: peak window, target, scope and milestones.")

Actor = Annotated[str | None, typer.Option("--as", help="Who makes the change (readiness team or admin in the "
                                                        "catalog); alone, without a token, only on a demo database.")]
Day = Annotated[str | None, typer.Option(help="A date, YYYY-MM-DD.")]
Milestones = Annotated[list[str] | None, typer.Option(
    "--milestone", help="CATEGORY=OFFSET or rule:RULE_ID=OFFSET, e.g. capacity=-6w or rule:ddos_fire_drill=-10d; "
                        "OFFSET 'default' goes back to the rule's own (repeatable).")]
Domains = Annotated[list[str] | None, typer.Option("--domain", help="Scope: only these domains (repeatable).")]
Tiers = Annotated[list[str] | None, typer.Option("--tier", help="Scope: only these tiers (repeatable).")]
Classes = Annotated[list[str] | None, typer.Option("--traffic-class", help="Scope: FLAS or Baseline (repeatable).")]
RulesDirs = Annotated[list[Path] | None, typer.Option("--rules-dir", help="Extra folder of rule modules (repeatable).")]
COLUMNS = ["key", "name", "starts_on", "ends_on", "target_date", "target_score", "freeze_on", "closed_at"]


def _reported(command):
    """Refusals as `refused: ...`, other readiness errors as `error: ...`; exit 1."""
    return reported(ReadinessError)(reported(PermissionDenied, label="refused")(command))


def _day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=f"--{field}") from None


def _milestones(texts: list[str] | None, rules_dir: list[Path] | None) -> dict[str, int | None]:
    """Parse --milestone options; a rule named must be in the pack (so a typo is not silently kept)."""
    from readiness.errors import InputError
    from readiness.rulebook import load_rules
    from readiness.seasons import RULE_PREFIX, parse_milestone

    parsed = dict(parse_milestone(text) for text in texts or [])
    named = {key.removeprefix(RULE_PREFIX) for key in parsed if key.startswith(RULE_PREFIX)}
    if named:
        known = {rule.meta.id for rule in load_rules(rules_dir or []).rules}
        if named - known:
            raise InputError(f"--milestone: no rule {sorted(named - known)} in the pack (see `readiness rules list`)")
    return parsed


def _scope(domains, tiers, classes) -> dict[str, list[str]] | None:
    if domains is None and tiers is None and classes is None:
        return None
    return {"domains": domains or [], "tiers": tiers or [], "traffic_classes": classes or []}


def _show(season, fmt: Format) -> None:
    from readiness.seasons import season_record

    record = season_record(season)
    if fmt == Format.json:
        typer.echo(json.dumps(record, indent=2))
    else:
        emit([record], fmt, COLUMNS + ["scope", "milestones"])


@season_app.command("create")
@_reported
def create(key: Annotated[str, typer.Argument(help="Season key, e.g. peak-2027.")],
           name: Annotated[str, typer.Option(help="Name shown on reports.")],
           starts_on: Annotated[str, typer.Option("--starts-on", help="Peak window start (YYYY-MM-DD).")],
           ends_on: Annotated[str, typer.Option("--ends-on", help="Peak window end (YYYY-MM-DD).")],
           target_date: Annotated[str, typer.Option("--target-date", help="Target score due (YYYY-MM-DD).")],
           actor: Actor = None, token_file: TokenFileOption = None,
           target_score: Annotated[float, typer.Option("--target-score")] = 100.0,
           freeze_on: Annotated[str | None, typer.Option("--freeze-on", help="Change freeze from (YYYY-MM-DD).")] = None,
           domain: Domains = None, tier: Tiers = None, traffic_class: Classes = None,
           milestone: Milestones = None, rules_dir: RulesDirs = None, db: DbOption = None,
           fmt: FormatOption = Format.table):
    """Create a season: peak window, target date and score, optional freeze, scope and milestones."""
    from readiness.seasons import create_season

    engine = open_engine(db)
    season = create_season(engine, actor=proven_actor(engine, actor, token_file), key=key, name=name,
                           starts_on=_day(starts_on, "starts-on"), ends_on=_day(ends_on, "ends-on"),
                           target_date=_day(target_date, "target-date"), target_score=target_score,
                           freeze_on=_day(freeze_on, "freeze-on"), scope=_scope(domain, tier, traffic_class),
                           milestones=_milestones(milestone, rules_dir))
    _show(season, fmt)


@season_app.command("update")
@_reported
def update(key: Annotated[str, typer.Argument(help="Season key.")], actor: Actor = None,
           token_file: TokenFileOption = None,
           name: Annotated[str | None, typer.Option()] = None,
           starts_on: Annotated[str | None, typer.Option("--starts-on")] = None,
           ends_on: Annotated[str | None, typer.Option("--ends-on")] = None,
           target_date: Annotated[str | None, typer.Option("--target-date")] = None,
           target_score: Annotated[float | None, typer.Option("--target-score")] = None,
           freeze_on: Annotated[str | None, typer.Option("--freeze-on")] = None,
           domain: Domains = None, tier: Tiers = None, traffic_class: Classes = None,
           milestone: Milestones = None, rules_dir: RulesDirs = None, db: DbOption = None,
           fmt: FormatOption = Format.table):
    """Change an open season; options not given stay as they are (a scope option replaces the whole scope)."""
    from readiness.seasons import update_season

    changes = {"name": name, "starts_on": _day(starts_on, "starts-on"), "ends_on": _day(ends_on, "ends-on"),
               "target_date": _day(target_date, "target-date"), "target_score": target_score,
               "freeze_on": _day(freeze_on, "freeze-on"), "scope": _scope(domain, tier, traffic_class)}
    engine = open_engine(db)
    who = proven_actor(engine, actor, token_file)
    season = update_season(engine, key, actor=who, milestones=_milestones(milestone, rules_dir),
                           **{field: value for field, value in changes.items() if value is not None})
    _show(season, fmt)


@season_app.command("close")
@_reported
def close(key: Annotated[str, typer.Argument(help="Season key.")], actor: Actor = None,
          token_file: TokenFileOption = None, db: DbOption = None, fmt: FormatOption = Format.table):
    """Close a season after its peak: it stops being current and can no longer change."""
    from readiness.seasons import close_season

    engine = open_engine(db)
    _show(close_season(engine, key, actor=proven_actor(engine, actor, token_file)), fmt)


@season_app.command("list")
@_reported
def list_(db: DbOption = None, fmt: FormatOption = Format.table):
    """Every season, the latest peak first."""
    from readiness.seasons import list_seasons, season_record

    emit([season_record(s) for s in list_seasons(open_engine(db))], fmt, COLUMNS)


@season_app.command("show")
@_reported
def show(key: Annotated[str, typer.Argument(help="Season key.")], db: DbOption = None,
         rules_dir: RulesDirs = None, fmt: FormatOption = Format.table):
    """A season, the due date of each scheduled rule in it, and its change history."""
    from readiness.rulebook import load_rules
    from readiness.seasons import due_dates, get_season, season_history, season_record

    engine = open_engine(db)
    season = get_season(engine, key)
    due = due_dates(season, (rule.meta for rule in load_rules(rules_dir or []).rules))
    history = season_history(engine, key)
    if fmt == Format.json:
        typer.echo(json.dumps({**season_record(season), "due_dates": {r: d.isoformat() for r, d in sorted(due.items())},
                               "history": history}, indent=2, default=str))
        return
    _show(season, fmt)
    typer.echo("\nDue dates:")
    emit([{"rule_id": r, "due": d.isoformat()} for r, d in sorted(due.items(), key=lambda i: (i[1], i[0]))],
          Format.table, ["rule_id", "due"])
    typer.echo("\nHistory:")
    emit([{**change, "at": f"{change['at']:%Y-%m-%d %H:%M}", "changed": _changed(change)} for change in history],
          Format.table, ["at", "actor", "action", "changed"])


def _changed(change: dict) -> str:
    before, after = change["before"] or {}, change["after"] or {}
    fields = [f"{k}: {before.get(k)} -> {after.get(k)}" for k in after if before and before.get(k) != after.get(k)]
    return "; ".join(fields) if before else "created"


# The report reads contexts above the core (governance's waivers, Kapacity's forecasts, perftest's
# breaking points), so the core asks for it through this entry-point group: one function
# f(engine, key, *, fmt, histories, rules_dirs) -> str (registered by operations).
SEASON_REPORT = "peak_readiness.season_report"


class ReportFormat(StrEnum):
    markdown = "markdown"
    html = "html"


def _report_builder():
    from importlib.metadata import entry_points

    from readiness.errors import InputError

    found = sorted(entry_points(group=SEASON_REPORT), key=lambda ep: ep.name)
    if not found:
        raise InputError("the season report is not installed (the operations package registers it): "
                         "reinstall the platform with `pip install -e .`")
    return found[0].load()


@season_app.command("report")
@_reported
def report(key: Annotated[str, typer.Argument(help="Season key.")],
           fmt: Annotated[ReportFormat, typer.Option("--format", help="markdown or html.")] = ReportFormat.markdown,
           out: Annotated[Path | None, typer.Option("--out", help="Write the report to this file.")] = None,
           histories: Annotated[Path | None, typer.Option(
               "--histories", envvar="KAPACITY_HISTORY_DIR",
               help="Folder of traffic histories (the one `kapacity run` reads) holding the peak window; "
                    "default: KAPACITY_HISTORY_DIR.")] = None,
           rules_dir: RulesDirs = None, db: DbOption = None):
    """After the peak: final and per-milestone scores, waivers used, forecast and breaking points
    against the actual peak."""
    from readiness.errors import InputError

    text = _report_builder()(open_engine(db), key, fmt=fmt.value, histories=histories, rules_dirs=rules_dir or [])
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write the report ({exc.strerror or exc})") from None
    say(f"wrote the report of season {key} to {out}")
