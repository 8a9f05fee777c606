"""The CLI kit on its own: formats, the missing-value rule, opening --db, errors and exit codes."""

from __future__ import annotations

import json
import math
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

import clikit
from clikit import DbOption, Format, FormatOption, cell_text, emit, open_engine

ROWS = [{"name": "checkout", "rps": 12.5, "owner": None, "extra": "not a column"},
        {"name": "payments", "rps": math.nan, "owner": "ada"}]
COLUMNS = ["name", "rps", "owner"]


def _app(command) -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    app.command("other")(lambda: None)  # two commands: typer keeps the command name
    return app


def _emitted(fmt: str, **options) -> str:
    def show(fmt: FormatOption = Format.table):
        emit(ROWS, fmt, COLUMNS, **options)

    result = CliRunner().invoke(_app(show), ["show", "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_exit_codes_are_the_documented_ones():
    assert (clikit.EXIT_OK, clikit.EXIT_ERROR, clikit.EXIT_USAGE, clikit.EXIT_GATE_FAILED) == (0, 1, 2, 3)


def test_a_table_aligns_columns_under_a_rule_and_leaves_missing_values_empty():
    assert _emitted("table").splitlines() == [
        "name      rps   owner",
        "--------  ----  -----",
        "checkout  12.5",
        "payments        ada",
    ]


def test_a_table_without_rule_and_with_a_cell_writer():
    assert _emitted("table", rule=False, cell=lambda v: f"<{v}>").splitlines() == [
        "name        rps     owner",
        "<checkout>  <12.5>",
        "<payments>          <ada>",
    ]


def test_csv_has_lf_line_endings_and_empty_cells_for_missing_values():
    text = _emitted("csv")
    assert "\r" not in text
    assert text == "name,rps,owner\ncheckout,12.5,\npayments,,ada\n"


def test_json_keeps_every_key_and_writes_missing_as_null():
    rows = json.loads(_emitted("json").replace("NaN", "null"))
    assert rows[0] == {"name": "checkout", "rps": 12.5, "owner": None, "extra": "not a column"}


def test_json_prints_the_document_when_one_is_given():
    assert json.loads(_emitted("json", document={"rows": 2})) == {"rows": 2}


def test_a_table_with_no_rows_is_its_header():
    def show():
        emit([], Format.table, COLUMNS)

    assert CliRunner().invoke(_app(show), ["show"]).stdout == "name  rps  owner\n----  ---  -----\n"


@pytest.mark.parametrize(("value", "text"), [(None, ""), (math.nan, ""), (0, "0"), (0.0, "0.0"), (False, "False"),
                                             ("", "")])
def test_cell_text_applies_the_missing_value_rule(value, text):
    assert cell_text(value) == text


def test_cell_text_hands_present_values_to_the_cell_writer():
    assert cell_text(["a", "b"], ";".join) == "a;b"
    assert cell_text(None, ";".join) == ""


def opens(db: DbOption = None):
    engine = open_engine(db)
    typer.echo(engine.dialect.name)


@pytest.mark.parametrize("url", ["postgresql://nouser@127.0.0.1:1/none", "sqlite:////nonexistent/dir/x.db",
                                 "not a url", "nosuchdialect://host/db"])
def test_a_database_that_cannot_be_opened_is_one_error_line_and_exit_1(url):
    result = CliRunner().invoke(_app(opens), ["opens", "--db", url])
    assert result.exit_code == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot open the database {url!r}: ")
    assert isinstance(result.exception, SystemExit)


def reads(db: DbOption = None):
    with clikit.open_reader(db) as reader:
        typer.echo(reader.value("SELECT count(*) FROM alembic_version"))


@pytest.mark.parametrize("url", ["postgresql://nouser@127.0.0.1:1/none", "sqlite:////nonexistent/dir/x.db",
                                 "not a url", "nosuchdialect://host/db", "sqlite:///{tmp}/not-a-database.db"])
def test_a_database_a_reader_cannot_open_is_the_same_error_line_as_for_an_engine(url, tmp_path):
    """A read through sqlite3 (clikit.open_reader) leaves what it cannot read to open_engine."""
    url = url.format(tmp=tmp_path)
    (tmp_path / "not-a-database.db").write_text("these are not the pages of an SQLite database\n" * 200)
    by_engine = CliRunner().invoke(_app(opens), ["opens", "--db", url])
    by_reader = CliRunner().invoke(_app(reads), ["reads", "--db", url])
    assert (by_reader.exit_code, by_reader.stdout, by_reader.stderr) == (1, "", by_engine.stderr)
    assert by_engine.stderr.startswith(f"error: cannot open the database {url!r}: ")


def test_a_reader_opens_a_new_database_migrated_and_then_reads_it_as_it_is(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = CliRunner().invoke(_app(reads), ["reads", "--db", url])
    again = CliRunner().invoke(_app(reads), ["reads", "--db", url])
    assert first.exit_code == again.exit_code == 0 and int(first.stdout) > 1 and again.stdout == first.stdout


def test_the_password_of_a_database_url_is_not_printed():
    result = CliRunner().invoke(_app(opens), ["opens", "--db", "postgresql://app:s3cret@127.0.0.1:1/x"])
    assert result.exit_code == 1
    assert "s3cret" not in result.stderr and "'postgresql://app:***@127.0.0.1:1/x'" in result.stderr


def test_a_databaseopens_migrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'ok.db'}"
    result = CliRunner().invoke(_app(opens), ["opens", "--db", url])
    assert result.exit_code == 0 and result.stdout == "sqlite\n"
    from sqlalchemy import inspect

    from storage import get_engine

    assert "alembic_version" in inspect(get_engine(url)).get_table_names()


def test_without_db_the_environment_names_the_database(tmp_path, monkeypatch):
    monkeypatch.setenv("PEAK_DATABASE_URL", "sqlite:////nonexistent/env/x.db")
    result = CliRunner().invoke(_app(opens), ["opens"])
    assert result.exit_code == 1 and "'sqlite:////nonexistent/env/x.db'" in result.stderr


class Refused(Exception):
    pass


class Invalid(Exception):
    exit_code = 2


@clikit.reported(Exception)
@clikit.reported(Refused, label="refused")
def acts(what: str):
    if what == "refuse":
        raise Refused("not your team")
    if what == "invalid":
        raise Invalid("bad plan")
    if what == "crash":
        raise Exception("disk full")
    typer.echo("done")


@pytest.mark.parametrize(("what", "code", "stderr"), [
    ("ok", 0, ""), ("refuse", 1, "refused: not your team\n"), ("invalid", 2, "error: bad plan\n"),
    ("crash", 1, "error: disk full\n")])
def test_reported_errors_become_one_labelled_line_and_their_exit_code(what, code, stderr):
    result = CliRunner().invoke(_app(acts), ["acts", what])
    assert (result.exit_code, result.stderr) == (code, stderr)


def test_fail_says_the_error_and_returns_the_exit():
    def stops():
        raise clikit.fail("no evaluation run yet", code=clikit.EXIT_GATE_FAILED)

    result = CliRunner().invoke(_app(stops), ["stops"])
    assert (result.exit_code, result.stderr) == (3, "error: no evaluation run yet\n")


def test_run_turns_named_errors_into_one_line_and_exit_1(capsys, monkeypatch):
    def breaks(kind: Annotated[str, typer.Argument()]):
        raise {"named": Refused, "usage": Invalid, "other": KeyError}[kind]("the reason")

    app = _app(breaks)
    for kind, code in (("named", 1), ("usage", 2)):
        monkeypatch.setattr("sys.argv", ["prog", "breaks", kind])
        with pytest.raises(SystemExit) as stopped:
            clikit.run(app, errors=(Refused, Invalid))
        assert stopped.value.code == code
        assert capsys.readouterr().err == "error: the reason\n"
    monkeypatch.setattr("sys.argv", ["prog", "breaks", "other"])
    with pytest.raises(KeyError):  # not a named error: a bug, so the traceback stays
        clikit.run(app, errors=(Refused, Invalid))


def test_say_writes_to_stderr(capsys):
    clikit.say("progress")
    assert capsys.readouterr() == ("", "progress\n")
