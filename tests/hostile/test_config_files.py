"""Settings files read through the safe YAML reader: an alias bomb or an oversized file in the
serve config, the flash-sales settings, Kapacity's events, the notification routing or the
app's users file is refused by name (file, line, the limit), quickly, with nothing stored."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.users import read_users_file
from flashsales.cli import app as flashsales_app
from kapacity.cli import app as kapacity_app
from notifications import RoutingError, load_routing
from storage import get_engine, migrate
from tests.hostile.stored import row_counts
from tests.hostile.support import readiness
from tests.hostile.test_parsing import alias_bomb
from tests.kapacity.helpers import series_csv, synthetic

runner = CliRunner()
EXPANDS = "aliases expand the document to more than"


@pytest.fixture
def bomb(tmp_path) -> Path:
    """9**9 (387 million) strings once expanded, in 200 bytes: refused before anything is built."""
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(9) + "schedule: *x8\n")
    return path


@pytest.fixture
def oversized(tmp_path) -> Path:
    """A settings file of 2 MB (settings files hold a few kilobytes; the limit is 1 MB)."""
    path = tmp_path / "big.yaml"
    path.write_text("notes: |\n" + ("  " + "x" * 98 + "\n") * 20_000)
    return path


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'peak.db'}"
    migrate(get_engine(url))
    return url


def _quickly(invoke):
    started = time.perf_counter()
    result = invoke()
    assert time.perf_counter() - started < 20, "the bomb was expanded before being refused"
    return result


@pytest.mark.parametrize("which", ["bomb", "oversized"])
def test_a_hostile_serve_config_is_refused_by_name_and_nothing_runs(db, request, which):
    path = request.getfixturevalue(which)
    before = row_counts(db)
    # In its own process: serve sets up logging, which must not outlive the command in this one.
    result = _quickly(lambda: readiness("serve", "--once", "--config", str(path), db=db, timeout=60))
    assert result.returncode == 1, result.stderr
    assert str(path) in result.stderr
    assert (EXPANDS if which == "bomb" else "above the limit of 1,000,000") in result.stderr
    assert row_counts(db) == before


@pytest.mark.parametrize("which", ["bomb", "oversized"])
def test_a_hostile_flashsales_settings_file_is_refused_by_name(db, request, which):
    path = request.getfixturevalue(which)
    before = row_counts(db)
    result = _quickly(lambda: runner.invoke(flashsales_app, ["roles", "list", "--config", str(path), "--db", db]))
    assert result.exit_code == 1
    assert str(path) in result.stderr and "config" in result.stderr
    assert (EXPANDS if which == "bomb" else "above the limit") in result.stderr
    assert row_counts(db) == before


def test_a_kapacity_events_alias_bomb_is_refused_by_name(tmp_path, bomb):
    history = series_csv(tmp_path / "h.csv", synthetic(days=21, step=3600))
    events = tmp_path / "events.yaml"
    events.write_text(alias_bomb(9) + "events: *x8\n")
    out = tmp_path / "forecast.csv"
    result = _quickly(lambda: runner.invoke(kapacity_app, ["forecast", "--history", str(history), "--events",
                                                          str(events), "--horizon", "1d", "--out", str(out)]))
    assert result.exit_code == 1
    assert str(events) in result.output and EXPANDS in result.output
    assert not out.exists()


def test_a_routing_file_alias_bomb_is_refused_by_name(bomb):
    started = time.perf_counter()
    with pytest.raises(RoutingError, match=EXPANDS) as refused:
        load_routing(bomb, env={})
    assert str(bomb) in str(refused.value) and time.perf_counter() - started < 10


def test_an_app_users_file_alias_bomb_is_refused_by_name(bomb):
    with pytest.raises(ValueError, match=EXPANDS) as refused:
        read_users_file(bomb)
    assert str(bomb) in str(refused.value)
