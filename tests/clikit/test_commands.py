"""The kit's rules hold in every command line: a bad --db, CSV line endings, missing values.

Through the public commands (typer's runner), one case per CLI.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flashsales.cli import app as flashsales_app
from kapacity.cli import app as kapacity_app
from perftest.cli import app as perftest_app
from readiness.cli import app as readiness_app
from storage import get_engine, migrate
from tests.identity.helpers import token_env
from tests.kapacity.helpers import series_csv, synthetic

BAD_URLS = ["postgresql://nouser@127.0.0.1:1/none", "sqlite:////nonexistent/dir/x.db"]
OPENING = {  # a command of each CLI that opens --db (kapacity's take a folder: filled in per test)
    "readiness": (readiness_app, ["score"]),
    "readiness review list": (readiness_app, ["review", "list"]),
    "readiness collect sources": (readiness_app, ["collect", "sources"]),
    "readiness facts": (readiness_app, ["facts", "pay-api"]),
    "readiness digest": (readiness_app, ["digest"]),
    "kapacity run": (kapacity_app, ["run", "--histories", "{tmp}"]),
    "kapacity synthesize": (kapacity_app, ["synthesize", "--out", "{tmp}"]),
    "perftest": (perftest_app, ["results"]),
    "perftest plan check": (perftest_app, ["plan", "check", "{plan}"]),
    "flashsales": (flashsales_app, ["list"]),
}


def invoke(app, *args, env=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("command", list(OPENING))
def test_a_database_that_cannot_be_opened_is_one_clean_error_line_and_exit_1(command, url, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("system: pay-api\ntargets: {baseline_rps: 5}\nendpoints: [{url: 'http://127.0.0.1:9/'}]\n")
    app, args = OPENING[command]
    result = invoke(app, *(a.format(tmp=tmp_path, plan=plan) for a in args), "--db", url)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot open the database {url!r}: ")
    assert result.stdout == ""


def _lines(text: str) -> list[str]:
    assert "\r" not in text, "CSV lines end in LF"
    assert text.endswith("\n")
    return text.splitlines()


def test_readiness_prints_a_missing_score_as_an_empty_cell_and_json_null(sqlite_url):
    from readiness.models import EvaluationRun
    from storage import session_scope

    engine = get_engine(sqlite_url)
    migrate(engine)
    with session_scope(engine) as session:  # a failed run: stored without a company score
        session.add(EvaluationRun(id=7, started_at=datetime(2026, 11, 2, 12, 0), status="failed", systems=3,
                                  results=0, errors=0, company_score=None, inputs_hash="ab" * 32))
    csv_text = invoke(readiness_app, "runs", "--format", "csv", "--db", sqlite_url).stdout
    assert _lines(csv_text) == ["id,started_at,status,systems,errors,company_score,inputs_hash",
                                "7,2026-11-02 12:00 UTC,failed,3,0,,abababababab"]
    table = invoke(readiness_app, "runs", "--db", sqlite_url).stdout.splitlines()
    assert table[2].split() == ["7", "2026-11-02", "12:00", "UTC", "failed", "3", "0", "abababababab"]
    json_text = invoke(readiness_app, "runs", "--format", "json", "--db", sqlite_url).stdout
    assert '"company_score": null' in json_text


def test_kapacity_growth_leaves_the_unknown_growth_empty(tmp_path):
    history = series_csv(tmp_path / "h.csv", synthetic(days=21, step=3600))  # too short for month or year
    header, row = _lines(invoke(kapacity_app, "growth", "--history", history, "--format", "csv").stdout)
    assert header == "series,wow_volume,wow_daily_peak,mom_volume,mom_daily_peak,yoy_volume,yoy_daily_peak"
    assert row.startswith(",") and row.endswith(",,,,")
    table = invoke(kapacity_app, "growth", "--history", history).stdout.splitlines()
    assert len(table[1].split()) == 2  # the week-over-week figures; no series name, no other growth
    assert "None" not in table[1] and " - " not in table[1]


def _stored_load_run(url: str) -> None:
    from perftest.analysis import Summary
    from perftest.runner import RunResult
    from perftest.spec import Endpoint, TestSpec
    from perftest.store import save_run

    started = datetime(2026, 11, 20, 12, 0)
    summary = Summary(requests=500, achieved_rps=50.0, error_rate=0.0, p50_ms=10, p90_ms=20, p95_ms=30.0,
                      p99_ms=60.0, max_ms=90, avg_ms=12, iterations=500, dropped_iterations=0,
                      test_run_duration_s=10, thresholds={})
    save_run(get_engine(url), RunResult(
        spec=TestSpec(test_type="load", endpoints=[Endpoint(url="http://127.0.0.1:9/")], rps=50.0, system_id="pay-api"),
        verdict="pass", reasons=[], k6_version="1.1.0", k6_exit_code=0, k6_outcome="passed", killed=False,
        started_at=started, finished_at=started + timedelta(seconds=10), script_sha256="abc", summary=summary,
        phases=[], breaking=None))


def test_perftest_results_leave_a_load_test_without_breaking_point_empty(sqlite_url):
    migrate(get_engine(sqlite_url))
    _stored_load_run(sqlite_url)
    header, row = _lines(invoke(perftest_app, "results", "--format", "csv", "--db", sqlite_url).stdout)
    cells = dict(zip(header.split(","), row.split(","), strict=True))
    assert cells["test_type"] == "load" and cells["breaking_point_rps"] == "" and cells["time_to_recovery_s"] == ""
    table = invoke(perftest_app, "results", "--db", sqlite_url).stdout.splitlines()
    assert "None" not in table[1] and " - " not in table[1]
    assert '"breaking_point_rps": null' in invoke(perftest_app, "results", "--format", "json", "--db", sqlite_url).stdout


def test_flashsales_csv_has_lf_line_endings_and_an_empty_cell_for_no_history(sqlite_url):
    migrate(get_engine(sqlite_url))
    team = {"PEAK_FLASHSALES_RATELIMIT_TEAM": "rita.limit", **token_env(sqlite_url, "rita.limit")}
    assert invoke(flashsales_app, "ratelimits", "set", "fashion", "600", "--actor", "rita.limit", "--db", sqlite_url,
                  env=team).exit_code == 0
    assert invoke(flashsales_app, "merchants", "set", "M-1", "--name", "Shop", "--category", "fashion",
                  "--actor", "rita.limit", "--db", sqlite_url, env=team).exit_code == 0
    listed = invoke(flashsales_app, "merchants", "list", "--format", "csv", "--db", sqlite_url).stdout
    assert _lines(listed) == ["merchant_id,name,category,history_path", "M-1,Shop,fashion,"]
    limits = invoke(flashsales_app, "ratelimits", "list", "--format", "csv", "--db", sqlite_url).stdout
    assert _lines(limits)[1].startswith("fashion,")
    table = invoke(flashsales_app, "merchants", "list", "--db", sqlite_url).stdout.splitlines()
    assert table == ["merchant_id  name  category  history_path", "M-1          Shop  fashion"]
    assert '"history_path": null' in invoke(flashsales_app, "merchants", "list", "--format", "json",
                                            "--db", sqlite_url).stdout


def test_kubernetes_dry_run_leaves_a_workload_without_hpa_empty():
    payments = Path(__file__).parents[1] / "collectors" / "fixtures" / "k8s" / "good" / "payments"
    table = invoke(readiness_app, "collect", "kubernetes", payments, "--dry-run").stdout.splitlines()
    [ledger] = [line for line in table if "ledger-store" in line]
    hpa = table[0].index("hpa")
    assert ledger[hpa:hpa + 3] == "   "  # was "-" before the kit's rule
    assert "None" not in ledger and " - " not in ledger
    header, *rows = _lines(invoke(readiness_app, "collect", "kubernetes", payments, "--dry-run",
                                  "--format", "csv").stdout)
    cells = dict(zip(header.split(","), next(r for r in rows if "ledger-store" in r).split(","), strict=True))
    assert cells["hpa"] == "" and cells["source"].endswith("ledger.yaml:3 (doc 0)")
