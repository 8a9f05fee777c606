"""Use cases the CLI, the app and the scheduler share: import, collect, evaluate, demo."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from readiness.catalog import ImportReport, gc_paused, import_catalog, load_catalog_file, people
from readiness.engine import Overlay, RunReport, evaluate
from readiness.facts import FactSource, StoreReport, collect_and_store, store_facts
from readiness.inventory import InventorySource
from readiness.models import EvaluationRun
from readiness.rulebook import RuleSet, load_rules
from readiness.seasons import create_season, current_season, due_dates, list_seasons, season_facts
from storage import migrate, utcnow


def open_database(engine: Engine) -> Engine:
    """Bring the schema to the latest revision; cheap when it already is."""
    migrate(engine)
    return engine


def import_catalog_file(engine: Engine, path: Path, *, allow_retire: bool = False,
                        max_retire_share: float | None = None) -> ImportReport:
    """Import a catalog file; one that would retire more than the allowed share of the
    active systems is refused (MassRetirement) unless ``allow_retire``."""
    return import_catalog(engine, load_catalog_file(path), origin=str(path), role_hooks=_hooks(ROLE_CHANGES),
                          allow_retire=allow_retire, max_retire_share=max_retire_share)


def import_inventory_file(engine: Engine, path: Path, *, now: datetime | None = None) -> StoreReport:
    """Validate the whole file first (nothing stored if any asset is invalid), then store."""
    collected = InventorySource(Path(path)).collect(engine)  # raises InputError before anything is written
    return store_facts(engine, collected, now=now)


def collect(engine: Engine, sources: Sequence[FactSource], *, now: datetime | None = None,
            seen_within: timedelta | None = None) -> list[StoreReport]:
    """Collect from every source; a failing one is reported and the rest go on.
    ``seen_within``: see ``readiness.facts.store_facts``."""
    return [collect_and_store(engine, source, now=now, seen_within=seen_within) for source in sources]


# Hooks other contexts plug into the core through entry points, so it imports none of them:
OVERLAYS = "peak_readiness.overlays"  # f(engine, now) -> overlays applied after evaluation (waivers)
EVALUATION_SOURCES = "peak_readiness.evaluation_sources"  # f(engine, now) -> sources refreshed first
DEMO_WEEK = "peak_readiness.demo_week"  # f(engine, out_dir, catalog, inventory, *, now): each demo week
DEMO_SEED = "peak_readiness.demo_seed"  # f(engine, now, *, ruleset): once the demo history exists
ROLE_CHANGES = "peak_readiness.role_changes"  # f(session, changes, *, now, actor): in a catalog import


def _hooks(group: str) -> list:
    from importlib.metadata import entry_points

    return [ep.load() for ep in sorted(entry_points(group=group), key=lambda ep: ep.name)]


def default_overlays(engine: Engine, now: datetime) -> list[Overlay]:
    """What changes outcomes after evaluation (waivers, from the governance context)."""
    return [overlay for hook in _hooks(OVERLAYS) for overlay in hook(engine, now)]


# The internal sources are collected at each evaluation's own `now`, just before it: their facts are
# never stale in it however their sighting lags, as long as the lag stays under their maximum age
# (366 days for the attestations). So an unchanged version's sighting is moved at most once an hour,
# not rewritten in every run (10,000 rows: a third of an incremental run on PostgreSQL). What shows
# the lag: `readiness facts SYSTEM` prints their "last seen" up to an hour early.
INTERNAL_SEEN_WITHIN = timedelta(hours=1)


def internal_sources(engine: Engine, now: datetime) -> list[FactSource]:
    """Sources kept in our own tables, refreshed before every evaluation (review states)."""
    return [source for hook in _hooks(EVALUATION_SOURCES) for source in hook(engine, now)]


def run_evaluation(engine: Engine, *, rules_dirs: Sequence[Path] = (), ruleset: RuleSet | None = None,
                   now: datetime | None = None, rule_timeout: float | None = None,
                   full: bool = False) -> RunReport:
    """Evaluate and store a run under the current season (its milestones give the scheduled
    rules' due dates). ``rule_timeout``: seconds per rule call and per rule module import
    (None: PEAK_RULE_TIMEOUT or the default; 0: no limit). Incremental unless ``full``:
    systems whose inputs did not change keep the previous run's results (``engine.evaluate``)."""
    now = now or utcnow()
    ruleset = ruleset or load_rules(rules_dirs, time_limit=rule_timeout)
    with gc_paused():  # 10,000 facts and rows of small acyclic objects: the collector's scans were half
        collect(engine, internal_sources(engine, now), now=now, seen_within=INTERNAL_SEEN_WITHIN)
    season = current_season(engine, now.date())
    return evaluate(engine, ruleset, now=now, overlays=default_overlays(engine, now),
                    peak_event=season.key if season else None, rule_timeout=rule_timeout,
                    due_dates=due_dates(season, (rule.meta for rule in ruleset.rules)),
                    season=season_facts(season) if season else None, full=full)


def _demo_season(engine: Engine, season: dict, now: datetime) -> None:
    """The demo's season, created as its readiness team would (`readiness season create`)."""
    if any(s.key == season["key"] for s in list_seasons(engine)):
        return
    team = sorted(user for user, roles in people(engine).items() if "readiness_team" in roles)
    create_season(engine, actor=team[0], now=now, **season)


@dataclass
class DemoReport:
    catalog: ImportReport
    runs: list[RunReport]
    files: Path


def run_demo(engine: Engine, out_dir: Path, *, systems: int = 450, seed: int = 7,
             now: datetime | None = None) -> DemoReport:
    """Generate the demo files, import them like real data, evaluate.

    On an empty database it replays the weekly inventories to build a history;
    on one that already has runs it imports the latest files and evaluates once,
    so running it twice gives the same scores without rewriting the past.
    """
    from identity import mark_demo
    from readiness.demo import generate, peak_event_for

    now = now or utcnow()
    files = generate(out_dir, systems=systems, seed=seed, now=now)
    mark_demo(engine)  # a demo database: `--as NAME` alone is trusted there (docs/security.md)
    report = import_catalog_file(engine, files.catalog, allow_retire=True)  # the demo replaces its own organisation
    _demo_season(engine, peak_event_for(now.date()), now)
    ruleset = load_rules()
    with engine.connect() as connection:
        has_runs = connection.execute(select(func.count()).select_from(EvaluationRun)).scalar() > 0
    runs = []
    replay = files.inventories[-1:] if has_runs else files.inventories
    for at, inventory in replay:
        at = now if has_runs else at
        import_inventory_file(engine, inventory, now=at)
        for hook in _hooks(DEMO_WEEK):  # e.g. Kubernetes manifests mirroring this week's inventory
            hook(engine, out_dir, files.catalog, inventory, now=at)
        runs.append(run_evaluation(engine, ruleset=ruleset, now=at))
    if not has_runs:
        for hook in _hooks(DEMO_SEED):  # e.g. reviews and waivers among the latest run's failures
            hook(engine, now, ruleset=ruleset)
        runs.append(run_evaluation(engine, ruleset=ruleset, now=now))
    return DemoReport(report, runs, out_dir)
