"""Importing the organisation: YAML and CSV, idempotent upserts, retirement, bad input."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import event, func, select

from readiness import active_systems, import_catalog_file, org_units
from readiness.catalog import DependencyIn, load_catalog_file
from readiness.errors import InputError
from readiness.models import Dependency, System, Team
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


# ---------------------------------------------------------------- re-imports write only what changed


def _rows(engine, model) -> dict:
    with session_scope(engine) as session:
        return {row[0]: row for row in session.execute(select(model.__table__)).all()}


def test_a_retired_system_team_group_and_domain_come_back_when_they_reappear(any_engine, tmp_path):
    full = write_yaml(tmp_path / "full.yaml", catalog_doc())
    import_catalog_file(any_engine, full)
    doc = catalog_doc()
    doc["domains"], doc["groups"], doc["teams"] = doc["domains"][:1], doc["groups"][:1], doc["teams"][:1]
    doc["systems"] = [{"id": "SYS-1", "name": "checkout-api", "team": "checkout", "tier": "critical"}]
    shrunk = import_catalog_file(any_engine, write_yaml(tmp_path / "shrunk.yaml", doc), allow_retire=True)
    assert shrunk.retired == ["SYS-2", "SYS-3"]
    assert {u.key for u in org_units(any_engine)} == {"pay", "pay-core", "checkout"}
    assert _rows(any_engine, System)["SYS-2"].retired_at is not None

    back = import_catalog_file(any_engine, full)
    assert back.created == [] and back.retired == []
    assert {u.key for u in org_units(any_engine)} == {"pay", "risk", "pay-core", "risk-ml", "checkout", "fraud"}
    systems = _rows(any_engine, System)
    assert [(s.retired, s.retired_at) for s in systems.values()] == [(False, None)] * 3
    assert active_systems(any_engine)[0].dependencies == (("SYS-2", "sync"), ("SYS-3", "async"))


def test_a_system_already_retired_keeps_its_retirement_time_and_is_not_reported_again(engine, tmp_path):
    import_catalog_file(engine, write_yaml(tmp_path / "c.yaml", catalog_doc()))
    doc = catalog_doc()
    doc["systems"] = doc["systems"][:2]
    doc["systems"][0]["dependencies"] = [{"system": "SYS-2", "kind": "sync"}]
    path = write_yaml(tmp_path / "c2.yaml", doc)
    assert import_catalog_file(engine, path).retired == ["SYS-3"]
    first_retired_at = _rows(engine, System)["SYS-3"].retired_at
    assert import_catalog_file(engine, path).retired == []
    assert _rows(engine, System)["SYS-3"].retired_at == first_retired_at


def test_changed_fields_and_moves_between_teams_groups_and_domains_are_stored(any_engine, tmp_path):
    import_catalog_file(any_engine, write_yaml(tmp_path / "c.yaml", catalog_doc()))
    doc = catalog_doc()
    doc["groups"][1]["domain"] = "pay"  # risk-ml moves to the pay domain
    doc["teams"][1]["members"] = ["eve", "fay"]
    doc["systems"][2].update(team="fraud", tier="critical", services=[{"name": "send", "method": "POST"}])
    import_catalog_file(any_engine, write_yaml(tmp_path / "c2.yaml", doc))
    receipts = {s.system_id: s for s in active_systems(any_engine)}["SYS-3"]
    assert (receipts.team, receipts.domain, receipts.tier) == ("fraud", "pay", "critical")
    assert receipts.services == ({"name": "send", "endpoint": "", "method": "POST"},)
    assert _rows(any_engine, Team)["fraud"].members == ["eve", "fay"]


def test_dependencies_follow_the_file_and_a_target_named_twice_keeps_the_last_kind(any_engine, tmp_path):
    import_catalog_file(any_engine, write_yaml(tmp_path / "c.yaml", catalog_doc()))
    doc = catalog_doc()
    doc["systems"][0]["dependencies"] = [{"system": "SYS-2", "kind": "sync"}, {"system": "SYS-2", "kind": "async"}]
    doc["systems"][1]["dependencies"] = [{"system": "SYS-3"}]
    report = import_catalog_file(any_engine, write_yaml(tmp_path / "c2.yaml", doc))
    assert report.dependencies == 2
    systems = {s.system_id: s for s in active_systems(any_engine)}
    assert systems["SYS-1"].dependencies == (("SYS-2", "async"),)
    assert systems["SYS-2"].dependencies == (("SYS-3", "sync"),)


def test_a_retired_system_keeps_its_recorded_dependencies(engine, tmp_path):
    doc = catalog_doc()
    doc["systems"][1]["dependencies"] = [{"system": "SYS-3"}]
    import_catalog_file(engine, write_yaml(tmp_path / "c.yaml", doc))
    doc["systems"] = [doc["systems"][1] | {"dependencies": []}, doc["systems"][2]]
    import_catalog_file(engine, write_yaml(tmp_path / "c2.yaml", doc))
    with session_scope(engine) as session:
        pairs = set(session.execute(select(Dependency.source_id, Dependency.target_id)).all())
    assert pairs == {("SYS-1", "SYS-2"), ("SYS-1", "SYS-3")}


def test_reimporting_an_unchanged_catalog_writes_no_rows(any_engine, tmp_path):
    path = write_yaml(tmp_path / "c.yaml", catalog_doc(readiness_team=["ada"]))
    import_catalog_file(any_engine, path)
    writes: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(any_engine, "before_cursor_execute", record)
    try:
        report = import_catalog_file(any_engine, path)
    finally:
        event.remove(any_engine, "before_cursor_execute", record)
    assert writes == []
    assert (report.systems, report.dependencies, report.created, report.retired) == (3, 2, [], [])


# ---------------------------------------------------------------- reading YAML


def _write(tmp_path, text: str):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


HIERARCHY = """\
domains: [{key: pay, name: Payments}]
groups: [{key: core, name: Core, domain: pay}]
teams: [{key: checkout, name: Checkout, group: core}]
"""


def test_yaml_keeps_quoted_strings_and_reads_yaml_1_1_booleans_and_nulls(engine, tmp_path):
    path = _write(tmp_path, HIERARCHY + """\
