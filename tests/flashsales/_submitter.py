"""A second process for the concurrency test: waits for a start signal, then submits its files.

Usage: python -m tests.flashsales._submitter DATABASE_URL GO_FILE REQUEST.json...
Prints one JSON line: the ids and statuses it got.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import flashsales
from flashsales import capacity
from storage import get_engine
from tests.flashsales.helpers import NOW, settings


def _slow_review() -> None:
    """Widen the window between reading the holds and writing the decision, as a slow review would:
    without the ledger lock both processes would then read the same holds and over-grant."""
    read = capacity.overlapping_holds

    def slowly(*args, **kwargs):
        holds = read(*args, **kwargs)
        time.sleep(0.2)
        return holds

    capacity.overlapping_holds = slowly


def main(url: str, go: str, files: list[str]) -> None:
    _slow_review()
    engine = get_engine(url)
    engine.connect().close()  # connect before the start signal, so both start together
    deadline = time.monotonic() + 120
    while not Path(go).exists():
        if time.monotonic() > deadline:
            raise SystemExit("no start signal")
        time.sleep(0.005)
    results = []
    for path in files:
        result = flashsales.submit_file(engine, path, now=NOW, settings=settings())
        results.append({"id": result.request.id, "status": result.request.status, "error": result.review_error})
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
