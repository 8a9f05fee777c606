"""The Performance tests page and the System page's test section on a real stored k6 run."""

from __future__ import annotations

import subprocess
import sys

from perftest import RunningTarget
from tests.app.conftest import no_exceptions, open_app, texts


def test_a_stored_run_shows_on_both_pages(app_env, writable_demo):
    app_env(writable_demo)
    with RunningTarget(200.0) as target:
        done = subprocess.run(
            [sys.executable, "-m", "perftest.cli", "run", "--type", "load", "--url", target.url, "--rps", "20",
             "--duration", "3s", "--system", "SYS-0001", "--db", writable_demo, "--format", "json"],
            capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 3), done.stderr[-2000:]
    at = open_app("views/perftests.py")
    no_exceptions(at)
    assert {m.label: m.value for m in at.metric}["Runs"] == "1"
    assert "Latest verdict per system and test type" in texts(at)
    at = open_app("views/system.py", query={"id": "SYS-0001"})
    no_exceptions(at)
    assert "load" in texts(at) and "target 20 req/s" in texts(at)