systems:
  - {id: "1001", name: "true", team: checkout, tier: high, public: yes, purchase_flow: off, traffic_class: ~}
  - {id: S2, name: '123', team: checkout, tier: LOW, public: True, traffic_class: null}
""")
    systems = {s.id: s for s in load_catalog_file(path).systems}
    assert (systems["1001"].name, systems["1001"].public, systems["1001"].purchase_flow) == ("true", True, False)
    assert (systems["S2"].name, systems["S2"].tier, systems["S2"].public) == ("123", "low", True)
    assert systems["1001"].traffic_class is None and systems["S2"].traffic_class is None


def test_an_unquoted_number_where_a_name_belongs_is_refused_as_a_number(engine, tmp_path):
    path = _write(tmp_path, HIERARCHY + "systems: [{id: S1, name: 123, team: checkout, tier: high}]\n")
    with pytest.raises(InputError, match=r"systems\.0\.name \(record S1\): Input should be a valid string"):
        load_catalog_file(path)


def test_yaml_anchors_aliases_and_merge_keys_are_read_as_pyyaml_reads_them(engine, tmp_path):
    path = _write(tmp_path, HIERARCHY + """\
systems:
  - &api {id: S1, name: api, team: checkout, tier: high, public: true, dependencies: &deps [{system: S3}]}
  - {<<: *api, id: S2, name: worker, tier: low}
  - {<<: *api, id: S3, name: edge, dependencies: []}
""")
    systems = {s.id: s for s in load_catalog_file(path).systems}
    assert [(s.name, s.tier, s.team, s.public) for s in systems.values()] == [
        ("api", "high", "checkout", True), ("worker", "low", "checkout", True), ("edge", "high", "checkout", True)]
    assert systems["S1"].dependencies == systems["S2"].dependencies == [DependencyIn(system="S3")]
    assert systems["S3"].dependencies == []


def test_yaml_with_an_unknown_tag_is_refused_naming_the_file_and_line(engine, tmp_path):
    path = _write(tmp_path, HIERARCHY + "systems:\n  - {id: S1, name: !shell rm, team: checkout, tier: high}\n")
    with pytest.raises(InputError, match=r"c\.yaml:5: invalid YAML: could not determine a constructor"):
        load_catalog_file(path)


def test_reading_yaml_leaves_the_garbage_collector_as_it_found_it(engine, tmp_path):
    good = _write(tmp_path, HIERARCHY)
    broken = tmp_path / "broken.yaml"
    broken.write_text("domains: [unclosed\n", encoding="utf-8")
    load_catalog_file(good)
    with pytest.raises(InputError):
        load_catalog_file(broken)
    assert gc.isenabled()
    gc.disable()
    try:
        load_catalog_file(good)
        assert not gc.isenabled()
    finally:
        gc.enable()


def _many_systems(count: int) -> list[dict]:
    return [{"id": f"SYS-{i:02d}", "name": f"svc-{i}", "team": "checkout", "tier": "low"} for i in range(count)]


def test_an_import_may_retire_up_to_the_allowed_share_and_no_more_without_allow_retire(engine, tmp_path):
    from readiness import MassRetirement

    import_catalog_file(engine, write_yaml(tmp_path / "all.yaml", catalog_doc(_many_systems(30))))
    fewer = write_yaml(tmp_path / "fewer.yaml", catalog_doc(_many_systems(27)))  # 3 of 30: the 10% allowed
    assert import_catalog_file(engine, fewer).retired == ["SYS-27", "SYS-28", "SYS-29"]
    before = _rows(engine, System)
    with pytest.raises(MassRetirement, match=r"would retire 4 of the 27 active systems \(15%\), more than the 10%"):
        import_catalog_file(engine, write_yaml(tmp_path / "less.yaml", catalog_doc(_many_systems(23))))
    assert _rows(engine, System) == before
    wider = import_catalog_file(engine, write_yaml(tmp_path / "less.yaml", catalog_doc(_many_systems(23))),
                                max_retire_share=0.2)
    assert wider.retired == ["SYS-23", "SYS-24", "SYS-25", "SYS-26"]
