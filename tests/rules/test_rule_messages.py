"""What the rules say, as people read it in the CLI and the exports: counts in words ("1 replica",
"2 dashboards"), never "replica(s)". Through `readiness import`, `evaluate`, `explain` and `export`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from readiness.cli import app
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml

runner = CliRunner()


def _alarm(system_id: str, asset_id: str, **fields) -> dict:
    return {"id": asset_id, "type": "alarm", "tags": {"SystemID": system_id}, "signal": "slo_burn_rate",
            "notifies": "oncall", **fields}


def _dashboard(system_id: str, asset_id: str) -> dict:
    return {"id": asset_id, "type": "dashboard", "tags": {"SystemID": system_id},
            "url": f"https://grafana.example/d/{asset_id}"}


# (system, rule) -> the exact message: one of a thing, several, and none where a count is shown
EXPECTED = {
    ("SYS-1", "replicas_across_zones"): "svc-one: 1 replica; svc-zone: replicas in 1 zone",
    ("SYS-2", "replicas_across_zones"): "svc-nozones: replicas in 0 zones",
    ("SYS-1", "dashboards"): "1 dashboard",
    ("SYS-2", "dashboards"): "2 dashboards",
    ("SYS-1", "slo_burn_rate_alerts"): "1 SLO alert",
    ("SYS-2", "slo_burn_rate_alerts"): "2 SLO alerts",
    ("SYS-1", "health_checks"): "all compute services comply (2 of 2)",
    ("SYS-2", "health_checks"): "all compute services comply (1 of 1)",  # not "all 1 compute services"
}


@pytest.fixture
def evaluated(sqlite_url, tmp_path) -> str:
    assets = [
        compute("SYS-1", "svc-one", replicas=1), compute("SYS-1", "svc-zone", zones=["a"]),
        compute("SYS-2", "svc-nozones", replicas=2, zones=[]),
        _dashboard("SYS-1", "board-1"), _dashboard("SYS-2", "board-2a"), _dashboard("SYS-2", "board-2b"),
        _alarm("SYS-1", "burn-1"), _alarm("SYS-2", "burn-2a"), _alarm("SYS-2", "burn-2b", signal="availability"),
    ]
    catalog = write_yaml(tmp_path / "catalog.yaml", catalog_doc())
    inventory = write_inventory(tmp_path / "inventory.json", assets)
    done = runner.invoke(app, ["import", "--catalog", str(catalog), "--inventory", str(inventory), "--db", sqlite_url])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["evaluate", "--db", sqlite_url])
    assert done.exit_code in (0, 3), done.output
    return sqlite_url


def test_rule_messages_count_in_words_in_the_export(evaluated):
    done = runner.invoke(app, ["export", "--format", "csv", "--db", evaluated])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    messages = {(r["system_id"], r["rule_id"]): r["message"] for r in rows}
    assert {key: messages.get(key) for key in EXPECTED} == EXPECTED
    assert not [m for m in messages.values() if "(s)" in m]


def test_explain_shows_the_counts_in_words(evaluated):
    done = runner.invoke(app, ["explain", "SYS-1", "--format", "json", "--db", evaluated])
    assert done.exit_code == 0, done.output
    assert "svc-one: 1 replica; svc-zone: replicas in 1 zone" in done.stdout
    assert "(s)" not in done.stdout


def test_a_bad_catalog_names_its_problems_counted_in_words(sqlite_url, tmp_path):
    bad = tmp_path / "catalog.csv"
    bad.write_text("system_id,name,domain,group,team\nSYS-1,checkout,pay,core,checkout\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "readiness.cli", "import", "--catalog", str(bad), "--db", sqlite_url],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert f"error: 1 problem; nothing was written\n  - {bad}:1: missing 1 column ['tier']; required:" in done.stderr
    assert "(s)" not in done.stderr


def test_the_rule_versions_record_the_new_wording():
    done = runner.invoke(app, ["rules", "list", "--format", "json"])
    versions = {r["id"]: r["version"] for r in json.loads(done.stdout)}
    assert {versions[r] for r in ("dashboards", "slo_burn_rate_alerts", "health_checks", "tracing")} == {"2"}
    assert versions["replicas_across_zones"] == "3"  # counts in words, then "all ... comply (1 of 1)"
