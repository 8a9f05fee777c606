"""Importing the organisation: YAML and CSV, idempotent upserts, retirement, bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from readiness import active_systems, import_catalog_file, org_units
from readiness.errors import InputError
from readiness.models import Dependency, System
from storage import session_scope
from tests.readiness.helpers import catalog_doc, write_yaml


def test_yaml_catalog_imports_hierarchy_systems_and_dependencies(any_engine, tmp_path):
    report = import_catalog_file(any_engine, write_yaml(tmp_path / "c.yaml", catalog_doc()))
    assert (report.domains, report.groups, report.teams, report.systems, report.dependencies) == (2, 2, 2, 3, 2)
    systems = {s.system_id: s for s in active_systems(any_engine)}
    assert systems["SYS-1"].domain == "pay" and systems["SYS-2"].domain == "risk"
    assert systems["SYS-1"].dependencies == (("SYS-2", "sync"), ("SYS-3", "async"))


def test_traffic_class_is_flas_for_purchase_flow_and_its_synchronous_dependencies(engine, tmp_path):
    import_catalog_file(engine, write_yaml(tmp_path / "c.yaml", catalog_doc()))
    classes = {s.system_id: s.traffic_class for s in active_systems(engine)}
    # SYS-2 is reached synchronously from the purchase flow; SYS-3 only asynchronously.
    assert classes == {"SYS-1": "FLAS", "SYS-2": "FLAS", "SYS-3": "Baseline"}


def test_reimport_is_idempotent_and_a_missing_system_is_retired_not_deleted(any_engine, tmp_path):
    path = write_yaml(tmp_path / "c.yaml", catalog_doc())
    import_catalog_file(any_engine, path)
    again = import_catalog_file(any_engine, path)
    assert again.created == [] and again.retired == []
    doc = catalog_doc()
    doc["systems"] = [s for s in doc["systems"] if s["id"] != "SYS-3"]
    doc["systems"][0]["dependencies"] = [{"system": "SYS-2", "kind": "sync"}]
    report = import_catalog_file(any_engine, write_yaml(tmp_path / "c2.yaml", doc))
    assert report.retired == ["SYS-3"]
    with session_scope(any_engine) as session:
        assert session.get(System, "SYS-3").retired is True
        assert session.execute(select(func.count()).select_from(System)).scalar() == 3
    assert [s.system_id for s in active_systems(any_engine)] == ["SYS-1", "SYS-2"]


def test_csv_export_creates_hierarchy_from_columns(engine, tmp_path):
    path = tmp_path / "systems.csv"
    path.write_text(
        "system_id,name,domain,group,team,tier,public,purchase_flow,dependencies,services\n"
        "S1,api,pay,pay-core,checkout,critical,yes,true,S2:sync,read;write\n"
        "S2,db-proxy,pay,pay-core,storage,High,no,false,,\n", encoding="utf-8")
    report = import_catalog_file(engine, path)
    assert (report.domains, report.groups, report.teams, report.systems) == (1, 1, 2, 2)
    systems = {s.system_id: s for s in active_systems(engine)}
    assert systems["S2"].tier == "high" and systems["S2"].traffic_class == "FLAS"
    assert [svc["name"] for svc in systems["S1"].services] == ["read", "write"]


def _rejected(engine, tmp_path, doc, *expected):
    with pytest.raises(InputError) as caught:
        import_catalog_file(engine, write_yaml(tmp_path / "bad.yaml", doc))
    text = str(caught.value)
    for fragment in expected:
        assert fragment in text, text
    with session_scope(engine) as session:
        assert session.execute(select(func.count()).select_from(System)).scalar() == 0, "nothing is written"
        assert session.execute(select(func.count()).select_from(Dependency)).scalar() == 0


def test_duplicate_system_ids_are_rejected_naming_the_record(any_engine, tmp_path):
    doc = catalog_doc()
    doc["systems"].append(dict(doc["systems"][1]))
    _rejected(any_engine, tmp_path, doc, "systems[3]", "duplicate system id 'SYS-2'")


def test_unknown_team_is_rejected_naming_record_and_field(engine, tmp_path):
    doc = catalog_doc()
    doc["systems"][2]["team"] = "nobody"
    _rejected(engine, tmp_path, doc, "systems[2] (record SYS-3): field team: unknown team 'nobody'")


def test_dependency_on_unknown_system_is_rejected(engine, tmp_path):
    doc = catalog_doc()
    doc["systems"][1]["dependencies"] = [{"system": "SYS-404"}]
    _rejected(engine, tmp_path, doc, "field dependencies[0].system: unknown system 'SYS-404'")


def test_wrong_type_is_rejected_naming_the_field(engine, tmp_path):
    doc = catalog_doc()
    doc["systems"][0]["tier"] = "super-critical"
    doc["systems"][1]["public"] = "maybe"
    _rejected(engine, tmp_path, doc, "systems.0.tier (record SYS-1)", "systems.1.public (record SYS-2)")


def test_cycle_in_the_group_hierarchy_is_rejected(engine, tmp_path):
    doc = catalog_doc()
    doc["groups"] += [{"key": "pay-a", "name": "A", "domain": "pay", "parent": "pay-b"},
                      {"key": "pay-b", "name": "B", "domain": "pay", "parent": "pay-a"}]
    _rejected(engine, tmp_path, doc, "cycle in the hierarchy", "group pay-a", "group pay-b")


def test_csv_bad_row_names_the_line_and_field(engine, tmp_path):
    path = tmp_path / "systems.csv"
    path.write_text("system_id,name,domain,group,team,tier,public\n"
                    "S1,api,pay,core,checkout,critical,yes\n"
                    "S2,api2,pay,core,checkout,critical,perhaps\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"systems.csv:3: record 'S2': field public"):
        import_catalog_file(engine, path)


def test_invalid_yaml_names_the_line(engine, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("domains:\n  - key: a\n    name: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken.yaml:\d+: invalid YAML"):
        import_catalog_file(engine, path)


def test_sub_groups_roll_up_into_their_parent_group(engine, tmp_path):
    doc = catalog_doc()
    doc["groups"].append({"key": "pay-edge", "name": "Edge", "domain": "pay", "parent": "pay-core"})
    doc["teams"].append({"key": "edge", "name": "Edge", "group": "pay-edge"})
    doc["systems"].append({"id": "SYS-9", "name": "edge-proxy", "team": "edge", "tier": "medium"})
    import_catalog_file(engine, write_yaml(tmp_path / "c.yaml", doc))
    units = {(u.level, u.key): u for u in org_units(engine)}
    assert units[("group", "pay-edge")].parent_key == "pay-core"
    assert units[("group", "pay-edge")].parent_level == "group"
