"""No CLI write succeeds without a proven actor on a non-demo database.

Every write command a person decides is run twice on a fresh copy of a real (non-demo)
organisation: first with only a name (`--as` / `--actor` / `PEAK_USER`) of the person whose
role allows it — refused, naming how to get a token, with every table's rows unchanged —
then with that person's token, when it succeeds. A test also checks that this list covers
every command that takes an actor, so a new write command cannot be forgotten.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import flashsales
import governance
from flashsales.cli import app as flashsales_app
from flashsales.settings import load_settings
from readiness.cli import app as readiness_app
from storage import get_engine, migrate, utcnow
from tests.flashsales.helpers import ADMIN, RATELIMIT_USER, READINESS_USER, build_org, request
from tests.governance.support import governed_org, ruleset_for, write_rules
from tests.hostile.stored import row_counts
from tests.identity.helpers import issue_token

runner = CliRunner()
EXPIRES = (utcnow() + timedelta(days=20)).date().isoformat()
TEAM = {"PEAK_FLASHSALES_RATELIMIT_TEAM": RATELIMIT_USER}


@pytest.fixture(scope="module")
def templates(tmp_path_factory) -> dict[str, Path]:
    """Two real organisations, built once: governance (reviews and waivers waiting) and flash sales."""
    folder = tmp_path_factory.mktemp("identity")
    rules = write_rules(folder / "rules")
    gov = get_engine(f"sqlite:///{folder / 'gov.db'}")
    migrate(gov)
    governed_org(gov, folder)
    ruleset = ruleset_for(folder / "rules")
    answers = {"1": "yes", "2": "ada"}
    for system in ("SYS-3", "SYS-1"):  # review 1 to approve, review 2 to reject
        governance.submit_review(gov, system, "gov_peak_plan", actor_name="cy", answers=answers,
                                 evidence=["https://wiki/peak"], ruleset=ruleset)
    expires = date.fromisoformat(EXPIRES)
    for system in ("SYS-3", "SYS-1"):  # waiver 1 to approve, waiver 2 approved, to revoke
        governance.request_waiver(gov, system, "gov_always_fails", actor_name="cy", reason="after the freeze",
                                  expires=expires, ruleset=ruleset)
    governance.approve_waiver(gov, 2, actor_name="ada", ruleset=ruleset)
    issue_token(gov, "dee")  # token 1, for `tokens revoke`
    sales = get_engine(f"sqlite:///{folder / 'sales.db'}")
    migrate(sales)
    build_org(sales, folder / "sales")
    flashsales.submit(sales, request(start=_soon(), expected_peak_rpm=900), settings=load_settings(env=TEAM))
    flashsales.grant_role(sales, READINESS_USER, actor=ADMIN)  # for `roles revoke`
    (folder / "request.json").write_text(json.dumps(request(start=_soon() + timedelta(days=1),
                                                            expected_peak_rpm=900)))
    return {"gov": folder / "gov.db", "sales": folder / "sales.db", "rules": rules,
            "request": folder / "request.json"}


def _soon() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0) + timedelta(days=2)


# (the CLI, which database, the person whose role allows the write, the command, the option naming them)
R, F = "readiness", "flashsales"
WRITES = [
    (R, "gov", "cy", ["review", "submit", "SYS-3", "gov_peak_plan", "--answer", "1=yes", "--answer", "2=ada",
                      "--evidence", "https://wiki/peak", "--rules-dir", "{rules}"]),
    (R, "gov", "ada", ["review", "approve", "1", "--comment", "complete"]),
    (R, "gov", "ada", ["review", "reject", "2", "--comment", "no rollback plan"]),
    (R, "gov", "eve", ["waiver", "request", "SYS-2", "gov_always_fails", "--reason", "after the freeze",
                      "--expires", EXPIRES, "--rules-dir", "{rules}"]),
    (R, "gov", "ada", ["waiver", "approve", "1", "--rules-dir", "{rules}"]),
    (R, "gov", "rita", ["waiver", "revoke", "2", "--reason", "the fix is deployed"]),
    (R, "gov", "rita", ["season", "create", "peak-2027", "--name", "Peak 2027", "--starts-on", "2027-11-26",
                        "--ends-on", "2027-12-31", "--target-date", "2027-10-31"]),
    (R, "gov", "rita", ["season", "update", "peak-2026", "--target-score", "95"]),
    (R, "gov", "rita", ["season", "close", "peak-2026"]),
    (R, "gov", "root", ["tokens", "issue", "cy"]),
    (R, "gov", "root", ["tokens", "revoke", "1"]),
    (F, "sales", "bd.bea", ["submit", "--file", "{request}"]),
    (F, "sales", READINESS_USER, ["review", "1"]),
    (F, "sales", RATELIMIT_USER, ["approve", "1"]),
    (F, "sales", RATELIMIT_USER, ["reject", "1", "--reason", "too close to the peak"]),
    (F, "sales", "bd.bea", ["cancel", "1", "--reason", "campaign moved"]),
    (F, "sales", RATELIMIT_USER, ["ratelimits", "set", "fashion", "700"]),
    (F, "sales", RATELIMIT_USER, ["merchants", "set", "M-1", "--name", "Threads", "--category", "ticketing"]),
    (F, "sales", ADMIN, ["roles", "grant", "zed.reports"]),
    (F, "sales", ADMIN, ["roles", "revoke", READINESS_USER]),
]
APPS = {R: readiness_app, F: flashsales_app}
NAME_OPTION = {R: "--as", F: "--actor"}


def _copy(source: Path, target: Path) -> str:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return f"sqlite:///{target}"


def _invoke(cli: str, args: list[str], url: str, env: dict | None = None):
    return runner.invoke(APPS[cli], [*args, "--db", url], env={**TEAM, "PEAK_TOKEN": None, "PEAK_USER": None,
                                                               **(env or {})})


@pytest.mark.parametrize(("cli", "db", "person", "command"), WRITES, ids=[" ".join(w[3][:2]) for w in WRITES])
def test_no_cli_write_succeeds_without_a_proven_actor_on_a_non_demo_database(templates, tmp_path, cli, db, person,
                                                                             command):
    url = _copy(templates[db], tmp_path / "copy.db")
    args = [a.format(rules=templates["rules"], request=templates["request"]) for a in command]
    before = row_counts(url)
    for claimed in ([NAME_OPTION[cli], person], []):  # the option, or (flash sales) only PEAK_USER
        refused = _invoke(cli, [*args, *claimed], url, env={"PEAK_USER": person})
        assert refused.exit_code == 1, refused.output
        assert "refused: writes on this database need a personal API token" in refused.stderr
        assert "readiness tokens issue" in refused.stderr
        assert row_counts(url) == before
    token = issue_token(url, person)
    proven = _invoke(cli, [*args, NAME_OPTION[cli], person], url, env={"PEAK_TOKEN": token})
    assert proven.exit_code == 0, proven.output


@pytest.mark.parametrize(("cli", "db", "person", "command"), WRITES[:1] + WRITES[11:12],
                         ids=["readiness", "flashsales"])
def test_a_name_beside_a_token_must_be_the_tokens_person(templates, tmp_path, cli, db, person, command):
    url = _copy(templates[db], tmp_path / "copy.db")
    args = [a.format(rules=templates["rules"], request=templates["request"]) for a in command]
    token = issue_token(url, "eve")
    before = row_counts(url)
    result = _invoke(cli, [*args, NAME_OPTION[cli], person], url, env={"PEAK_TOKEN": token})
    assert result.exit_code == 1
    assert f"{NAME_OPTION[cli]} {person} does not match the token presented, which is eve's" in result.stderr
    assert row_counts(url) == before


def _commands(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer may ship its own click)
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), {opt for param in command.params for opt in getattr(param, "opts", [])}


def test_every_command_that_takes_an_actor_is_in_the_list_and_takes_a_token():
    groups = {R: {"review", "waiver", "season", "tokens"}, F: {"ratelimits", "merchants", "roles"}}
    tested = {(cli, tuple(command[:2]) if command[0] in groups[cli] else (command[0],))
              for cli, _, _, command in WRITES}
    taking_actor = set()
    for cli, app in APPS.items():
        for path, options in _commands(typer.main.get_command(app)):
            if {"--as", "--actor"} & options:
                assert "--token-file" in options, f"{cli} {' '.join(path)} takes a name but no --token-file"
                taking_actor.add((cli, path))
    assert taking_actor == tested
