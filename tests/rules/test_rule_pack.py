"""The pack as a whole: metadata quality, `readiness rules list`, `readiness rules docs`, scheduled rules."""

from __future__ import annotations

import inspect
import json
import re
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from readiness import (
    create_season,
    import_catalog_file,
    import_inventory_file,
    load_rules,
    run_evaluation,
    scores,
    weeks_before,
)
from readiness.cli import app
from readiness.models import RuleResult
from readiness.rulebook import RuleSet
from readiness.ruledocs import MARKER
from readiness.rulekit import CATEGORIES, RuleMeta
from storage import session_scope

REPO = Path(__file__).resolve().parents[2]
PACK = load_rules(entry_point_packs=False)
runner = CliRunner()


def test_the_pack_loads_without_errors():
    assert PACK.load_errors == []


@pytest.mark.parametrize("rule", PACK.rules, ids=lambda r: r.meta.id)
def test_every_rule_documents_why_how_to_fix_and_how_it_is_evaluated(rule):
    meta = rule.meta
    assert len(meta.rationale.split()) >= 12, "rationale too thin to explain the risk"
    assert len(meta.remediation.split()) >= 12, "remediation too thin to act on"
    assert inspect.getdoc(sys.modules[rule.evaluate.__module__]), "module docstring says what is expected"
    assert inspect.getdoc(rule.evaluate), "evaluate's docstring says how it is evaluated"
    if meta.kind == "team-managed":
        assert len(meta.questions) >= 3
        assert meta.facts == ("attestations",)
    for band in meta.bands:
        assert 0 < band.credit <= 1


