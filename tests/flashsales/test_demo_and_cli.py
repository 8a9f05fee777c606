"""The demo data, settings, and the command line's contract (help, formats, exit codes)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import flashsales
from flashsales import demo
from flashsales.cli import app
from flashsales.errors import InputError
from flashsales.models import AuditEntry, Category, Merchant, RoleGrant
from flashsales.settings import load_settings
from storage import session_scope
from tests.flashsales.helpers import ADMIN, NOW, RATELIMIT_USER, request
from tests.identity.helpers import token_env


def _state(engine) -> tuple:
    with session_scope(engine) as session:
        return tuple(sorted(json.dumps(row.model_dump(), sort_keys=True, default=str)
                            for row in session.exec(select(model)).scalars())
                     for model in (Category, Merchant, RoleGrant, AuditEntry))


def test_the_demo_is_idempotent_and_deterministic(org_engine, tmp_path):
    first = demo.run(org_engine, tmp_path / "a")
    state = _state(org_engine)
    files = {p.name: p.read_bytes() for p in (tmp_path / "a" / "flashsales" / "history").iterdir()}
    again = demo.run(org_engine, tmp_path / "a")
    assert _state(org_engine) == state
    assert {p.name: p.read_bytes() for p in (tmp_path / "a" / "flashsales" / "history").iterdir()} == files
    assert first["ratelimit_team"] == again["ratelimit_team"] and len(first["ratelimit_team"]) == 2
    demo.run(org_engine, tmp_path / "b")
    assert {p.name: p.read_bytes() for p in (tmp_path / "b" / "flashsales" / "history").iterdir()} == files
    assert {c["category"] for c in flashsales.list_categories(org_engine)} >= set(demo.CATEGORIES)
    assert len([m for m in flashsales.list_merchants(org_engine) if m["history_path"]]) >= len(demo.MERCHANTS)


def test_the_demo_example_request_is_valid(org_engine, tmp_path):
    demo.run(org_engine, tmp_path)
    raw = json.loads((tmp_path / "flashsales" / "request-example.json").read_text())
    assert flashsales.check_request(org_engine, raw).merchant_id == "M-1001"


def test_settings_come_from_a_file_and_the_environment_wins(tmp_path):
    path = tmp_path / "flashsales.yaml"
    path.write_text("notify_urls: [json://127.0.0.1:9/a]\nratelimit_team: [x.y]\nnotify_attempts: 5\n")
    loaded = load_settings(path, env={})
    assert loaded.notify_urls == ("json://127.0.0.1:9/a",) and loaded.notify_attempts == 5
    env = {"PEAK_NOTIFY_URLS": "mailto://127.0.0.1:25?from=a@b.c, json://127.0.0.1:9/b",
           "PEAK_FLASHSALES_RATELIMIT_TEAM": "rita.limit"}
    overlaid = load_settings(path, env=env)
    assert overlaid.notify_urls == ("mailto://127.0.0.1:25?from=a@b.c", "json://127.0.0.1:9/b")
    assert overlaid.ratelimit_team == ("rita.limit",)
    path.write_text("notify_attempts: 0\nsurprise: 1\n")
    with pytest.raises(InputError) as caught:
        load_settings(path, env={})
    assert set(caught.value.fields) == {"notify_attempts", "surprise"}


@pytest.mark.parametrize("command", [
    [], ["submit"], ["review"], ["list"], ["show"], ["approve"], ["reject"], ["cancel"], ["advance"],
    ["unmanaged"], ["events"], ["ratelimits", "export"], ["ratelimits", "set"], ["merchants", "set"],
    ["roles", "grant"], ["notifications", "retry"]])
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout


def test_a_bad_time_is_a_usage_error(org_engine):
    result = CliRunner().invoke(app, ["ratelimits", "export", "--at", "noon", "--db", str(org_engine.url)])
    assert result.exit_code == 2 and "ISO 8601" in result.stderr


def test_refusals_exit_1_with_the_reason(org_engine):
    url = str(org_engine.url)
    env = {"PEAK_FLASHSALES_RATELIMIT_TEAM": RATELIMIT_USER}
    sale = flashsales.submit(org_engine, request(), now=NOW, settings=load_settings(env={})).request
    missing = CliRunner().invoke(app, ["show", "42", "--db", url])
    assert missing.exit_code == 1 and "no flash-sale request #42" in missing.stderr
    admin, team = {**env, **token_env(url, ADMIN)}, {**env, **token_env(url, RATELIMIT_USER)}
    denied = CliRunner().invoke(app, ["approve", str(sale.id), "--actor", ADMIN, "--db", url], env=admin)
    assert denied.exit_code == 1 and "not in the central rate-limit team" in denied.stderr
    limit = CliRunner().invoke(app, ["ratelimits", "set", "fashion", "900", "--actor", ADMIN, "--db", url], env=admin)
    assert limit.exit_code == 1
    ok = CliRunner().invoke(app, ["ratelimits", "set", "fashion", "900", "--actor", RATELIMIT_USER, "--db", url],
                            env=team)
    assert ok.exit_code == 0, ok.stderr
    listed = CliRunner().invoke(app, ["ratelimits", "list", "--format", "json", "--db", url])
    assert {r["category"]: r["rate_limit_rpm"] for r in json.loads(listed.stdout)}["fashion"] == 900
