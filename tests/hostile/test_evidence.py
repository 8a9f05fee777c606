"""Evidence is earned: `perftest run` aims k6 only at the host the allow-list checked, and a run
that sent nothing (or far below its plan) is never a `pass`. Real k6, loopback targets only."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from perftest import Endpoint, HostNotAllowed, PerftestSettings, TestSpec, list_runs, run_test
from perftest.cli import app
from perftest.target import RunningTarget
from storage import get_engine, migrate
from tests.hostile.stored import row_counts

runner = CliRunner()
pytestmark = pytest.mark.xdist_group("perftest-k6")


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'perftest.db'}"
    migrate(get_engine(url))
    return url


@pytest.fixture
def target():
    with RunningTarget(200) as running:
        yield running


def perftest(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("url", [
    "http://10.0.0.1\\@127.0.0.1:{port}/",  # Python reads 127.0.0.1, k6 does not
    "http://10.0.0.1\\@localhost:{port}/",
    "http://user:secret@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}\\@10.0.0.1/",
    "http://127.0.0.1:{port}/\tpath",
])
def test_url_k6_would_read_differently_is_refused_and_stores_nothing(target, db, url):
    url = url.format(port=target.url.rsplit(":", 1)[1])
    before = row_counts(db)
    result = perftest("run", "--type", "load", "--url", url, "--rps", 5, "--duration", "1s", "--db", db)
    assert result.exit_code == 2, result.output
    assert "url:" in result.stderr and ("backslash" in result.stderr or "user name" in result.stderr
                                        or "printable ASCII" in result.stderr)
    assert row_counts(db) == before
    assert target.server.stats.served == 0


def test_allow_list_checks_the_host_k6_connects_to(target):
    """The public run function refuses too, before k6 starts, whatever built the spec."""
    k6_reads_otherwise = target.url.replace("http://", "http://10.0.0.1\\@")
    bad = Endpoint.model_construct(name="default", url=k6_reads_otherwise, method="GET", body=None, headers={},
                                   weight=1.0)  # unvalidated, as a caller building its own spec might
    spec = TestSpec(test_type="load", endpoints=[{"url": target.url}], rps=5, duration_s=1).model_copy(
        update={"endpoints": [bad]})
    with pytest.raises(HostNotAllowed, match="backslash"):
        run_test(spec, settings=PerftestSettings())
    assert target.server.stats.served == 0


def _script(tmp_path, body: str):
    module = tmp_path / "iteration.js"
    module.write_text("import http from 'k6/http';\nimport exec from 'k6/execution';\n"
                      f"export default function (ep) {{ {body} }}\n")
    return module


def test_run_that_sent_no_request_is_invalid_not_pass(target, db, tmp_path):
    module = _script(tmp_path, "")
    result = perftest("run", "--type", "load", "--url", target.url, "--rps", 10, "--duration", "2s",
                      "--script", module, "--format", "json", "--db", db)
    doc = json.loads(result.stdout)
    assert doc["requests"] == 0 and doc["verdict"] == "invalid", doc
    assert any("sent no requests" in reason for reason in doc["reasons"])
    assert result.exit_code != 0
    assert [run.verdict for run in list_runs(get_engine(db))] == ["invalid"]


def test_run_far_below_its_planned_rate_is_invalid_not_pass(target, db, tmp_path):
    module = _script(tmp_path, "if (exec.scenario.iterationInTest % 4 === 0) { http.get(ep.url); }")
    result = perftest("run", "--type", "load", "--url", target.url, "--rps", 10, "--duration", "2s",
                      "--script", module, "--format", "json", "--db", db)
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "invalid", doc
    assert any("of the about 20 planned" in reason and "PERFTEST_MIN_DELIVERED_SHARE" in reason
               for reason in doc["reasons"])
    assert doc["requests"] < 10


def test_run_that_delivers_its_plan_still_passes(target, db):
    result = perftest("run", "--type", "load", "--url", target.url, "--rps", 10, "--duration", "2s",
                      "--format", "json", "--db", db)
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["verdict"] == "pass" and doc["requests"] >= 18, doc
