"""SIGKILL in the middle of `readiness evaluate` leaves the previous run, its scores and the
database intact: the run is written in one transaction, so a killed one leaves nothing behind,
and the next evaluation works."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from tests.hostile.stored import row_counts
from tests.hostile.support import company_score, readiness, runs, write_rule


def test_sigkill_mid_evaluate_leaves_the_previous_run_intact(demo_copy, tmp_path):
    marker = tmp_path / "started"
    rules = tmp_path / "rules"
    # Each system takes 0.2 s in this rule: the run is surely mid-way when the marker appears.
    write_rule(rules, "slow_rule", f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\n"
                                   "time.sleep(0.2)\nreturn passed('slow')")
    previous, score, counts = runs(demo_copy), company_score(demo_copy), row_counts(demo_copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEAK_")}
    process = subprocess.Popen([sys.executable, "-c", "from readiness.cli import main; main()", "evaluate",
                                "--rules-dir", str(rules), "--db", demo_copy], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the evaluation ended before it could be killed"
            assert time.monotonic() < deadline, "the slow rule never ran"
            time.sleep(0.05)
        time.sleep(1.0)  # several systems into the run
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert runs(demo_copy) == previous
    assert company_score(demo_copy) == score
    assert row_counts(demo_copy) == counts
    with sqlite3.connect(demo_copy.removeprefix("sqlite:///")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    again = readiness("evaluate", db=demo_copy)
    assert again.returncode == 0, again.stderr
    assert len(runs(demo_copy)) == len(previous) + 1
