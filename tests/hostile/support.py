"""Running the public `readiness` command as a user would, on a copy of the small demo."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

RULE = '''
from readiness.rulekit import RuleMeta, passed, failed
META = RuleMeta(id="{id}", title="A hostile test rule", category="resilience", severity="high",
                rationale="The hostile-input corpus needs rules that misbehave.",
                remediation="Nothing to fix: this rule is a test of the engine.")
'''


def readiness(*args: str, db: str, timeout: float = 300, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess:
    """`readiness ARGS --db DB` in a fresh process (exit codes and stdout/stderr as a user sees them);
    ``env``: PEAK_ settings for it (the caller's own are dropped)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PEAK_")}, **(env or {})}
    return subprocess.run([sys.executable, "-c", "from readiness.cli import main; main()", *args, "--db", db],
                          capture_output=True, text=True, timeout=timeout, env=env)


def copy_db(source_url: str, folder: Path) -> str:
    """A private copy through SQLite's backup API: a file copy misses what the write-ahead log
    still holds (the demo's last run and the expiries it recorded, until a checkpoint)."""
    target = folder / "peak.db"
    source, dest = sqlite3.connect(source_url.removeprefix("sqlite:///")), sqlite3.connect(target)
    with dest:
        source.backup(dest)
    source.close()
    dest.close()
    return f"sqlite:///{target}"


def write_rule(folder: Path, rule_id: str, body: str, *, at_import: str = "") -> Path:
    """A rule module: ``at_import`` runs when it is imported, ``body`` is evaluate's body."""
    folder.mkdir(exist_ok=True)
    path = folder / f"{rule_id}.py"
    source = (at_import + "\n" if at_import else "") + RULE.format(id=rule_id)
    path.write_text(source + "\ndef evaluate(system, facts):\n" + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def runs(db: str) -> list[dict]:
    result = readiness("runs", "--format", "json", db=db)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def company_score(db: str) -> float:
    result = readiness("score", "--format", "json", db=db)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)[0]["score"]


def results_of(db: str, rule_id: str, rules_dir: Path, env: dict[str, str] | None = None) -> list[dict]:
    result = readiness("export", "--format", "json", "--rules-dir", str(rules_dir), db=db, env=env)
    assert result.returncode == 0, result.stderr
    return [r for r in json.loads(result.stdout)["results"] if r["rule_id"] == rule_id]
