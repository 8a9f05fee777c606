"""The `readiness` command line, as a user runs it (subprocess for the demo, CliRunner elsewhere)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest
from typer.testing import CliRunner

from readiness.cli import app
from tests.ops.support import copy_sqlite

runner = CliRunner()


def cli(*args, db: str):
    result = runner.invoke(app, [*args, "--db", db])
    return result


def run_readiness(*args, cwd, db: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PEAK_DATABASE_URL": db}
    return subprocess.run([sys.executable, "-m", "readiness.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_default_demo_has_17_domains_and_180_teams_and_is_reproducible(tmp_path):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    first = run_readiness("demo", cwd=tmp_path, db=db)
    assert first.returncode == 0, first.stderr
    domains = json.loads(run_readiness("score", "--level", "domain", "--format", "json", cwd=tmp_path, db=db).stdout)
    teams = json.loads(run_readiness("score", "--level", "team", "--format", "json", cwd=tmp_path, db=db).stdout)
    groups = json.loads(run_readiness("score", "--level", "group", "--format", "json", cwd=tmp_path, db=db).stdout)
    systems = json.loads(run_readiness("score", "--level", "system", "--format", "json", cwd=tmp_path, db=db).stdout)
    assert (len(domains), len(groups), len(teams), len(systems)) == (17, 60, 180, 450)
    assert all({"level", "name", "score"} <= row.keys() and 0 <= row["score"] <= 100 for row in domains)
    second = run_readiness("demo", cwd=tmp_path, db=db)
    assert second.returncode == 0, second.stderr
    again = json.loads(run_readiness("score", "--level", "domain", "--format", "json", cwd=tmp_path, db=db).stdout)
    assert {d["key"]: d["score"] for d in again} == {d["key"]: d["score"] for d in domains}
    assert again[0]["run_id"] > domains[0]["run_id"]


def test_small_demo_on_both_databases(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("demo", "--systems", "40", "--seed", "5", db=db_url)
    assert result.exit_code == 0, result.output
    teams = json.loads(cli("score", "--level", "team", "--format", "json", db=db_url).stdout)
    assert len(teams) == 16
    company = json.loads(cli("score", "--format", "json", db=db_url).stdout)
    assert company[0]["level"] == "company" and company[0]["systems"] == 40


def test_broken_rule_module_in_extra_folder_is_reported_and_the_rest_stored(demo_db, tmp_path):
    db = f"sqlite:///{tmp_path / 'copy.db'}"
    copy_sqlite(demo_db, tmp_path / "copy.db")
    extra = tmp_path / "rules"
    extra.mkdir()
    (extra / "half_written.py").write_text("from readiness.rulekit import RuleMeta\nMETA = RuleMeta(\n")
    result = cli("evaluate", "--rules-dir", str(extra), "--format", "json", db=db)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["errors"] == summary["systems"] == 60
    assert any("half_written" in e for e in summary["load_errors"])
    export = json.loads(cli("export", "--format", "json", "--rules-dir", str(extra), db=db).stdout)
    statuses = {(r["rule_id"], r["status"]) for r in export["results"]}
    assert ("half_written", "error") in statuses
    assert len({r["rule_id"] for r in export["results"]}) > 10


def test_fail_under_exits_3_when_below_and_0_when_met(demo_db):
    company = json.loads(cli("score", "--format", "json", db=demo_db).stdout)[0]["score"]
    assert cli("score", "--fail-under", str(company + 1), db=demo_db).exit_code == 3
    assert cli("score", "--fail-under", str(company - 1), db=demo_db).exit_code == 0


def test_explain_lists_failing_rules_with_evidence_and_fix(demo_db):
    worst = json.loads(cli("score", "--level", "system", "--format", "json", db=demo_db).stdout)[0]
    result = cli("explain", worst["key"], "--format", "json", db=demo_db)
    report = json.loads(result.stdout)
    assert report["score"] == worst["score"] < 100
    assert report["findings"], "a system below 100 has findings"
    assert all(f["remediation"] and f["points_lost"] >= 0 for f in report["findings"])
    text = cli("explain", worst["key"], db=demo_db).stdout
    assert "fix:" in text and report["findings"][0]["rule_id"] in text


def test_explain_unknown_system_is_a_clear_error(demo_db):
    from readiness.cli import main

    result = subprocess.run([sys.executable, "-c", "from readiness.cli import main; main()", "explain", "NOPE",
                             "--db", demo_db], capture_output=True, text=True)
    assert main and result.returncode == 1
    assert "unknown system 'NOPE'" in result.stderr


def test_rules_list_json_has_the_documented_keys():
    rows = json.loads(runner.invoke(app, ["rules", "list", "--format", "json"]).stdout)
    assert len(rows) >= 10
    for row in rows:
        assert {"id", "title", "category", "kind", "severity", "remediation"} <= row.keys()


@pytest.mark.parametrize("fmt", ["json", "csv", "sarif", "junit"])
def test_export_formats_parse(demo_db, fmt):
    text = cli("export", "--format", fmt, db=demo_db).stdout
    if fmt in ("json", "sarif"):
        doc = json.loads(text)
        if fmt == "sarif":
            assert doc["version"] == "2.1.0" and doc["runs"][0]["results"]
            assert all(r["level"] in ("error", "warning", "note") for r in doc["runs"][0]["results"])
    elif fmt == "csv":
        header, *rows = text.strip().splitlines()
        assert header.startswith("run_id,system_id,rule_id") and len(rows) > 60
    else:
        suites = ET.fromstring(text)
        assert len(suites.findall("testsuite")) == 60
        assert suites.findall(".//failure")


def test_progress_projects_a_date_from_the_demo_history(demo_db):
    status = json.loads(cli("progress", "--format", "json", db=demo_db).stdout)
    assert status["target_score"] == 100 and status["event"].startswith("Peak season")
    assert status["projected_date"] is not None  # the demo improves week by week


def test_changes_since_the_first_run_lists_flipped_results(demo_db):
    diff = json.loads(cli("changes", "--since", "1", "--format", "json", db=demo_db).stdout)
    assert diff["from_run"] == 1 and diff["to_run"] > 1
    assert any(c["before"] != "pass" and c["after"] == "pass" for c in diff["results_changed"])


def test_bad_catalog_exits_1_naming_the_place_and_writes_nothing(tmp_path):
    bad = tmp_path / "catalog.yaml"
    bad.write_text("domains: []\ngroups: []\nteams: []\nsystems:\n  - {id: S1, name: a, team: ghost, tier: high}\n")
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = subprocess.run([sys.executable, "-m", "readiness.cli", "import", "--catalog", str(bad), "--db", db],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "systems[0] (record S1): field team: unknown team 'ghost'" in result.stderr
    score = subprocess.run([sys.executable, "-m", "readiness.cli", "score", "--db", db], capture_output=True, text=True)
    assert score.returncode == 1 and "no evaluation run yet" in score.stderr


def test_evaluate_refuses_while_another_evaluation_holds_the_lock(demo_db, tmp_path):

    from readiness import evaluation_lock
    from storage import get_engine

    db = f"sqlite:///{tmp_path / 'copy.db'}"
    copy_sqlite(demo_db, tmp_path / "copy.db")
    with evaluation_lock(get_engine(db)) as taken:
        assert taken
        result = cli("evaluate", db=db)
    assert result.exit_code == 1 and "another evaluation is running" in result.output
    assert cli("evaluate", db=db).exit_code == 0
