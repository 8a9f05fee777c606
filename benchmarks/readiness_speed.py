"""Readiness speed: import + evaluate + store + roll up, and the dashboard's roll-up query.

Targets (issue 2): 450 systems under 2 s on SQLite; 10,000 systems x the pack
under 30 s with peak memory under 1 GB; the company/domain/team roll-up query
at 10,000 systems under 100 ms. Each size runs in a fresh process so its peak
memory (max RSS) is its own; the demo files it imports are generated beforehand
in another process, so their generator's memory is not counted as the product's.
Usage: python benchmarks/readiness_speed.py [SIZES...]

Wall-clock seconds are judged; CPU seconds are printed beside them because
on a shared machine they tell the code's own cost when the wall clock does not.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

TARGETS = {450: 2.0, 10_000: 30.0}
MEMORY_LIMIT_MB = 1024
QUERY_LIMIT_MS = 100


def generate_files(systems: int, folder: Path) -> tuple[Path, Path]:
    """Runs in its own child process: the demo catalog and latest inventory."""
    from readiness.demo import generate

    files = generate(folder / "files", systems=systems, seed=11, now=datetime(2026, 9, 1))
    return files.catalog, files.inventories[-1][1]


def measure(systems: int, catalog: Path, inventory: Path) -> dict:
    """Runs inside the measured child process."""
    from readiness import (
        import_catalog_file,
        import_inventory_file,
        load_rules,
        run_evaluation,
        scores,
    )
    from readiness.service import open_database
    from storage import get_engine

    engine = open_database(get_engine(f"sqlite:///{catalog.parent.parent / 'bench.db'}"))
    ruleset = load_rules()
    cpu_before = time.process_time()
    started = time.perf_counter()
    import_catalog_file(engine, catalog)
    import_inventory_file(engine, inventory)
    report = run_evaluation(engine, ruleset=ruleset)
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    query_ms = []
    for _ in range(7):
        t = time.perf_counter()
        for level in ("company", "domain", "team"):
            scores(engine, level)
        query_ms.append((time.perf_counter() - t) * 1000)
    return {"systems": systems, "rules": len(ruleset.rules), "results": report.results,
            "seconds": round(total, 2), "cpu_seconds": round(cpu, 2), "rollup_query_ms": round(statistics.median(query_ms), 1),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(sizes: list[int]) -> int:
    print(f"{'systems':>8} {'rules':>6} {'results':>9} {'seconds':>8} {'cpu s':>6} {'target':>7} {'rollup ms':>10} {'peak MB':>8}  verdict")
    ok = True
    for size in sizes:
        folder = Path(tempfile.mkdtemp())
        made = _child("--generate", str(size), str(folder))
        if made is None:
            return 1
        row = _child("--measure", str(size), *made)
        if row is None:
            return 1
        target = TARGETS.get(size)
        good = (target is None or row["seconds"] <= target) and row["peak_mb"] <= MEMORY_LIMIT_MB
        if size >= 10_000:
            good = good and row["rollup_query_ms"] <= QUERY_LIMIT_MS
        ok &= good
        print(f"{row['systems']:>8} {row['rules']:>6} {row['results']:>9} {row['seconds']:>8} "
              f"{row['cpu_seconds']:>6} {target or '-':>7} {row['rollup_query_ms']:>10} {row['peak_mb']:>8}  {'ok' if good else 'MISSED'}")
    return 0 if ok else 1


def _child(*args: str):
    """Run this file in a fresh process and return the JSON it prints last (None on failure)."""
    child = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if child.returncode != 0:
        print(child.stderr)
        return None
    return json.loads(child.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--generate":
        print(json.dumps([str(p) for p in generate_files(int(sys.argv[2]), Path(sys.argv[3]))]))
    elif len(sys.argv) > 4 and sys.argv[1] == "--measure":
        print(json.dumps(measure(int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))))
    else:
        sys.exit(main([int(a) for a in sys.argv[1:]] or [450, 10_000]))
