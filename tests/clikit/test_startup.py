"""What starting a command costs: `--help` and the quick reads import only what they use.

Every command used to import the whole stack (pandas, SQLModel, statsmodels, apprise, Alembic)
before doing anything; `--help` took 0.8 s and a read 1.2-2.3 s (issue 19). The package
surfaces load their names on first use (PEP 562), each command imports what it runs, a
database already at every migration head is opened without Alembic, and the quick reads
(`runs`, `score`, `explain`) answer in plain SQL, on SQLite through the standard library's sqlite3,
without SQLAlchemy, SQLModel or the table models. Help is click's plain help, without rich.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from clikit import counted

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "pandas", "numpy", "statsmodels", "apprise", "alembic",
         "networkx", "yaml", "rich", "markdown_it", "typer.rich_utils")
PACKAGES = ("storage", "notifications", "clikit", "readiness", "governance", "collectors", "kapacity",
            "perftest", "flashsales", "operations")


def _imported(cli: str, *args: str, watch: tuple[str, ...] = HEAVY) -> list[str]:
    """Run `cli args...` in a fresh interpreter; the modules of ``watch`` it imported."""
    code = (f"import sys, json\nfrom {cli}.cli import main\nsys.argv = [{cli!r}, *{list(args)!r}]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
            f"print(json.dumps([code, sorted(m for m in {watch!r} if m in sys.modules)]), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    exit_code, loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert exit_code in (0, None), done.stderr
    return loaded


@pytest.mark.parametrize("cli", ["readiness", "kapacity", "perftest", "flashsales"])
def test_help_imports_no_database_layer_and_no_data_stack(cli):
    assert _imported(cli, "--help") == []


PLUGINS = ("governance.cli", "operations.cli", "collectors.cli")


@pytest.mark.parametrize(("args", "plugins"), [(["runs", "--help"], []), (["score", "--help"], []),
                                               (["--help"], sorted(PLUGINS)), (["rules", "--help"], sorted(PLUGINS)),
                                               (["audit", "--help"], sorted(PLUGINS))], ids=repr)
def test_a_core_command_loads_no_plugin_and_anything_else_loads_them_all(args, plugins):
    """Finding the `peak_readiness.cli` entry points and importing them is left to what needs them:
    the listing, a plugin's command, a group plugins add to (`rules`, `collect`)."""
    assert _imported("readiness", *args, watch=PLUGINS) == plugins


@pytest.mark.parametrize("args", [["review", "--help"], ["collect", "kubernetes", "--help"],
                                  ["notifications", "list", "--help"], ["serve", "--help"]])
def test_the_help_of_plugin_commands_imports_none_of_their_stack(args):
    # typer itself validates a group's options with pydantic once it parses them; nothing of ours
    assert [m for m in _imported("readiness", *args) if m != "pydantic"] == []


def test_a_read_on_a_current_database_skips_alembic_and_the_data_stack(sqlite_url):
    assert "alembic" in _imported("readiness", "runs", "--db", sqlite_url)  # a new database is migrated
    loaded = _imported("readiness", "runs", "--db", sqlite_url)
    assert "alembic" not in loaded
    assert not {"sqlalchemy", "pandas", "numpy", "statsmodels", "apprise", "networkx"} & set(loaded), loaded


# What the quick reads must not import: they answer in plain SQL (readiness.quickreads), on an
# SQLite file through the standard library's sqlite3 (storage.plainsql).
FULL_STACK = ("sqlmodel", "alembic", "pandas", "sqlalchemy", "readiness.models", "readiness.catalog",
              "readiness.reports", "readiness.engine")


@pytest.mark.parametrize("args", [["runs"], ["score"], ["score", "--level", "system", "--format", "json"],
                                  ["score", "--fail-under", "1"], ["explain", "SYS-0001"],
                                  ["explain", "SYS-0001", "--format", "json"]], ids=" ".join)
def test_the_quick_reads_on_sqlite_import_no_sqlalchemy_no_table_models_and_no_data_stack(demo_db, args):
    watch = (*FULL_STACK, "readiness.quickreads", "sqlite3")
    assert _imported("readiness", *args, "--db", demo_db, watch=watch) == ["readiness.quickreads", "sqlite3"]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_of_a_package_resolves(package):
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == [], f"{package}.__all__ names nothing for {missing}"
    assert set(module.__all__) <= set(dir(module))


@pytest.mark.parametrize(("package", "name"), [("storage", "migrate"), ("kapacity", "capacity"),
                                               ("kapacity", "backtest"), ("flashsales", "review")])
def test_a_function_named_like_its_module_stays_the_function_once_the_module_is_imported(package, name):
    code = f"import {package}.{name}, {package}; print(callable({package}.{name}), type({package}.{name}).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "function"]


def test_an_unknown_name_is_an_attribute_error():
    import readiness

    with pytest.raises(AttributeError, match="no_such_name"):
        readiness.no_such_name  # noqa: B018


def test_what_the_options_show_equals_its_source():
    """Written out in the CLI modules so that `--help` needs no import of their source."""
    import flashsales.ratelimits
    import notifications
    import perftest.cli
    import perftest.spec
    import perftest.target
    from flashsales import cli as flashsales_cli
    from operations import outbox_cli

    assert [t.value for t in perftest.cli.TestTypeChoice] == [t.value for t in perftest.spec.TestType]
    assert perftest.cli.DEFAULT_BASE_LATENCY_MS == perftest.target.DEFAULT_BASE_LATENCY_S * 1000
    assert perftest.cli.DEFAULT_MAX_QUEUE_MS == perftest.target.DEFAULT_MAX_QUEUE_S * 1000
    assert flashsales_cli.ENVOY_DOMAIN == flashsales.ratelimits.ENVOY_DOMAIN
    assert outbox_cli.STATUSES == notifications.STATUSES


