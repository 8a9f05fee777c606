"""A season end to end on an imported organisation (no demo code): create it, evaluate, progress,
move a milestone, lose credit on stale facts; and the season's rules (roles, history, scope, migration)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from readiness import (
    CollectedFacts,
    InputError,
    PermissionDenied,
    create_season,
    get_season,
    import_inventory_file,
    progress,
    run_evaluation,
    scores,
    season_history,
    store_facts,
    update_season,
)
from readiness.cli import app
from readiness.reports import results
from storage import get_engine, migrate
from tests.identity.helpers import token_env
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml

runner = CliRunner()
SEASON = ["peak-2027", "--name", "Peak 2027", "--starts-on", "2027-11-26", "--ends-on", "2027-12-31",
          "--target-date", "2027-10-31"]
WEEK_1, WEEK_2 = datetime(2026, 11, 24, 9), datetime(2026, 12, 1, 9)


def cli(url: str, *args: str):
    """`readiness ARGS --db URL`; a write `--as NAME` presents NAME's own token (this is not a demo database)."""
    env = token_env(url, args[args.index("--as") + 1]) if "--as" in args else None
    return runner.invoke(app, [*args, "--db", url], env=env)


@pytest.fixture
def org(db_url, tmp_path):
    """An organisation imported from its catalog file, with a readiness team and an admin."""
    catalog = write_yaml(tmp_path / "catalog.yaml", catalog_doc(readiness_team=["rita"], admins=["ann"]))
    assert cli(db_url, "import", "--catalog", str(catalog)).exit_code == 0
    return db_url, get_engine(db_url)


def gaps_then_fixed(tmp_path) -> tuple:
    """Two weekly inventories of the same estate: the second closes the first one's gaps."""
    week_1 = write_inventory(tmp_path / "week-1.json", [compute("SYS-1", "api", replicas=1, zones=["a"]),
                                                        compute("SYS-2", "scorer", health_checks={})])
    week_2 = write_inventory(tmp_path / "week-2.json", [compute("SYS-1", "api"), compute("SYS-2", "scorer")])
    return week_1, week_2


def evaluate_two_weeks(engine, tmp_path) -> None:
    week_1, week_2 = gaps_then_fixed(tmp_path)
    import_inventory_file(engine, week_1, now=WEEK_1)
    run_evaluation(engine, now=WEEK_1)
    import_inventory_file(engine, week_2, now=WEEK_2)
    run_evaluation(engine, now=WEEK_2)


def statuses(engine, rule_id: str) -> dict[str, str]:
    return {r.system_id: r.status for r in results(engine) if r.rule_id == rule_id and r.status != "not_applicable"}