def test_rules_list_json_covers_the_seven_categories_with_team_managed_checks():
    result = runner.invoke(app, ["rules", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) >= 50
    assert {r["category"] for r in rows} == set(CATEGORIES)
    assert sum(r["kind"] == "team-managed" for r in rows) >= 8
    assert all(r["rationale"] and r["remediation"] for r in rows)
    assert {r["id"]: r["due"] for r in rows}["perf_load_test"] == "6 weeks before the target date"


def test_the_pack_has_no_absolute_due_dates_only_offsets_from_the_season_target():
    scheduled = [r.meta for r in PACK.rules if r.meta.due is not None]
    assert len(scheduled) >= 10
    assert all(isinstance(meta.due, timedelta) and meta.due <= timedelta(0) for meta in scheduled)
    dated = [path.name for path in (REPO / "rules").glob("*.py") if re.search(r"due\s*=\s*(date|datetime)\(",
                                                                              path.read_text())]
    assert dated == []


def test_a_rule_declaring_an_absolute_due_date_is_refused_with_the_reason():
    fields = {"id": "dated_rule", "title": "A dated rule", "category": "capacity", "severity": "high",
              "rationale": "Because a test needs a rule with a date.", "remediation": "Use an offset from the target."}
    with pytest.raises(ValidationError, match="offset from the season's target"):
        RuleMeta(**fields, due=date(2027, 9, 15))
    with pytest.raises(ValidationError, match="on or before the season's target"):
        RuleMeta(**fields, due=timedelta(days=3))
    assert RuleMeta(**fields, due=weeks_before(6)).due == timedelta(days=-42)


def test_rules_docs_writes_a_page_per_rule_and_an_index(tmp_path):
    out = tmp_path / "rules"
    result = runner.invoke(app, ["rules", "docs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = sorted(p.stem for p in out.glob("*.md"))
    assert pages == sorted([r.meta.id for r in PACK.rules] + ["index"])
    page = (out / "db_storage_headroom.md").read_text()
    meta = {r.meta.id: r.meta for r in PACK.rules}["db_storage_headroom"]
    for text in (meta.title, meta.rationale, meta.remediation, "## How it is evaluated",
                 "| 0.3 | 1 |", "| 0.15 | 0.5 |", "| below 0.15 | 0 |", "Every system."):
        assert text in page
    scheduled = (out / "perf_spike_test.md").read_text()
    assert "due **4 weeks before the target date** of the season" in scheduled and "Only FLAS systems" in scheduled
    assert "With no season the rule is simply due" in scheduled
    team = (out / "peak_plan_review.md").read_text()
    assert "readiness review submit" in team and "1. Which forecast" in team
    index = (out / "index.md").read_text()
    assert all(f"[`{r.meta.id}`]({r.meta.id}.md)" in index for r in PACK.rules)


def test_rules_docs_check_fails_on_stale_pages_and_writing_removes_retired_ones(tmp_path):
    out = tmp_path / "rules"
    assert runner.invoke(app, ["rules", "docs", "--out", str(out)]).exit_code == 0
    assert runner.invoke(app, ["rules", "docs", "--out", str(out), "--check"]).exit_code == 0
    (out / "tracing.md").write_text("edited by hand\n")
    (out / "retired_rule.md").write_text(f"{MARKER}\n# gone\n")
    (out / "notes.md").write_text("not generated: kept\n")
    result = runner.invoke(app, ["rules", "docs", "--out", str(out), "--check"])
    assert result.exit_code == 3
    assert "tracing.md" in result.stderr and "retired_rule.md" in result.stderr
    assert runner.invoke(app, ["rules", "docs", "--out", str(out)]).exit_code == 0
    assert not (out / "retired_rule.md").exists() and (out / "notes.md").exists()
    assert (out / "tracing.md").read_text().startswith(MARKER)


def test_committed_rule_docs_match_the_pack():
    result = runner.invoke(app, ["rules", "docs", "--out", str(REPO / "docs" / "rules"), "--check"])
    assert result.exit_code == 0, f"{result.stderr}: regenerate with `readiness rules docs`"


def _organisation(engine, tmp_path: Path, at: datetime) -> None:
    catalog = {
        "company": "Test Co",
        "domains": [{"key": "pay", "name": "Payments", "architects": ["ada"]}],
        "groups": [{"key": "pay-core", "name": "Core", "domain": "pay"}],
        "teams": [{"key": "checkout", "name": "Checkout", "group": "pay-core", "members": ["cy", "dee"]}],
        "systems": [{"id": "SYS-1", "name": "checkout-api", "team": "checkout", "tier": "high"}],
        "admins": ["ann"],
    }
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(catalog))
    import_catalog_file(engine, tmp_path / "catalog.yaml")
    tags = {"SystemID": "SYS-1"}
    inventory = {"generated_at": at.isoformat(), "assets": [
        {"id": "svc", "type": "compute", "tags": tags, "replicas": 2, "rps_per_replica": 100,
         "forecast_baseline_rps": 400},
        {"id": "board", "type": "dashboard", "tags": tags, "url": "https://grafana/d/1"},
        {"id": "load", "type": "drill", "tags": tags, "kind": "load", "performed_on": "2027-08-20",
         "rps": 100},  # a quarter of the forecast: a failure
    ]}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    import_inventory_file(engine, tmp_path / "inventory.json", now=at)


@pytest.mark.parametrize(("at", "season", "status", "score"), [
    (datetime(2027, 9, 14, 12), True, "warning", 100.0),  # before the due date: shown, not counted
    (datetime(2027, 9, 15, 12), True, "fail", round(100 * 5 / 15, 4)),  # from the due date: counts
    (datetime(2027, 9, 14, 12), False, "fail", round(100 * 5 / 15, 4)),  # no season: simply due
])
def test_scheduled_rule_failing_before_its_due_date_is_a_warning_that_does_not_lower_the_score(
        engine, tmp_path, at, season, status, score):
    by_id = PACK.by_id()
    ruleset = RuleSet(rules=[by_id["dashboards"], by_id["perf_load_test"]])
    _organisation(engine, tmp_path, at)
    if season:  # perf_load_test is due 6 weeks before the target: 2027-09-15
        create_season(engine, actor="ann", key="peak-2027", name="Peak 2027", starts_on=date(2027, 11, 26),
                      ends_on=date(2027, 12, 31), target_date=date(2027, 10, 27))
    report = run_evaluation(engine, ruleset=ruleset, now=at)
    with session_scope(engine) as session:
        row = session.exec(select(RuleResult).where(RuleResult.run_id == report.run_id,
                                                    RuleResult.rule_id == "perf_load_test")).scalars().one()
        assert (row.status, row.counted) == (status, status == "fail")
        assert "0.25x the Baseline forecast" in row.message
    assert scores(engine, "system", run_id=report.run_id)[0]["score"] == pytest.approx(score, abs=0.01)
