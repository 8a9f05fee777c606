"""A second writer in its own process, started together with others behind a barrier file.

``python -m tests.ops._worker DB_URL GO_FILE ACTION ARGS...`` touches GO_FILE.ready.PID, waits until
GO_FILE exists, then:
- ``import-inventory PATH``: imports an inventory file (what `readiness import` does);
- ``evaluate``: evaluates and stores a run (what `readiness evaluate` does).
Prints one JSON line with what it did, or the error, and exits 0 or 1.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from readiness import import_inventory_file, run_evaluation
from storage import get_engine


def main(url: str, go: str, action: str, *args: str) -> int:
    engine = get_engine(url)
    Path(f"{go}.ready.{os.getpid()}").touch()
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("barrier never opened")
        time.sleep(0.005)
    try:
        if action == "import-inventory":
            report = import_inventory_file(engine, Path(args[0]))
            print(json.dumps({"ok": True, "systems": report.systems, "changed": report.changed}))
        elif action == "evaluate":
            report = run_evaluation(engine)
            print(json.dumps({"ok": True, "run_id": report.run_id}))
        else:
            raise SystemExit(f"unknown action {action}")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:500]}"}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
