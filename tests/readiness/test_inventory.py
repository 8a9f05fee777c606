"""The cloud-inventory fact source: validation, versioned storage, unknown systems."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from readiness import import_catalog_file, import_inventory_file, latest_facts
from readiness.errors import InputError
from readiness.models import FactRecord
from storage import session_scope
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml


@pytest.fixture
def org(any_engine, tmp_path):
    import_catalog_file(any_engine, write_yaml(tmp_path / "c.yaml", catalog_doc()))
    return any_engine


def count_facts(engine) -> int:
    with session_scope(engine) as session:
        return session.execute(select(func.count()).select_from(FactRecord)).scalar()


def test_assets_are_grouped_per_system_and_kind(org, tmp_path):
    path = write_inventory(tmp_path / "inv.json", [
        compute("SYS-1", "api"),
        {"id": "db-1", "type": "database", "tags": {"SystemID": "SYS-1"}, "multi_az": True},
        {"id": "lonely", "type": "dashboard", "tags": {}, "url": "x"},
    ])
    report = import_inventory_file(org, path)
    facts = latest_facts(org)["SYS-1"]["inventory"]
    assert [a["id"] for a in facts.data["compute"]] == ["api"]
    assert facts.data["databases"][0]["multi_az"] is True
    assert facts.origin.endswith("inv.json")
    assert report.systems == 1


def test_a_wrong_field_type_rejects_the_file_naming_asset_and_field_and_keeps_stored_facts(org, tmp_path):
    import_inventory_file(org, write_inventory(tmp_path / "good.json", [compute("SYS-1", "api")]))
    bad = write_inventory(tmp_path / "bad.json", [compute("SYS-1", "api", replicas="three"),
                                                  {"id": "x", "type": "spaceship", "tags": {"SystemID": "SYS-1"}}])
    with pytest.raises(InputError) as caught:
        import_inventory_file(org, bad)
    text = str(caught.value)
    assert "assets[0] (id api): field replicas" in text
    assert "assets[1] (id x): field type: 'spaceship' is not one of" in text
    assert count_facts(org) == 1
    assert latest_facts(org)["SYS-1"]["inventory"].data["compute"][0]["replicas"] == 3


def test_invalid_json_names_the_line(org, tmp_path):
    path = tmp_path / "inv.json"
    path.write_text('{"assets": [\n  {"id": "a",}\n]}')
    with pytest.raises(InputError, match=r"inv.json:2: invalid JSON"):
        import_inventory_file(org, path)


def test_same_content_is_stored_once_and_a_change_adds_a_version(org, tmp_path):
    path = write_inventory(tmp_path / "inv.json", [compute("SYS-1", "api")])
    first = import_inventory_file(org, path)
    again = import_inventory_file(org, path)
    assert (first.changed, again.changed, count_facts(org)) == (1, 0, 1)
    write_inventory(path, [compute("SYS-1", "api", replicas=5)])
    changed = import_inventory_file(org, path)
    assert changed.changed == 1 and count_facts(org) == 2
    assert latest_facts(org)["SYS-1"]["inventory"].data["compute"][0]["replicas"] == 5


def test_system_ids_not_in_the_catalog_are_reported_not_stored(org, tmp_path):
    report = import_inventory_file(org, write_inventory(tmp_path / "inv.json", [compute("SYS-404", "ghost")]))
    assert report.unknown_systems == ["SYS-404"]
    assert count_facts(org) == 0