@pytest.mark.parametrize(("n", "thing", "plural", "expected"), [
    (1, "system", None, "1 system"), (0, "system", None, "0 systems"), (2, "policy", "policies", "2 policies"),
    (12_500, "result", None, "12,500 results")])
def test_counts_are_words_for_people(n, thing, plural, expected):
    assert counted(n, thing, plural) == expected


def _every_command_line() -> list[tuple[str, list[str]]]:
    import typer

    lines = []
    for cli in ("readiness", "kapacity", "perftest", "flashsales"):
        group = typer.main.get_command(importlib.import_module(f"{cli}.cli").app)
        for name, command in sorted(group.commands.items()):
            lines.append((cli, [name]))
            lines += [(cli, [name, sub]) for sub in sorted(getattr(command, "commands", {}))]
    return lines


@pytest.mark.parametrize(("cli", "line"), _every_command_line(), ids=lambda value: " ".join(value)
                         if isinstance(value, list) else value)
def test_a_command_built_alone_reads_as_in_the_whole_app(cli, line):
    """Each CLI builds only the command asked (clikit.apps.asked_only); its help is the same."""
    from typer.testing import CliRunner

    from clikit.apps import asked_only

    app = importlib.import_module(f"{cli}.cli").app
    narrowed = asked_only(app, line)
    assert narrowed is not app
    whole = CliRunner().invoke(app, [*line, "--help"], env={"COLUMNS": "100"})
    alone = CliRunner().invoke(narrowed, [*line, "--help"], env={"COLUMNS": "100"})
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output) and whole.exit_code == 0


@pytest.mark.parametrize("args", [["runs", "--limit", "none"], ["score", "--level", "planet"], ["explain"],
                                  ["rules", "nope"], ["runs", "extra"]], ids=" ".join)
def test_a_command_built_alone_refuses_bad_usage_as_the_whole_app(args):
    from typer.testing import CliRunner

    from clikit.apps import asked_only
    from readiness.cli import app

    whole = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
    alone = CliRunner().invoke(asked_only(app, args), args, env={"COLUMNS": "100"})
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output) and whole.exit_code == 2


@pytest.mark.parametrize("args", [[], ["nope"], ["--install-completion"], ["--help", "runs"]])
def test_the_whole_app_answers_what_names_no_command(args):
    from clikit.apps import asked_only
    from readiness.cli import app

    assert asked_only(app, args) is app


def test_a_quick_read_builds_only_its_own_command():
    import typer

    from clikit.apps import asked_only
    from readiness.cli import app

    assert len(typer.main.get_command(asked_only(app, ["runs", "--db", "x"])).commands) == 2


CLIS = ("readiness", "kapacity", "perftest", "flashsales")


def _app_of(cli: str):
    return importlib.import_module(f"{cli}.cli").app


@pytest.mark.parametrize("cli", CLIS)
def test_the_listing_of_an_app_reads_as_the_whole_app_and_builds_no_command(cli):
    """`--help` alone lists the commands from their help texts (clikit.apps.listing)."""
    import typer
    from typer.testing import CliRunner

    from clikit.apps import asked_only

    app = _app_of(cli)
    listed = asked_only(app, ["--help"])
    stand_ins = typer.main.get_command(listed).commands.values()
    assert [param.name for command in stand_ins for param in command.params] == []
    whole = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "100"})
    alone = CliRunner().invoke(listed, ["--help"], env={"COLUMNS": "100"})
    assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output) and whole.exit_code == 0


def _first_sentence(help_text: str) -> str:
    """A command's first paragraph up to the end of its first sentence, in one line."""
    words = help_text.split("\n\n")[0].split()
    ends = [i for i, word in enumerate(words) if word.endswith(".")]
    return " ".join(words[:ends[0] + 1] if ends else words)


@pytest.mark.parametrize(("cli", "group"), [(cli, None) for cli in CLIS] + [
    ("readiness", "rules"), ("readiness", "collect"), ("readiness", "season"), ("flashsales", "ratelimits")])
def test_help_lists_every_command_with_its_whole_first_sentence(cli, group):
    import typer
    from typer.testing import CliRunner

    app = typer.main.get_command(_app_of(cli))
    listed = app.commands[group] if group else app
    shown = CliRunner().invoke(_app_of(cli), [*filter(None, [group]), "--help"], env={"COLUMNS": "100"})
    assert shown.exit_code == 0
    text = " ".join(shown.output.split())
    expected = [f"{name} {_first_sentence(command.help)}" for name, command in listed.commands.items()
                if not command.hidden]
    assert len(expected) > 1 and [line for line in expected if line not in text] == []


@pytest.mark.parametrize("cli", CLIS)
def test_a_usage_error_imports_no_rich(cli):
    code = (f"import sys\nfrom {cli}.cli import main\nsys.argv = [{cli!r}, '--no-such-option']\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    print(exc.code, 'rich' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["2", "False"], done.stderr
    assert "No such option: --no-such-option" in done.stderr
