"""Kapacity refuses histories its models cannot hold (values that overflow to 0 or infinity)
by name, and an `--out` it cannot write ends in a named error, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kapacity.cli import app

runner = CliRunner()


def history(path: Path, *, huge: str | None = None, at: int = 30) -> Path:
    """Three days of hourly counts; the value on line ``at + 2`` replaced by ``huge``."""
    lines = ["timestamp,value"]
    for hour in range(72):
        value = huge if huge is not None and hour == at else str(100 + hour % 24)
        lines.append(f"2024-01-{1 + hour // 24:02d}T{hour % 24:02d}:00:00,{value}")
    path.write_text("\n".join(lines) + "\n")
    return path


def kapacity(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("command", [["forecast", "--horizon", "12h"], ["capacity", "--format", "json"]])
@pytest.mark.parametrize("huge", ["1e308", "1e200", "1e16", "inf"])
def test_overflowing_history_values_are_refused_by_file_line_and_field(tmp_path, command, huge):
    path = history(tmp_path / "h.csv", huge=huge)
    out = tmp_path / "out.csv"
    extra = ["--out", out] if command[0] == "forecast" else []
    result = kapacity(*command, "--history", path, *extra)
    assert result.exit_code == 1, result.output
    assert f"{path}: line 32, field 'value'" in result.stderr
    assert "inf" not in result.stdout and "flas" not in result.stdout.lower()
    assert not out.exists()


def test_kapacity_bounds_values_as_the_storage_does():
    from kapacity.history import MAX_VALUE
    from storage import MAX_DECIMAL

    assert MAX_VALUE == MAX_DECIMAL


def test_the_largest_accepted_value_still_forecasts(tmp_path):
    result = kapacity("forecast", "--history", history(tmp_path / "h.csv", huge="1e15"), "--horizon", "12h")
    assert result.exit_code == 0, result.output


def test_forecast_out_as_a_directory_is_a_named_error_and_leaves_it_alone(tmp_path):
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "keep.txt").write_text("kept")
    result = kapacity("forecast", "--history", history(tmp_path / "h.csv"), "--horizon", "12h", "--out", folder)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"--out {folder}: is a directory" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]


def test_forecast_out_that_cannot_be_written_is_a_named_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = blocker / "f.csv"  # a file's child: the folder cannot be made
    result = kapacity("forecast", "--history", history(tmp_path / "h.csv"), "--horizon", "12h", "--out", out)
    assert result.exit_code == 1, result.output
    assert f"--out {out}: cannot write the CSV" in result.stderr
    assert blocker.read_text() == "x"
