"""Personal API tokens through `readiness tokens ...`: issued by admins (the first by the bootstrap),
shown once and stored hashed, listed without their secret, expiring, revocable, audited."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from readiness.cli import app
from storage import get_engine, migrate, utcnow
from tests.governance.support import governed_org
from tests.hostile.stored import row_counts

runner = CliRunner()
SEASON = ["season", "create", "peak-2027", "--name", "Peak 2027", "--starts-on", "2027-11-26", "--ends-on",
          "2027-12-31", "--target-date", "2027-10-31"]


@pytest.fixture
def org(tmp_path) -> str:
    """A real organisation (not a demo): admin root, readiness team rita, owners cy and dee."""
    engine = get_engine(f"sqlite:///{tmp_path / 'org.db'}")
    migrate(engine)
    governed_org(engine, tmp_path)
    return str(engine.url)


def cli(url: str, *args: str, token: str | None = None, token_file: Path | None = None):
    extra = ["--token-file", str(token_file)] if token_file else []
    return runner.invoke(app, [*args, *extra, "--db", url], env={"PEAK_TOKEN": token, "PEAK_USER": None})


def bootstrap(url: str, admin: str = "root") -> str:
    issued = cli(url, "tokens", "issue", admin, "--bootstrap")
    assert issued.exit_code == 0, issued.output
    return issued.stdout.strip()


def test_the_first_admin_bootstraps_then_issues_tokens_that_prove_their_person(org):
    root = bootstrap(org)
    assert root.startswith("peak_") and len(root) > 40
    issued = cli(org, "tokens", "issue", "rita", "--note", "laptop", "--format", "json", token=root)
    assert issued.exit_code == 0, issued.output
    rita = json.loads(issued.stdout)["token"]
    assert "shown once" in issued.stderr
    created = cli(org, *SEASON, token=rita)
    assert created.exit_code == 0, created.output
    shown = json.loads(cli(org, "season", "show", "peak-2027", "--format", "json").stdout)
    assert shown["history"][0]["actor"] == "rita"
    assert cli(org, "tokens", "whoami", token=rita).stdout.strip() == "rita is readiness_team"


def test_the_secret_is_never_stored_nor_listed(org):
    root = bootstrap(org)
    listed = cli(org, "tokens", "list", "--format", "json")
    assert root not in listed.stdout
    [row] = json.loads(listed.stdout)
    assert (row["person"], row["issued_by"], row["state"]) == ("root", "bootstrap", "active")
    assert root.startswith(row["hint"].rstrip("…"))
    with sqlite3.connect(org.removeprefix("sqlite:///")) as db:
        dump = "\n".join(db.iterdump())
    assert root not in dump and hashlib.sha256(root.encode()).hexdigest() in dump


def test_the_bootstrap_is_for_a_catalog_admin_and_closes_once_one_holds_a_token(org):
    before = row_counts(org)
    not_admin = cli(org, "tokens", "issue", "rita", "--bootstrap")
    assert not_admin.exit_code == 1 and "rita is not one (admins: root)" in not_admin.stderr
    assert row_counts(org) == before
    bootstrap(org)
    again = cli(org, "tokens", "issue", "root", "--bootstrap")
    assert again.exit_code == 1 and "--bootstrap is closed" in again.stderr


def test_only_admins_issue_and_a_token_without_an_admin_cannot(org):
    root = bootstrap(org)
    rita = cli(org, "tokens", "issue", "rita", token=root).stdout.strip()
    before = row_counts(org)
    refused = cli(org, "tokens", "issue", "cy", token=rita)
    assert refused.exit_code == 1 and "rita is not an admin in the catalog" in refused.stderr
    bare = cli(org, "tokens", "issue", "cy", "--as", "root")
    assert bare.exit_code == 1 and "need a personal API token" in bare.stderr
    assert row_counts(org) == before


def test_a_revoked_token_proves_no_one_and_only_its_person_or_an_admin_revokes(org):
    root = bootstrap(org)
    rita = cli(org, "tokens", "issue", "rita", token=root).stdout.strip()
    cy = cli(org, "tokens", "issue", "cy", token=root).stdout.strip()
    other = cli(org, "tokens", "revoke", "2", token=cy)
    assert other.exit_code == 1 and "cy may revoke only their own tokens" in other.stderr
    assert cli(org, "tokens", "revoke", "2", token=root).exit_code == 0
    refused = cli(org, *SEASON, token=rita)
    assert refused.exit_code == 1 and "token 2 of rita was revoked" in refused.stderr
    assert "peak-2027" not in cli(org, "season", "list").stdout
    assert cli(org, "tokens", "revoke", "3", token=cy).exit_code == 0  # one's own
    audit = json.loads(cli(org, "audit", "--format", "json").stdout)
    assert [(a["actor"], a["action"], a["entity"]) for a in audit if a["action"].startswith("token.")] == [
        ("bootstrap", "token.issued", "token:1"), ("root", "token.issued", "token:2"),
        ("root", "token.issued", "token:3"), ("root", "token.revoked", "token:2"), ("cy", "token.revoked", "token:3")]
    assert {r["id"] for r in json.loads(cli(org, "tokens", "list", "--format", "json").stdout)} == {1}
    assert len(json.loads(cli(org, "tokens", "list", "--all", "--format", "json").stdout)) == 3


def test_an_expired_token_is_refused_saying_when_it_expired(org):
    from identity import issue_token

    root = bootstrap(org)
    rita = issue_token(get_engine(org), "rita", issued_by="root", days=1, now=utcnow() - timedelta(days=2)).secret
    refused = cli(org, *SEASON, token=rita)
    assert refused.exit_code == 1 and "expired on" in refused.stderr and "ask an admin for a new one" in refused.stderr
    assert cli(org, "tokens", "issue", "rita", "--days", "400", token=root).exit_code == 1


def test_a_token_file_must_be_private_and_an_unknown_token_is_refused(org, tmp_path):
    root = bootstrap(org)
    rita = cli(org, "tokens", "issue", "rita", token=root).stdout.strip()
    path = tmp_path / "rita.token"
    path.write_text(rita + "\n")
    path.chmod(0o644)
    shared = cli(org, *SEASON, token_file=path)
    assert shared.exit_code == 1 and "other users can read it; `chmod 600" in shared.stderr
    path.chmod(0o600)
    assert cli(org, *SEASON, token_file=path).exit_code == 0
    forged = cli(org, "season", "close", "peak-2027", token="peak_" + "A" * 43)
    assert forged.exit_code == 1 and "not known to this database" in forged.stderr


def test_on_a_demo_database_a_name_alone_is_trusted(demo_db, tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    with sqlite3.connect(demo_db.removeprefix("sqlite:///")) as source, sqlite3.connect(url[10:]) as target:
        source.backup(target)
    people = json.loads(cli(url, "season", "list", "--format", "json").stdout)
    assert people  # the demo has its season
    no_name = cli(url, *SEASON)
    assert no_name.exit_code == 1 and "--as: name the user acting" in no_name.stderr
    admin = get_engine(url)
    from readiness import central_roles

    name = sorted(u for u, roles in central_roles(admin).items() if "readiness_team" in roles)[0]
    other = [("peak-2030" if a == "peak-2027" else a) for a in SEASON]  # the demo may hold peak-2027
    created = cli(url, *other, "--as", name)
    assert created.exit_code == 0, created.output
