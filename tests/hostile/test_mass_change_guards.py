"""Guards on mass changes: a truncated catalog export retires nothing, and an evaluation
with nothing in scope is an error, never a company score of 100."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from readiness import active_systems
from storage import get_engine
from tests.hostile.support import readiness, runs


@pytest.fixture
def truncated_catalog(demo_db, tmp_path) -> Path:
    """The demo's own catalog export, cut off before its systems."""
    demo_catalog = Path(demo_db.removeprefix("sqlite:///")).parent / "files" / "catalog.yaml"
    doc = yaml.safe_load(demo_catalog.read_text(encoding="utf-8"))
    doc["systems"] = []
    path = tmp_path / "truncated.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _active(db: str) -> list[str]:
    return [s.system_id for s in active_systems(get_engine(db))]


def test_a_truncated_catalog_is_refused_by_name_and_retires_nothing(demo_copy, truncated_catalog):
    before = _active(demo_copy)
    result = readiness("import", "--catalog", str(truncated_catalog), db=demo_copy)
    assert result.returncode == 1, result.stdout
    assert f"{truncated_catalog}: 1 problem; nothing was written" in result.stderr
    assert "would retire 60 of the 60 active systems (100%), more than the 10%" in result.stderr
    assert "--allow-retire" in result.stderr
    assert len(before) == 60 and _active(demo_copy) == before


def test_allow_retire_retires_them_and_the_empty_evaluation_is_an_error_storing_nothing(demo_copy,
                                                                                      truncated_catalog):
    retired = readiness("import", "--catalog", str(truncated_catalog), "--allow-retire", db=demo_copy)
    assert retired.returncode == 0, retired.stderr
    assert "(0 new, 60 retired)" in retired.stdout and _active(demo_copy) == []
    history = runs(demo_copy)
    progress = readiness("progress", "--format", "json", db=demo_copy).stdout

    result = readiness("evaluate", "--fail-under", "90", db=demo_copy)

    assert result.returncode == 1, result.stdout
    assert "error: no active systems to evaluate" in result.stderr and "no run was stored" in result.stderr
    assert result.stdout == ""
    assert runs(demo_copy) == history
    assert readiness("progress", "--format", "json", db=demo_copy).stdout == progress
    assert json.loads(progress)["score"] < 100


def test_evaluating_an_organisation_without_systems_is_an_error_not_a_score_of_100(truncated_catalog, tmp_path):
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    assert readiness("import", "--catalog", str(truncated_catalog), db=db).returncode == 0  # nothing to retire

    result = readiness("evaluate", "--fail-under", "90", "--format", "json", db=db)

    assert result.returncode == 1, result.stdout
    assert "error: no active systems to evaluate" in result.stderr and result.stdout == ""
    assert runs(db) == []
