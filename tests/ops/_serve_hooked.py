"""`readiness` with a pause inside the run's transaction, so tests can signal or kill mid-run.

With OPS_TEST_PAUSE_MARKER set, the first time a run stores its run state (in the publish,
after its run row, results and scores, before the commit; on PostgreSQL the scores go by COPY,
which no cursor event sees) this writes the marker file and sleeps
OPS_TEST_PAUSE_SECONDS, or until the file OPS_TEST_RELEASE exists. Run as ``python -m tests.ops._serve_hooked serve ...`` from the repo.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "before_cursor_execute")
def _pause(conn, cursor, statement, parameters, context, executemany):
    marker = os.environ.get("OPS_TEST_PAUSE_MARKER")
    if marker and statement.lstrip().upper().startswith("INSERT INTO READINESS_RUN_STATE") and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        release = os.environ.get("OPS_TEST_RELEASE")
        deadline = time.monotonic() + float(os.environ.get("OPS_TEST_PAUSE_SECONDS", "60"))
        while time.monotonic() < deadline and not (release and Path(release).exists()):
            time.sleep(0.05)


if __name__ == "__main__":
    from readiness.cli import main

    sys.argv = ["readiness", *sys.argv[1:]]
    main()
