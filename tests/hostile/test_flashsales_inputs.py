"""Flash sales under hostile input: rate limits Envoy cannot hold are refused at input and at
export; merchant history files stay inside the configured directory, their contents never
appear in a message, and `merchants set` needs the rate-limit team and is audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

import flashsales
from flashsales.cli import app
from storage import get_engine, migrate
from tests.flashsales.helpers import ADMIN, RATELIMIT_USER, build_org, request, write_history
from tests.hostile.stored import row_counts
from tests.identity.helpers import issue_token

runner = CliRunner()
SECRET = "root:$6$Zk3secretHashThatMustNotLeak:19700:0:99999:7:::"
ENVOY_MAX = 2**32 - 1


# Each person's token on each test database, issued before anything is measured (a token is a row).
TOKENS: dict[tuple[str, str], str] = {}
REPORTER = "bd.bea"  # the reporter of tests.flashsales.helpers.request()


@pytest.fixture
def org(tmp_path) -> str:
    folder = tmp_path / "org"
    engine = get_engine(f"sqlite:///{tmp_path / 'org.db'}")
    migrate(engine)
    build_org(engine, folder)
    url = str(engine.url)
    for person in (RATELIMIT_USER, ADMIN, REPORTER):
        TOKENS[url, person] = issue_token(engine, person)
    return url


@pytest.fixture
def histories(tmp_path) -> Path:
    folder = tmp_path / "histories"
    folder.mkdir()
    return folder


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "shadow"
    path.write_text(SECRET + "\nbin:*:19700:0:99999:7:::\n")
    return path


def _soon() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0) + timedelta(days=2)


def flashsales_cli(*args, env: dict | None = None):
    """`flashsales ARGS`: a write presents the token of its `--actor` (else the reporter's: `submit`)."""
    args = [str(a) for a in args]
    person = args[args.index("--actor") + 1] if "--actor" in args else REPORTER
    token = TOKENS.get((args[args.index("--db") + 1], person), "") if "--db" in args else ""
    env = {"PEAK_FLASHSALES_RATELIMIT_TEAM": RATELIMIT_USER, "PEAK_TOKEN": token, **(env or {})}
    return runner.invoke(app, args, env=env)


def stored(url: str) -> tuple[dict, str, str]:
    """Row counts plus what `ratelimits list` and `merchants list` show: updates are caught too."""
    limits = flashsales_cli("ratelimits", "list", "--format", "json", "--db", url).stdout
    merchants = flashsales_cli("merchants", "list", "--format", "json", "--db", url).stdout
    return row_counts(url), limits, merchants


# -- rate limits: what Envoy's uint32 requests_per_unit holds ----------------------------

@pytest.mark.parametrize("rpm", [1_000_000_000_000, ENVOY_MAX + 1, 0])
def test_a_rate_limit_envoy_cannot_hold_is_refused_and_nothing_changes(org, rpm):
    before = stored(org)
    result = flashsales_cli("ratelimits", "set", "fashion", rpm, "--actor", RATELIMIT_USER, "--db", org)
    assert result.exit_code == 1, result.output
    assert "rate_limit_rpm" in result.stderr and str(ENVOY_MAX) in result.stderr
    assert stored(org) == before


def test_the_largest_envoy_limit_is_accepted_and_exported(org):
    assert flashsales_cli("ratelimits", "set", "fashion", ENVOY_MAX, "--actor", RATELIMIT_USER,
                          "--db", org).exit_code == 0
    exported = flashsales_cli("ratelimits", "export", "--db", org)
    assert exported.exit_code == 0 and f"requests_per_unit: {ENVOY_MAX}" in exported.stdout


def test_the_public_function_refuses_an_overflowing_limit_too(org):
    with pytest.raises(flashsales.InputError) as caught:
        flashsales.set_category(get_engine(org), "fashion", rate_limit_rpm=ENVOY_MAX + 1)
    assert set(caught.value.fields) == {"rate_limit_rpm"}


@pytest.mark.parametrize("fmt", ["envoy", "json"])
def test_a_stored_limit_beyond_envoy_is_named_at_export_not_written(org, fmt):
    with get_engine(org).begin() as connection:  # stored before the bound existed
        connection.execute(text("UPDATE flashsales_category SET rate_limit_rpm = 1000000000000 "
                                "WHERE key = 'fashion'"))
    result = flashsales_cli("ratelimits", "export", "--format", fmt, "--db", org)
    assert result.exit_code == 1
    assert "category fashion" in result.stderr and str(ENVOY_MAX) in result.stderr
    assert "requests_per_unit" not in result.stdout and "1000000000000" not in result.stdout


# -- merchants: confined history files, the role, the audit ------------------------------

def test_a_history_file_outside_the_directory_is_refused_and_nothing_changes(org, histories, secret):
    before = stored(org)
    result = flashsales_cli("merchants", "set", "M-X", "--name", "X", "--category", "fashion",
                            "--history", secret, "--actor", RATELIMIT_USER, "--db", org,
                            env={"PEAK_FLASHSALES_HISTORY_DIR": str(histories)})
    assert result.exit_code == 1, result.output
    assert "history:" in result.stderr and "outside the history directory" in result.stderr
    assert "root:" not in result.output
    assert stored(org) == before


def test_a_link_inside_the_directory_to_a_file_outside_is_refused(org, histories, secret):
    (histories / "m-x.csv").symlink_to(secret)
    before = stored(org)
    result = flashsales_cli("merchants", "set", "M-X", "--name", "X", "--category", "fashion",
                            "--history", histories / "m-x.csv", "--actor", RATELIMIT_USER, "--db", org,
                            env={"PEAK_FLASHSALES_HISTORY_DIR": str(histories)})
    assert result.exit_code == 1 and "outside the history directory" in result.stderr
    assert stored(org) == before


def test_without_a_configured_directory_no_history_file_is_accepted(org, secret):
    before = stored(org)
    result = flashsales_cli("merchants", "set", "M-X", "--name", "X", "--category", "fashion",
                            "--history", secret, "--actor", RATELIMIT_USER, "--db", org)
    assert result.exit_code == 1 and "PEAK_FLASHSALES_HISTORY_DIR" in result.stderr
    assert stored(org) == before


def test_merchants_set_needs_the_rate_limit_team(org, histories):
    path = write_history(histories / "m-x.csv", normal_rpm=100, spike=2.0)
    before = stored(org)
    result = flashsales_cli("merchants", "set", "M-1", "--name", "Threads", "--category", "ticketing",
                            "--history", path, "--actor", ADMIN, "--db", org,
                            env={"PEAK_FLASHSALES_HISTORY_DIR": str(histories)})
    assert result.exit_code == 1 and "not in the central rate-limit team" in result.stderr
    assert stored(org) == before


def test_merchants_set_by_the_team_stores_the_merchant_and_an_audit_row(org, histories):
    path = write_history(histories / "m-x.csv", normal_rpm=100, spike=2.0)
    before = row_counts(org)
    result = flashsales_cli("merchants", "set", "M-X", "--name", "X", "--category", "fashion",
                            "--history", path, "--actor", RATELIMIT_USER, "--db", org,
                            env={"PEAK_FLASHSALES_HISTORY_DIR": str(histories)})
    assert result.exit_code == 0, result.output
    after = row_counts(org)
    assert after["flashsales_merchant"] == before["flashsales_merchant"] + 1
    assert after["flashsales_audit"] == before["flashsales_audit"] + 1
    with get_engine(org).connect() as connection:
        actor, action = connection.execute(text("SELECT actor, action FROM flashsales_audit "
                                                "ORDER BY id DESC LIMIT 1")).one()
    assert (actor, action) == (RATELIMIT_USER, "merchant_set")


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_a_history_file_that_is_not_a_history_never_appears_in_the_review(org, histories, secret, tmp_path,
                                                                            where):
    """A file registered before the confinement (or swapped in): the review names it, never quotes it."""
    path = secret if where == "outside" else histories / "notes.csv"
    if where == "inside":
        path.write_text(secret.read_text())
    flashsales.upsert_merchant(get_engine(org), "M-1", name="Threads", category="fashion", history_path=path)
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request(start=_soon(), expected_peak_rpm=900)))
    result = flashsales_cli("submit", "--file", request_file, "--format", "json", "--db", org)
    shown = flashsales_cli("show", "1", "--format", "json", "--db", org).stdout
    assert str(path) in result.output  # the review says which file could not be read
    for text_out in (result.output, shown):
        assert "root:" not in text_out and "Zk3secret" not in text_out and "19700" not in text_out
