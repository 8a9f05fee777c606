"""Readiness speed: import + evaluate + store + roll up, and the dashboard's roll-up query.

Targets (issue 2): 450 systems under 2 s on SQLite; 10,000 systems x the pack
under 30 s with peak memory under 1 GB; the company/domain/team roll-up query
at 10,000 systems under 100 ms. Each size runs in a fresh process so its peak
memory (max RSS) is its own. Usage: python benchmarks/readiness_speed.py [SIZES...]

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


def measure(systems: int) -> dict:
    """Runs inside the child process."""
    from readiness import (
        import_catalog_file,
        import_inventory_file,
        load_rules,
        run_evaluation,
        scores,
    )
    from readiness.demo import generate
    from readiness.service import open_database
    from storage import get_engine

    folder = Path(tempfile.mkdtemp())
    files = generate(folder / "files", systems=systems, seed=11, now=datetime(2026, 9, 1))
    engine = open_database(get_engine(f"sqlite:///{folder / 'bench.db'}"))
    ruleset = load_rules()
    cpu_before = time.process_time()
    started = time.perf_counter()
    import_catalog_file(engine, files.catalog)
    import_inventory_file(engine, files.inventories[-1][1])
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
        child = subprocess.run([sys.executable, __file__, "--child", str(size)], capture_output=True, text=True)
        if child.returncode != 0:
            print(child.stderr)
            return 1
        row = json.loads(child.stdout.strip().splitlines()[-1])
        target = TARGETS.get(size)
        good = (target is None or row["seconds"] <= target) and row["peak_mb"] <= MEMORY_LIMIT_MB
        if size >= 10_000:
            good = good and row["rollup_query_ms"] <= QUERY_LIMIT_MS
        ok &= good
        print(f"{row['systems']:>8} {row['rules']:>6} {row['results']:>9} {row['seconds']:>8} "
              f"{row['cpu_seconds']:>6} {target or '-':>7} {row['rollup_query_ms']:>10} {row['peak_mb']:>8}  {'ok' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        sys.exit(main([int(a) for a in sys.argv[1:]] or [450, 10_000]))
