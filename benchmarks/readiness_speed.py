"""Readiness speed at enterprise scale (issue 13): full, incremental and the write lock.

Prints every figure of issue 13's table:

| measure | target |
|---|---|
| full run, 10,000 systems x 60 rules, SQLite | < 8 s wall, < 600 MB peak |
| the same on PostgreSQL | < 8 s |
| incremental run, 1 system changed, 10,000 systems | < 1 s |
| longest SQLite write-lock hold during a full 10,000-system run | < 2 s |
| 450 systems full run | < 0.6 s |

A "run" is ``run_evaluation`` (governance sources and overlays included) on an
imported catalog and inventory; the import is timed and printed beside it. Each
size and database runs in a fresh process, so its peak memory (max RSS) is its own;
the demo files are generated beforehand in another process. The write-lock hold
is measured by a concurrent writer process that, all through the full SQLite run,
takes the write lock (BEGIN IMMEDIATE), writes one row and commits, timestamping
how long each attempt waited: its longest wait is the longest hold by the run.
The company/domain/team roll-up query (issue 2, < 100 ms) is printed too.

Usage: python benchmarks/readiness_speed.py [SIZES...]   (default 450 10000)
Set PEAK_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test,
used only to create and drop a scratch database) or PEAK_BENCH_POSTGRES=0 to skip it.

Wall-clock seconds are judged; CPU seconds are printed beside them because on a
shared machine they tell the code's own cost when the wall clock does not.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

FULL_TARGETS = {450: 0.6, 10_000: 8.0}
INCREMENTAL_TARGET = 1.0
LOCK_TARGET = 2.0
MEMORY_LIMIT_MB = 600
QUERY_LIMIT_MS = 100
NOW = datetime(2026, 9, 1, 12, 0)
POSTGRES_ADMIN = os.environ.get("PEAK_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def generate_files(systems: int, folder: Path) -> tuple[Path, Path]:
    """Runs in its own child process: the demo catalog and latest inventory."""
    from readiness.demo import generate

    files = generate(folder / "files", systems=systems, seed=11, now=NOW)
    return files.catalog, files.inventories[-1][1]


def measure(systems: int, url: str, catalog: Path, inventory: Path) -> dict:
    """Runs inside the measured child process: import, full run, incremental run."""
    from readiness import (
        import_catalog_file,
        import_inventory_file,
        load_rules,
        run_evaluation,
        scores,
    )
    from readiness.service import open_database
    from storage import get_engine

    engine = open_database(get_engine(url))
    ruleset = load_rules()
    started = time.perf_counter()
    import_catalog_file(engine, catalog)
    import_inventory_file(engine, inventory, now=NOW)
    imported = time.perf_counter() - started

    cpu_before, started, run_from = time.process_time(), time.perf_counter(), time.time()
    full = run_evaluation(engine, ruleset=ruleset, now=NOW, full=True)
    full_s, full_cpu, run_to = time.perf_counter() - started, time.process_time() - cpu_before, time.time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    changed = _one_system_changed(inventory)
    import_inventory_file(engine, changed, now=NOW + timedelta(minutes=5))
    cpu_before, started = time.process_time(), time.perf_counter()
    incremental = run_evaluation(engine, ruleset=ruleset, now=NOW + timedelta(minutes=10))
    incremental_s, incremental_cpu = time.perf_counter() - started, time.process_time() - cpu_before

    query_ms = []
    for _ in range(7):
        t = time.perf_counter()
        for level in ("company", "domain", "team"):
            scores(engine, level)
        query_ms.append((time.perf_counter() - t) * 1000)
    return {"systems": systems, "rules": len(ruleset.rules), "results": full.results,
            "import_s": round(imported, 2), "full_s": round(full_s, 2), "full_cpu_s": round(full_cpu, 2),
            "peak_mb": round(peak, 1), "incremental_s": round(incremental_s, 3),
            "incremental_cpu_s": round(incremental_cpu, 3),
            "incremental_evaluated": incremental.evaluated, "same_score": incremental.company == full.company or
            incremental.evaluated > 0, "rollup_query_ms": round(statistics.median(query_ms), 1), "run_from": run_from, "run_to": run_to}


def _one_system_changed(inventory: Path) -> Path:
    doc = json.loads(inventory.read_text())
    asset = next(a for a in doc["assets"] if a.get("type") == "compute")
    asset["replicas"] = (asset.get("replicas") or 1) + 1
    out = inventory.with_name("inventory-one-changed.json")
    out.write_text(json.dumps(doc))
    return out


def writer(db: Path, stop: Path, out: Path) -> None:
    """The concurrent writer: takes the write lock over and over, timestamping each wait."""
    connection = sqlite3.connect(db, timeout=120, isolation_level=None)
    connection.execute("CREATE TABLE IF NOT EXISTS bench_writer (at REAL)")
    waits = []  # (asked, got) as wall-clock times, to be matched with the run's start and end
    while not stop.exists():
        asked = time.time()
        connection.execute("BEGIN IMMEDIATE")
        waits.append((asked, time.time()))
        connection.execute("INSERT INTO bench_writer VALUES (?)", (time.time(),))
        connection.execute("COMMIT")
        time.sleep(0.01)
    out.write_text(json.dumps(waits))


def main(sizes: list[int]) -> int:
    print(f"Figures from a shared 2-core machine (load average {os.getloadavg()[0]:.2f} at the start); "
          "CPU seconds show the code's own cost.")
    print(f"{'systems':>8} {'db':>8} {'results':>8} {'import s':>8} {'full s':>7} {'cpu s':>6} {'target':>6} "
          f"{'peak MB':>8} {'1-changed s':>11} {'cpu s':>6} {'lock s':>7} {'rollup ms':>9}  verdict")
    ok = True
    for size in sizes:
        folder = Path(tempfile.mkdtemp())
        made = _child("--generate", str(size), str(folder))
        if made is None:
            return 1
        for db in _databases(size):
            url, cleanup = _database(db, folder)
            lock = None
            try:
                if db == "sqlite":
                    db_file = Path(url.removeprefix("sqlite:///"))
                    _child("--migrate", url)
                    stop, out = folder / "stop", folder / "writer.json"
                    stop.unlink(missing_ok=True)
                    process = subprocess.Popen([sys.executable, __file__, "--writer", str(db_file), str(stop), str(out)])
                    row = _child("--measure", str(size), url, *made)
                    stop.touch()
                    process.wait(timeout=120)
                    if row is not None and out.exists():  # waits that overlapped the full run
                        lock = round(max((got - asked for asked, got in json.loads(out.read_text())
                                          if got >= row["run_from"] and asked <= row["run_to"]), default=0.0), 3)
                else:
                    row = _child("--measure", str(size), url, *made)
            finally:
                cleanup()
            if row is None:
                return 1
            target = FULL_TARGETS.get(size)
            good = target is None or row["full_s"] <= target
            if db == "sqlite":
                good = good and row["peak_mb"] <= MEMORY_LIMIT_MB and (lock is None or lock <= LOCK_TARGET)
            if size >= 10_000:
                good = good and row["incremental_s"] <= INCREMENTAL_TARGET and row["rollup_query_ms"] <= QUERY_LIMIT_MS
            ok &= good
            print(f"{size:>8} {db:>8} {row['results']:>8} {row['import_s']:>8} {row['full_s']:>7} "
                  f"{row['full_cpu_s']:>6} {target or '-':>6} {row['peak_mb']:>8} "
                  f"{row['incremental_s']:>11} {row['incremental_cpu_s']:>6} {lock if lock is not None else '-':>7} "
                  f"{row['rollup_query_ms']:>9}  "
                  f"{'ok' if good else 'MISSED'}", flush=True)
    print(f"targets: full run {FULL_TARGETS} s; peak {MEMORY_LIMIT_MB} MB (SQLite); incremental run with one "
          f"system changed < {INCREMENTAL_TARGET} s at 10,000; longest SQLite write-lock hold < {LOCK_TARGET} s "
          f"(the concurrent writer's longest wait); roll-up query < {QUERY_LIMIT_MS} ms at 10,000; "
          f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0 if ok else 1


def _databases(size: int) -> list[str]:
    if size < 10_000 or os.environ.get("PEAK_BENCH_POSTGRES") == "0":
        return ["sqlite"]
    return ["sqlite", "postgres"]


def _database(kind: str, folder: Path):
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", lambda: None
    from sqlalchemy import create_engine, text

    name = f"peak_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def _child(*args: str):
    """Run this file in a fresh process and return the JSON it prints last (None on failure)."""
    child = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if child.returncode != 0:
        print(child.stderr)
        return None
    lines = child.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "--generate":
        print(json.dumps([str(p) for p in generate_files(int(sys.argv[2]), Path(sys.argv[3]))]))
    elif len(sys.argv) > 2 and sys.argv[1] == "--migrate":
        from readiness.service import open_database
        from storage import get_engine

        open_database(get_engine(sys.argv[2]))
        print("{}")
    elif len(sys.argv) > 4 and sys.argv[1] == "--writer":
        writer(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    elif len(sys.argv) > 5 and sys.argv[1] == "--measure":
        print(json.dumps(measure(int(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))))
    else:
        sys.exit(main([int(a) for a in sys.argv[1:]] or [450, 10_000]))
