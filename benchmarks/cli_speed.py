"""CLI speed: how long a person waits for `--help` and for a quick read, on the 450-system demo.

Targets (issue 19): every CLI's `--help` under 0.3 s; the reads `readiness runs`, `score` and
`explain` under 0.5 s against the demo database (450 systems, its weekly runs) in SQLite, the
product's embedded default, which the reads open through the standard library's sqlite3. Each
command runs in a fresh process, as a person types it, several times, in rounds (every command
once per round, so that all meet the same share of a shared machine's load); the median
wall-clock time is judged, the median CPU time (user + system of the child) printed beside it
because on a shared machine it tells the command's own cost when the wall clock does not.

Usage: python benchmarks/cli_speed.py [--db URL] [--runs N]
Without --db it builds the demo in a temporary folder first (`readiness demo`, about 30 s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
HELP_TARGET = 0.3
READ_TARGET = 0.5


# As a person runs an installed command: bytecode cached (the warm-up run writes it even where
# PYTHONDONTWRITEBYTECODE is set, as in CI and these sessions), a fixed terminal width.
ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "COLUMNS": "100"}


def _timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of a command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


_READ_FLOOR = ("import typer\nfrom pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationInfo\n"
               "TypeAdapter(int | None)")


def _commands(db: str) -> list[tuple[str, list[str], float | None]]:
    worst = json.loads(subprocess.run([str(BIN / "readiness"), "score", "--level", "system", "--format", "json",
                                       "--db", db], capture_output=True, text=True, check=True).stdout)[0]["key"]
    return [
        *((f"{cli} --help", [str(BIN / cli), "--help"], HELP_TARGET)
          for cli in ("readiness", "kapacity", "perftest", "flashsales")),
        ("readiness runs", [str(BIN / "readiness"), "runs", "--db", db], READ_TARGET),
        ("readiness score", [str(BIN / "readiness"), "score", "--db", db], READ_TARGET),
        ("readiness score --level system", [str(BIN / "readiness"), "score", "--level", "system", "--db", db],
         READ_TARGET),
        (f"readiness explain {worst}", [str(BIN / "readiness"), "explain", worst, "--db", db], READ_TARGET),
        # No target: what a command pays before our code runs. `--help`: the interpreter and typer.
        # A read: typer also validates each option's value with a pydantic TypeAdapter, importing
        # these names of pydantic (typer/_adapters.py; pydantic loads its modules on first use, so
        # the floor imports them and builds one). The reads on SQLite import no SQLAlchemy, SQLModel
        # or table models (readiness.quickreads on sqlite3); tests/clikit/test_startup.py guards it.
        ("floor of --help: python + typer", [sys.executable, "-c", "import typer"], None),
        ("floor of a read: python + typer + pydantic", [sys.executable, "-c", _READ_FLOOR], None),
    ]


def _demo(folder: Path) -> str:
    db = f"sqlite:///{folder / 'demo.db'}"
    print(f"building the 450-system demo in {folder} (readiness demo, then evaluate) ...", file=sys.stderr)
    for argv in ([str(BIN / "readiness"), "demo", "--db", db, "--out", str(folder / "files")],
                 [str(BIN / "readiness"), "evaluate", "--db", db]):
        subprocess.run(argv, check=True, capture_output=True)
    return db


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="An evaluated demo database (default: build one).")
    parser.add_argument("--runs", type=int, default=7, help="Runs per command (the median is judged).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or _demo(Path(tmp))
        commands = _commands(db)
        for _, argv, _ in commands:  # warm the file cache and the bytecode once
            _timed(argv)
        print(f"{'command':<44} {'median s':>9} {'CPU s':>7} {'target':>7}  verdict   ({args.runs} runs each)")
        # In rounds, each command once per round: a shared machine's load comes and goes over a
        # minute, and every command (and the floors) should meet the same share of it.
        timings = [[_timed(argv) for _, argv, _ in commands] for _ in range(args.runs)]
        missed = 0
        for index, (label, _, target) in enumerate(commands):
            walls, cpus = zip(*(timing[index] for timing in timings), strict=True)
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            if target is None:
                print(f"{label:<44} {wall:>9.3f} {cpu:>7.3f} {'-':>7}  (reference)")
                continue
            verdict = "ok" if wall < target else "OVER"
            missed += wall >= target
            print(f"{label:<44} {wall:>9.3f} {cpu:>7.3f} {target:>7.1f}  {verdict}")
        print(f"load average while measuring: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
              f"{os.cpu_count()} CPUs")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
