"""The real series in tests/data: each one has its source and its trim written down, and they stay small."""

from __future__ import annotations

from tests.conftest import DATA

FILES = sorted(DATA.glob("*.csv.gz"))


def test_every_series_names_its_source_licence_and_trim():
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    trim = (DATA / "trim.py").read_text(encoding="utf-8")
    assert len(FILES) >= 8
    for path in FILES:
        assert f"`{path.name}`" in sources, path.name
        assert f'"{path.name.removesuffix(".csv.gz")}"' in trim, path.name


def test_the_series_stay_well_under_a_megabyte():
    assert sum(path.stat().st_size for path in FILES) < 500_000
