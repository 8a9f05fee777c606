"""Fixtures for Kapacity: short slices of the real series in tests/data (``data_dir``)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest


@pytest.fixture
def slice_of(data_dir, tmp_path):
    """Write the first (or a range of) lines of a real file to tmp as plain CSV and return the path."""
    def make(name: str, start: int = 0, rows: int = 500) -> Path:
        with gzip.open(data_dir / name, "rt", encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        assert len(lines) > start + rows, f"{name} holds {len(lines) - 1} rows; see tests/data/trim.py"
        out = tmp_path / f"slice-{start}-{rows}-{name.removesuffix('.gz')}"
        out.write_text("\n".join([lines[0], *lines[1 + start:1 + start + rows]]) + "\n")
        return out
    return make