def test_a_season_runs_end_to_end_on_an_imported_organisation(org, tmp_path):
    url, engine = org
    refused = cli(url, "progress")
    assert refused.exit_code == 1 and "readiness season create" in refused.stderr
    created = cli(url, "season", "create", *SEASON, "--as", "rita", "--format", "json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["target_date"] == "2027-10-31"
    evaluate_two_weeks(engine, tmp_path)
    shown = cli(url, "progress")
    assert shown.exit_code == 0, shown.output
    assert "Peak 2027: score" in shown.stdout and "by 2027-10-31" in shown.stdout
    status = json.loads(cli(url, "progress", "--format", "json").stdout)
    assert status["season"] == "peak-2027" and status["runs"] == 2
    assert status["projected_date"] is not None and date.fromisoformat(status["projected_date"]) > WEEK_2.date()
    assert f"projected to reach it: {status['projected_date']}" in shown.stdout


def test_moving_a_milestone_changes_which_results_are_overdue(org):
    url, engine = org
    assert cli(url, "season", "create", *SEASON, "--as", "rita").exit_code == 0
    run_evaluation(engine, now=WEEK_2)
    signoff = statuses(engine, "capacity_plan_signoff")  # due 6 weeks before the target: 2027-09-19
    assert signoff == {"SYS-1": "warning", "SYS-2": "warning"}
    moved = cli(url, "season", "update", "peak-2027", "--milestone", "capacity=-60w", "--as", "ann")
    assert moved.exit_code == 0, moved.output
    run_evaluation(engine, now=WEEK_2)
    assert statuses(engine, "capacity_plan_signoff") == {"SYS-1": "no_data", "SYS-2": "no_data"}
    assert set(statuses(engine, "ddos_fire_drill").values()) <= {"warning", "not_applicable"}  # not capacity
    back = cli(url, "season", "update", "peak-2027", "--milestone", "rule:capacity_plan_signoff=-2w", "--as", "rita")
    assert back.exit_code == 0, back.output
    run_evaluation(engine, now=WEEK_2)
    assert statuses(engine, "capacity_plan_signoff") == signoff  # the rule's own milestone beats its category's
    shown = json.loads(cli(url, "season", "show", "peak-2027", "--format", "json").stdout)
    assert shown["due_dates"]["capacity_plan_signoff"] == "2027-10-17"
    assert shown["milestones"] == {"capacity": -420, "rule:capacity_plan_signoff": -14}


def test_a_stale_fact_loses_its_credit_and_explain_says_when_and_how_to_refresh(org, tmp_path):
    url, engine = org
    week_1, _ = gaps_then_fixed(tmp_path)
    import_inventory_file(engine, week_1, now=WEEK_1)
    fresh = run_evaluation(engine, now=WEEK_1 + timedelta(days=1))
    old = run_evaluation(engine, now=WEEK_1 + timedelta(days=10))
    before = {r.rule_id: r for r in results(engine, run_id=fresh.run_id, system_id="SYS-2")}
    after = {r.rule_id: r for r in results(engine, run_id=old.run_id, system_id="SYS-2")}
    assert before["replicas_across_zones"].status == "pass" and before["replicas_across_zones"].earned > 0
    assert (after["replicas_across_zones"].status, after["replicas_across_zones"].earned) == ("stale", 0.0)
    assert after["replicas_across_zones"].counted
    system_score = lambda run: {u["key"]: u["score"] for u in scores(engine, "system", run_id=run)}["SYS-2"]  # noqa: E731
    assert system_score(old.run_id) < system_score(fresh.run_id)
    explained = cli(url, "explain", "SYS-2")
    assert "[STALE BLOCKER] replicas_across_zones" in explained.stdout
    assert "stale since 2026-11-26T09:00" in explained.stdout
    assert "readiness import --inventory FILE" in explained.stdout


def test_only_the_readiness_team_and_admins_change_a_season_and_each_change_is_recorded(org):
    url, engine = org
    refused = cli(url, "season", "create", *SEASON, "--as", "cy")  # a team member
    assert refused.exit_code == 1 and "only the readiness team and admins" in refused.stderr
    assert json.loads(cli(url, "season", "list", "--format", "json").stdout) == []
    assert cli(url, "season", "create", *SEASON, "--freeze-on", "2027-11-20", "--as", "rita").exit_code == 0
    assert cli(url, "season", "update", "peak-2027", "--target-score", "95", "--as", "dee").exit_code == 1
    assert cli(url, "season", "update", "peak-2027", "--target-score", "95", "--as", "ann").exit_code == 0
    assert cli(url, "season", "close", "peak-2027", "--as", "rita").exit_code == 0
    history = season_history(engine, "peak-2027")
    assert [(h["actor"], h["action"]) for h in history] == [("rita", "created"), ("ann", "updated"),
                                                           ("rita", "closed")]
    assert (history[1]["before"]["target_score"], history[1]["after"]["target_score"]) == (100.0, 95.0)
    assert history[0]["after"]["freeze_on"] == "2027-11-20"
    late = cli(url, "season", "update", "peak-2027", "--name", "Too late", "--as", "rita")
    assert late.exit_code == 1 and "closed" in late.stderr
    assert cli(url, "progress").exit_code == 1  # a closed season is no longer the current one


def test_bad_season_input_names_the_field_and_stores_nothing(org):
    url, engine = org
    with pytest.raises(InputError, match="peak window"):
        create_season(engine, actor="rita", key="pk", name="P", starts_on=date(2027, 12, 31),
                      ends_on=date(2027, 11, 26), target_date=date(2027, 10, 31))
    with pytest.raises(InputError, match="scope domains: unknown"):
        create_season(engine, actor="rita", key="peak-x", name="P", starts_on=date(2027, 11, 26),
                      ends_on=date(2027, 12, 31), target_date=date(2027, 10, 31), scope={"domains": ["nope"]})
    bad = cli(url, "season", "create", *SEASON, "--milestone", "capacity=six weeks", "--as", "rita")
    assert bad.exit_code == 1 and "-6w" in bad.stderr
    typo = cli(url, "season", "create", *SEASON, "--milestone", "rule:no_such_rule=-2w", "--as", "rita")
    assert typo.exit_code == 1 and "no_such_rule" in typo.stderr
    assert json.loads(cli(url, "season", "list", "--format", "json").stdout) == []
    with pytest.raises(PermissionDenied):
        update_season(engine, "peak-2027", actor="eve", name="x")


def test_several_seasons_each_have_their_own_runs_and_progress(org, tmp_path):
    url, engine = org
    week_1, week_2 = gaps_then_fixed(tmp_path)
    create_season(engine, actor="rita", key="peak-2026", name="Peak 2026", starts_on=date(2026, 11, 27),
                  ends_on=date(2026, 12, 31), target_date=date(2026, 10, 31))
    import_inventory_file(engine, week_1, now=WEEK_1)
    run_evaluation(engine, now=WEEK_1)
    create_season(engine, actor="rita", key="peak-2027", name="Peak 2027", starts_on=date(2027, 11, 26),
                  ends_on=date(2027, 12, 31), target_date=date(2027, 10, 31))
    import_inventory_file(engine, week_2, now=datetime(2027, 1, 5))
    run_evaluation(engine, now=datetime(2027, 1, 5))  # 2026's peak is over: the run counts for 2027
    assert progress(engine, season="peak-2026")["runs"] == 1
    assert progress(engine, season="peak-2027")["runs"] == 1
    assert progress(engine, today=date(2027, 1, 6))["season"] == "peak-2027"


def test_a_scoped_season_measures_only_the_systems_in_its_scope(org, tmp_path):
    url, engine = org
    created = cli(url, "season", "create", *SEASON, "--domain", "risk", "--as", "rita")
    assert created.exit_code == 0, created.output
    evaluate_two_weeks(engine, tmp_path)
    risk = {u["key"]: u["score"] for u in scores(engine, "domain")}["risk"]
    company = scores(engine, "company")[0]["score"]
    status = json.loads(cli(url, "progress", "--format", "json").stdout)
    assert status["scope"] == {"domains": ["risk"]}
    assert status["score"] == pytest.approx(risk, abs=0.01) and risk != pytest.approx(company, abs=0.01)


def test_a_peak_event_stored_before_seasons_existed_becomes_a_season(sqlite_url):
    engine = get_engine(sqlite_url)
    migrate(engine, "readiness_0003")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO readiness_peak_event (key, name, starts_on, ends_on, target_date, target_score) "
            "VALUES ('peak-2026', 'Peak season 2026', '2026-11-27', '2026-12-31', '2026-10-31', 100.0)"))
    migrate(engine)
    season = get_season(engine, "peak-2026")
    assert (season.name, season.target_date, season.scope, season.milestones) == \
        ("Peak season 2026", date(2026, 10, 31), {}, {})


