"""Fixtures for Kapacity: the real data folder and short slices of its files."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"shared data folder not found at {DATA}")
    return DATA


@pytest.fixture
def slice_of(data_dir, tmp_path):
    """Write the first (or a range of) lines of a real file to tmp and return the path."""
    def make(name: str, start: int = 0, rows: int = 500) -> Path:
        lines = (data_dir / name).read_text().splitlines()
        out = tmp_path / f"slice-{start}-{rows}-{name}"
        out.write_text("\n".join([lines[0], *lines[1 + start:1 + start + rows]]) + "\n")
        return out
    return make
