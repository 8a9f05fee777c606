"""Demo traffic for Kapacity: histories that agree with the demo's inventory, then a run.

Run after ``readiness demo`` (``make demo-data`` does): ``python -m kapacity.demo --db URL``.
Per system and service it writes ``<out>/histories/<system>/<service>.parquet``
built from the figures the inventory states (``forecast_baseline_rps`` and
``forecast_flas_rps`` of its compute services), so the forecasts Kapacity learns and
the replicas the inventory provisions come from the same numbers:

- the histories end now (the real time), so forecasts lie ahead and cover a flash
  sale asked for tomorrow;
- they reach back past last season's Black Friday, so the peak projection sees the
  uplift of last year's peak days and projects the coming season's;
- purchase-flow systems are minute-level (two-minute surges are visible), the
  others 5-minute (the demo stays quick and small).

Then ``kapacity run`` over them, for the current season's peak window. Running it
again rewrites the histories up to the new present and stores a new run.

Last season's story, so that ``readiness season report`` has something to show:
when the histories hold last season's Black Friday, the demo creates that season
(``peak-YYYY``, Black Friday to 31 December, as its readiness team would with
``readiness.create_season``) if it is absent, and stores a Kapacity run made *as of*
a moment before its peak window, from the histories up to that moment only (what
the team would have run then; the run's time is that moment), over the whole catalog:
the report compares each series with the forecast made before the window where one
exists, else with a later one, so a purchase-flow-only run (a third of the time)
would leave most rows compared with today's forecast. Then it closes that
season, so the current season of progress, the app and the rules stays the demo's
own (an open season whose window has not ended would otherwise come first).
``readiness season report peak-YYYY --histories demo/histories`` then compares
that forecast with the traffic the window saw, and perftest's breaking points with
its actual peak.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from kapacity.calendar import shopping_peaks
from kapacity.history import Series
from kapacity.runner import RunSettings, SystemSpec, run_catalog
from kapacity.sources import DirectorySource, HistorySource, SystemHistory
from kapacity.synthetic import Level, synthesize

STEP = 300        # seconds, most systems
FLOW_STEP = 60    # seconds, the purchase flow
MIN_WEEKS = 4
MAX_WEEKS = 12    # past this the demo gets slow: the projection then says the peak is missing
DAYS_BEFORE_PEAK = 15  # ordinary days before Black Friday, to measure its uplift against
PAST_LEAD = timedelta(days=7)      # last season's forecast was made a week before its Black Friday,
PAST_MIN_HISTORY = timedelta(days=14)  # from at least two weeks of traffic (else later, still before it)
PAST_HORIZON = 14 * 86400          # and reached a week into its peak window


def weeks_back(today: date) -> int:
    """Weeks of history that reach the last Black Friday with two weeks of ordinary days before it."""
    days = (today - last_black_friday(today)).days + DAYS_BEFORE_PEAK
    return min(MAX_WEEKS, max(MIN_WEEKS, math.ceil(days / 7)))


def last_black_friday(today: date) -> date:
    return max(d for year in (today.year - 1, today.year) for d, n in shopping_peaks(year).items()
               if n == "Black Friday" and d < today)


def past_season(today: date) -> dict:
    """Last season as its readiness team would have created it: Black Friday to 31 December."""
    friday = last_black_friday(today)
    return {"key": f"peak-{friday.year}", "name": f"Peak season {friday.year}", "starts_on": friday,
            "ends_on": date(friday.year, 12, 31), "target_date": date(friday.year, 10, 31)}


@dataclass(frozen=True)
class HistoryUntil:
    """A history source cut at ``until``: what ``source`` held at that moment (a run "as of" it)."""

    source: HistorySource
    until: datetime
    name: str = "until"

    def describe(self) -> str:
        return f"{self.source.describe()} up to {self.until:%Y-%m-%d %H:%M}"

    def fetch(self, system_id: str, services) -> SystemHistory:
        found = self.source.fetch(system_id, services)
        return SystemHistory(system_id, self._cut(found.total),
                             {k: c for k, v in found.services.items() if (c := self._cut(v)) is not None},
                             list(found.problems))

    def _cut(self, series: Series | None) -> Series | None:
        if series is None:
            return None
        end = int((self.until - datetime(1970, 1, 1)).total_seconds())
        n = max(0, (end - series.start) // series.step)
        return replace(series, values=np.asarray(series.values[:n])) if n else None


def inventory_levels(engine, system_ids: list[str]) -> dict[str, Level]:
    """Each system's peak-season Baseline and FLAS (requests/s), from its inventory's compute services."""
    import readiness

    stored = readiness.latest_facts(engine, system_ids)
    levels = {}
    for system_id in system_ids:
        inventory = stored.get(system_id, {}).get("inventory")
        compute = (getattr(inventory, "data", None) or {}).get("compute") or []
        services = {_service(c): float(c["forecast_baseline_rps"]) for c in compute
                    if c.get("forecast_baseline_rps")}
        flas = sum(float(c.get("forecast_flas_rps") or 0.0) for c in compute)
        if services:
            levels[system_id] = Level(sum(services.values()), flas or None, services)
    return levels


def _service(asset: dict) -> str:
    return str(asset.get("service") or str(asset.get("id", "")).rsplit("/", 1)[-1])


def run(engine, out: Path, *, now: datetime | None = None, executor: str = "serial") -> dict:
    """Write the histories and store a Kapacity run over them; returns what it did."""
    from readiness import active_systems
    from storage import utcnow

    now = now or utcnow()
    catalog = active_systems(engine)
    if not catalog:
        raise SystemExit("kapacity demo: the catalog has no systems; run `readiness demo` first")
    specs = [SystemSpec(s.system_id, tuple(sorted({str(x.get("name")) for x in s.services if x.get("name")})),
                        bool(s.purchase_flow), tuple(s.dependencies)) for s in catalog]
    levels = inventory_levels(engine, [s.system_id for s in specs])
    weeks = weeks_back(now.date())
    folder = out / "histories"
    ratios = synthesize(specs, folder, weeks=weeks, step=STEP, flow_step=FLOW_STEP, end=now, peaks=True,
                        levels=levels)
    past = past_season_run(engine, DirectorySource(folder), now - timedelta(weeks=weeks), now, executor=executor)
    report = run_catalog(engine, DirectorySource(folder), settings=RunSettings(), executor=executor, now=now)
    return {"past": past, "systems": len(specs), "from_inventory": len(levels), "weeks": weeks, "dependencies": len(ratios),
            "histories": str(folder), "first": (now - timedelta(weeks=weeks)).date().isoformat(),
            "report": report}


def past_season_run(engine, source: HistorySource, first: datetime, now: datetime, *,
                    executor: str = "serial") -> dict | None:
    """Last season (created if absent) and a Kapacity run made before its peak window from the
    history up to then; the season is closed afterwards when the demo created it. None when the
    histories (from ``first``) do not reach far enough before last season's window."""
    import readiness
    from kapacity import store

    season = past_season(now.date())
    begins = datetime.combine(season["starts_on"], time())
    made = max(begins - PAST_LEAD, datetime.combine((first + PAST_MIN_HISTORY).date() + timedelta(days=1), time()))
    if made >= begins:
        return None
    created = season["key"] not in {s.key for s in readiness.list_seasons(engine)}
    if created:
        team = sorted(user for user, roles in readiness.people(engine).items() if "readiness_team" in roles)
        if not team:
            return None
        readiness.create_season(engine, actor=team[0], now=made, **season)
    runs = [r for r in store.list_runs(engine, limit=500) if r["status"] == "complete" and r["started_at"] < begins]
    report = None
    if not runs:  # a rerun of the demo keeps the forecast it made then
        report = run_catalog(engine, HistoryUntil(source, made), settings=RunSettings(horizon_seconds=PAST_HORIZON),
                             executor=executor, now=made)
    if created:
        readiness.close_season(engine, season["key"], actor=team[0], now=now)
    return {"season": season["key"], "as_of": made, "report": report}


def main(argv: list[str] | None = None) -> int:
    from storage import database_url, get_engine, migrate

    parser = argparse.ArgumentParser(prog="python -m kapacity.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="Database URL (default: PEAK_DATABASE_URL or sqlite:///peak.db).")
    parser.add_argument("--out", default="demo", type=Path, help="Folder for the demo files (default: demo).")
    parser.add_argument("--executor", default="serial", help="serial or processes:N (default: serial).")
    args = parser.parse_args(argv)
    engine = get_engine(database_url(args.db))
    migrate(engine)
    done = run(engine, args.out, executor=args.executor)
    print(f"kapacity demo: {done['weeks']} weeks of traffic ({done['first']} to now) for {done['systems']} "
          f"systems ({done['from_inventory']} from their inventory figures) in {done['histories']}; "
          f"{done['report']}", file=sys.stderr)
    if done["past"] and done["past"]["report"]:
        print(f"kapacity demo: last season {done['past']['season']}: forecast as of "
              f"{done['past']['as_of']:%Y-%m-%d %H:%M}: {done['past']['report']} (see `readiness season report "
              f"{done['past']['season']} --histories {done['histories']}`)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