def test_a_forecast_window_in_the_past_is_not_capacity_evidence_for_the_season(org, tmp_path):
    url, engine = org
    create_season(engine, actor="rita", key="peak-2027", name="Peak 2027", starts_on=date(2027, 11, 26),
                  ends_on=date(2027, 12, 31), target_date=date(2027, 10, 31))
    inventory = write_inventory(tmp_path / "inv.json", [compute("SYS-1", "api", forecast_flas_rps=250)])
    import_inventory_file(engine, inventory, now=WEEK_2)
    forecast = {"baseline_rps": 40.0, "flas_rps": 9000.0, "forecast_from": "2024-09-30T00:00:00",
                "forecast_to": "2024-10-06T23:00:00"}
    store_facts(engine, CollectedFacts("kapacity", {"SYS-1": forecast}, origin="kapacity run 1"), now=WEEK_2)
    run_evaluation(engine, now=WEEK_2)
    (result,) = [r for r in results(engine, system_id="SYS-1") if r.rule_id == "flas_preprovisioned"]
    assert (result.status, result.evidence[0]["flas_rps"]) == ("pass", 250.0)  # 300 rps running vs the inventory's 250
    assert result.evidence[0]["forecast_from"].startswith("inventory: Kapacity's forecast window ends 2024-10-06")
