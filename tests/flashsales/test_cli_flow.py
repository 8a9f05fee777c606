"""The whole flow from the command line on the demo organisation, e-mail into a local SMTP sink."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flashsales.cli import app
from tests.conftest import REPO

FLASHSALES = [sys.executable, "-c", "from flashsales.cli import main; main()"]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _process(args: list[str], env: dict) -> Ran:
    """The console script's entry point in its own process, as a user runs it."""
    done = subprocess.run(FLASHSALES + args, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    return Ran(done.returncode, done.stdout, done.stderr)


def _run(args: list[str], env: dict) -> Ran:
    """The same command line in this process (typer's runner), to keep the test fast."""
    result = CliRunner().invoke(app, args, env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def _team(folder: Path, url: str, env: dict) -> str:
    listed = _run(["roles", "list", "--db", url], env)
    assert listed.returncode == 0, listed.stderr
    return listed.stdout.split()[0]


@pytest.mark.slow
def test_submit_review_approve_export_and_expiry_from_the_cli(fs_demo, smtp_sink, tmp_path):
    url, folder = fs_demo
    env = {**os.environ, "PEAK_NOTIFY_URLS": smtp_sink.url(), "PEAK_NOTIFY_EMAIL_DOMAIN": "demo.example"}
    env.pop("PEAK_DATABASE_URL", None)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=3)
    request = json.loads((folder / "flashsales" / "request-example.json").read_text())
    request.update(starts_at=start.isoformat(), ends_at=end.isoformat())
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))

    submitted = _process(["submit", "--file", str(path), "--format", "json", "--db", url], env)
    assert submitted.returncode == 0, submitted.stderr
    result = json.loads(submitted.stdout)
    assert result["status"] == "increase_requested"
    review = result["review"]
    assert review["decision"] == "increase" and review["proposed_limit_rpm"] > review["category_limit_rpm"] == 600
    assert review["figures"]["history"]["reader"] in {"flashsales.history", "kapacity.read_history"}
    assert review["extra_rps"] <= review["headroom_rps"]
    request_id = str(result["id"])

    member = _team(folder, url, env)
    refused = _run(["approve", request_id, "--actor", "bd.jonas", "--db", url], env)
    assert refused.returncode == 1 and "not in the central rate-limit team" in refused.stderr
    approved = _run(["approve", request_id, "--actor", member, "--db", url], env)
    assert approved.returncode == 0, approved.stderr
    assert "approved" in approved.stdout

    during = _run(["ratelimits", "export", "--format", "envoy", "--at", (start + timedelta(hours=1)).isoformat(),
                   "--db", url], env)
    assert during.returncode == 0, during.stderr
    fashion = next(d for d in yaml.safe_load(during.stdout)["descriptors"] if d["value"] == "fashion")
    limits = {d.get("value"): d["rate_limit"]["requests_per_unit"] for d in fashion["descriptors"]}
    assert limits == {None: 600, "M-1001": review["proposed_limit_rpm"]}

    after = _run(["ratelimits", "export", "--format", "json", "--at", (end + timedelta(minutes=1)).isoformat(),
                  "--db", url], env)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["overrides"] == []

    shown = _run(["show", request_id, "--format", "json", "--db", url], env)
    detail = json.loads(shown.stdout)
    assert [a["action"] for a in detail["audit"]] == ["submit", "review_started", "review_increase", "approve"]
    assert {n["status"] for n in detail["notifications"]} == {"sent"}
    table = _run(["show", request_id, "--db", url], env).stdout  # for people: counts in words
    assert "sent (1 attempt)" in table and "(s)" not in table

    mails = smtp_sink.wait_for(3)
    subjects = [m.subject for m in mails]
    assert any("new flash sale announced" in s for s in subjects)
    assert any("temporary rate-limit increase requested" in s for s in subjects)
    decision = [m for m in mails if "increase approved" in m.subject]
    assert decision, subjects
    recipients = set().union(*(m.recipients for m in decision))
    assert {"bd.jonas@demo.example", "kam.ella@demo.example", "se.omar@demo.example"} <= recipients
    assert "Countries: SE, NO, DK, FI" in decision[0].body
    assert f"Rate limit: {review['proposed_limit_rpm']} rpm (temporary" in decision[0].body

    listed = _run(["list", "--format", "csv", "--db", url], env)
    assert listed.stdout.splitlines()[1].startswith(f"{request_id},approved,M-1001,fashion")
    events = json.loads(_run(["events", "--db", url], env).stdout)
    assert [e["merchant_id"] for e in events] == ["M-1001"] and events[0]["system_ids"]
