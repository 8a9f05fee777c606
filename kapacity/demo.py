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
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from kapacity.calendar import shopping_peaks
from kapacity.runner import RunSettings, SystemSpec, run_catalog
from kapacity.sources import DirectorySource
from kapacity.synthetic import Level, synthesize

STEP = 300        # seconds, most systems
FLOW_STEP = 60    # seconds, the purchase flow
MIN_WEEKS = 4
MAX_WEEKS = 12    # past this the demo gets slow: the projection then says the peak is missing
DAYS_BEFORE_PEAK = 15  # ordinary days before Black Friday, to measure its uplift against


def weeks_back(today: date) -> int:
    """Weeks of history that reach the last Black Friday with two weeks of ordinary days before it."""
    fridays = [d for year in (today.year - 1, today.year) for d, n in shopping_peaks(year).items()
               if n == "Black Friday" and d < today]
    days = (today - max(fridays)).days + DAYS_BEFORE_PEAK
    return min(MAX_WEEKS, max(MIN_WEEKS, math.ceil(days / 7)))


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
    report = run_catalog(engine, DirectorySource(folder), settings=RunSettings(), executor=executor, now=now)
    return {"systems": len(specs), "from_inventory": len(levels), "weeks": weeks, "dependencies": len(ratios),
            "histories": str(folder), "first": (now - timedelta(weeks=weeks)).date().isoformat(),
            "report": report}


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
    return 0


if __name__ == "__main__":
    sys.exit(main())
