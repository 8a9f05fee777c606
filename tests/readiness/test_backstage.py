"""Backstage catalogs: reading, Backstage's ref rules, the mapping, messy catalogs, import and the command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from readiness import active_systems, import_backstage, org_units, read_backstage, team_contacts
from readiness.backstage import Problem, parse_ref
from readiness.cli import app
from readiness.models import System
from storage import session_scope

FIXTURES = Path(__file__).parent / "fixtures" / "backstage"
CLEAN, MESSY = FIXTURES / "clean", FIXTURES / "messy"


def _names(paths) -> list[str]:
    return [str(Path(p).relative_to(FIXTURES)) for p in paths]


# ---------------------------------------------------------------- refs


@pytest.mark.parametrize(("ref", "default_kind", "namespace", "expected"), [
    ("checkout", "group", "default", ("group", "default", "checkout")),
    ("Group:Checkout", "user", "default", ("group", "default", "checkout")),
    ("risk/fraud", "group", "default", ("group", "risk", "fraud")),
    ("fraud", "group", "risk", ("group", "risk", "fraud")),  # the holder's namespace
    ("component:shop/web", None, "default", ("component", "shop", "web")),  # dependsOn: kind written
    ("ns/a:b", "api", "default", ("api", "ns", "a:b")),  # a / before the : makes the rest the name
    ({"kind": "User", "name": "Dee"}, "group", "risk", ("user", "risk", "dee")),  # the compound form
])
def test_entity_refs_follow_backstage_parse_rules(ref, default_kind, namespace, expected):
    assert parse_ref(ref, default_kind=default_kind, default_namespace=namespace) == expected


@pytest.mark.parametrize(("ref", "default_kind", "message"), [
    ("billing", None, "names no kind"),
    ("group:", "group", "not of the form"),
    (":x", "group", "not of the form"),
    ("", "group", "not an entity ref"),
])
def test_malformed_or_kindless_refs_are_refused(ref, default_kind, message):
    with pytest.raises(ValueError, match=message):
        parse_ref(ref, default_kind=default_kind, default_namespace="default")


# ---------------------------------------------------------------- a clean catalog


def test_locations_are_followed_once_and_url_targets_reported_as_external():
    catalog = read_backstage([CLEAN / "catalog-info.yaml"])
    assert _names(catalog.files) == ["clean/catalog-info.yaml", "clean/org.yaml", "clean/systems/payments.yaml",
                                     "clean/systems/risk.yaml"]
    assert [e["target"] for e in catalog.external] == ["https://github.com/example/payments/blob/main/catalog-info.yaml"]
    assert catalog.entities == {"API": 2, "Component": 3, "Domain": 2, "Group": 4, "Location": 2, "Resource": 1,
                                "System": 2, "Template": 1, "User": 3}
    assert catalog.problems == []


def test_a_folder_gives_the_same_organisation_as_its_root_location():
    assert read_backstage([CLEAN]).document == read_backstage([CLEAN / "catalog-info.yaml"]).document


def test_every_kind_and_default_kind_rule_maps_onto_the_organisation():
    """owner -> group (and a user owner -> their group), system -> system (tier inherited), domain -> domain,
    parent / children -> group, members -> user, memberOf -> group, providesApis / consumesApis -> api,
    dependsOn with its own kind; refs without a namespace take the holder's."""
    catalog = read_backstage([CLEAN / "catalog-info.yaml"])
    doc = catalog.document.model_dump(exclude_defaults=True)
    assert doc["domains"] == [{"key": "payments", "name": "Payments"}, {"key": "risk:risk", "name": "risk"}]
    assert doc["groups"] == [
        {"key": "acme", "name": "acme", "domain": "payments"},
        {"key": "risk:fraud", "name": "fraud", "domain": "risk:risk"},
        {"key": "commerce", "name": "Commerce", "domain": "payments", "parent": "acme"},
    ]
    assert doc["teams"] == [
        {"key": "checkout", "name": "Checkout squad", "group": "commerce", "members": ["cy", "dee"],
         "leads": ["cy"]},
        {"key": "risk:fraud", "name": "fraud", "group": "risk:fraud", "members": ["risk/eve"]},
    ]
    assert doc["systems"] == [
        {"id": "SYS-0001", "name": "Checkout API", "team": "checkout", "tier": "critical", "public": True,
         "purchase_flow": True, "dependencies": [{"system": "receipts"}, {"system": "risk:fraud-scoring"}]},
        {"id": "receipts", "name": "receipts", "team": "checkout", "tier": "low"},
        {"id": "risk:fraud-scoring", "name": "fraud-scoring", "team": "risk:fraud", "tier": "high",
         "traffic_class": "Baseline"},
    ]
    assert catalog.notes == [
        "group:risk/fraud: its systems are mostly in domain 'risk:risk', its group group:default/commerce's in "
        "'payments': placed in a group of its own"]
    assert [(b.ref, b.level, b.key) for b in catalog.became if b.level == "team"] == [
        ("group:default/checkout", "team", "checkout"), ("group:risk/fraud", "team", "risk:fraud")]


def test_the_system_kind_option_scores_backstage_systems_with_dependencies_lifted_from_their_components():
    doc = read_backstage([CLEAN], system_kind="System").document
    systems = {s.id: s for s in doc.systems}
    assert sorted(systems) == ["checkout", "risk:fraud"]
    assert [d.system for d in systems["checkout"].dependencies] == ["risk:fraud"]  # checkout-api consumes fraud-api
    assert (systems["checkout"].tier, systems["checkout"].team) == ("critical", "checkout")


def test_an_unknown_system_kind_is_refused():
    with pytest.raises(ValueError, match="accepted: component, system, resource"):
        read_backstage([CLEAN], system_kind="api")


# ---------------------------------------------------------------- a messy catalog


def test_every_problem_in_a_messy_catalog_is_named_by_file_document_ref_and_field():
    catalog = read_backstage([MESSY / "catalog.yaml"])
    rows = [(str(Path(p.file).relative_to(FIXTURES)), p.document, p.ref, p.field, p.message) for p in catalog.problems]
    assert rows == [
        ("messy/catalog.yaml", 1, "group:default/platform", "spec.parent",
         "owns systems but has no parent group; its team is placed in a group of its own"),
        ("messy/catalog.yaml", 1, "group:default/platform", "domain",
         "none of its systems is in a domain; placed in domain 'backstage--unassigned'"),
        ("messy/catalog.yaml", 2, "component:default/billing", "spec.owner",
         "'Platform Team' -> group:default/platform team: no such entity (not a valid entity name: letters and "
         "digits, single - _ . between them, no spaces)"),
        ("messy/catalog.yaml", 3, "component:default/ledger", "spec.owner",
         "'ghosts' -> group:default/ghosts: no such entity"),
        ("messy/catalog.yaml", 4, "component:default/ledger", "metadata.name",
         f"duplicate of {MESSY / 'catalog.yaml'}#3; this one is ignored"),
        ("messy/catalog.yaml", 5, "component:shop/search", "spec.owner",
         "'platform' -> group:shop/platform: no such entity in namespace 'shop' (namespace mismatch? found "
         "group:default/platform)"),
        ("messy/catalog.yaml", 6, "component:default/web", "spec.system",
         "'nowhere' -> system:default/nowhere: no such entity"),
        ("messy/catalog.yaml", 6, "component:default/web", "spec.consumesApis",
         "'missing-api' -> api:default/missing-api: no such entity"),
        ("messy/catalog.yaml", 6, "component:default/web", "spec.dependsOn",
         "'billing' names no kind, and this field has no default kind (write e.g. 'component:billing')"),
        ("messy/catalog.yaml", 6, "component:default/web", "metadata.annotations.peak.example.com/tier",
         "'urgent' is not one of critical, high, medium, low; ignored"),
        ("messy/catalog.yaml", 7, "widget:default/gadget", "kind",
         "unknown kind 'Widget' (known: Domain, System, Component, Group, User, API, Resource, Location); "
         "the entity is ignored"),
        ("messy/catalog.yaml", 9, "location:default/more", "metadata.name",
         f"duplicate of {MESSY / 'catalog.yaml'}#8; this one is ignored"),
        ("messy/catalog.yaml", 10, "-", "-",
         "not an entity: expected a mapping with apiVersion, kind, metadata and spec"),
        ("messy/catalog.yaml", 11, "component:?", "metadata.name", "missing metadata.name; the document is ignored"),
        ("messy/more.yaml", 1, "location:default/nothing-there", "spec.target",
         "target './missing/*.yaml' matches no file"),
        ("messy/more.yaml", 2, "user:default/ann", "spec.memberOf", "'group:nobody' -> group:default/nobody: "
                                                                    "no such entity"),
        ("messy/more.yaml", 4, "group:default/ops-two", "spec.parent",
         "cycle in the group hierarchy (group:default/ops -> group:default/ops-two -> group:default/ops); "
         "group:default/ops-two is made a top-level group"),
        ("messy/more.yaml", 5, "component:default/half-done", "spec",
         "missing spec.type, spec.lifecycle; Backstage refuses the entity, so it is ignored"),
        ("messy/more.yaml", 6, "group:default/no-api-version", "apiVersion",
         "None is not one of backstage.io/v1alpha1, backstage.io/v1beta1; Backstage refuses the entity, "
         "so it is ignored"),
        ("messy/more.yaml", 8, "-", "-",
         "invalid YAML at line 56: did not find expected ',' or '}'; the rest of the file is skipped"),
    ]
    assert str(catalog.problems[3]) == (f"{MESSY / 'catalog.yaml'}#3 component:default/ledger spec.owner: "
                                        "'ghosts' -> group:default/ghosts: no such entity")


def test_a_messy_catalog_still_maps_with_the_documented_policy():
    catalog = read_backstage([MESSY / "catalog.yaml"])
    # The duplicate Location's target is never read; entities refused are not counted.
    assert _names(catalog.files) == ["messy/catalog.yaml", "messy/more.yaml"]
    assert catalog.entities == {"Component": 4, "Group": 4, "Location": 2, "User": 1}
    doc = catalog.document.model_dump(exclude_defaults=True)
    assert doc["domains"] == [{"key": "backstage--unassigned", "name": "Unassigned (no Backstage domain)"}]
    assert doc["groups"] == [{"key": "platform", "name": "platform", "domain": "backstage--unassigned"},
                             {"key": "backstage--unowned", "name": "Unowned", "domain": "backstage--unassigned"}]
    assert doc["teams"] == [
        {"key": "platform", "name": "platform", "group": "platform", "members": ["ann"]},
        {"key": "backstage--unowned", "name": "Unowned (Backstage owner not found)", "group": "backstage--unowned"},
    ]
    assert [(s["id"], s["team"], s["tier"], s.get("dependencies", [])) for s in doc["systems"]] == [
        ("billing", "backstage--unowned", "medium", []), ("ledger", "backstage--unowned", "medium", []),
        ("web", "platform", "medium", []), ("shop:search", "backstage--unowned", "medium", [])]


def test_a_duplicate_system_id_annotation_falls_back_to_the_entity_key(tmp_path):
    envelope = "apiVersion: backstage.io/v1alpha1\n"
    (tmp_path / "c.yaml").write_text("\n---\n".join(
        [f"{envelope}kind: Component\nmetadata:\n  name: {name}\n  annotations:\n"
         f"    peak.example.com/system-id: SYS-1\nspec: {{type: service, lifecycle: production, owner: team}}\n"
         for name in ("a", "b")]
        + [f"{envelope}kind: Group\nmetadata: {{name: team}}\nspec: {{type: team, parent: org, children: []}}\n",
           f"{envelope}kind: Group\nmetadata: {{name: org}}\nspec: {{type: org, children: []}}\n"]),
        encoding="utf-8")
    catalog = read_backstage([tmp_path])
    assert [s.id for s in catalog.document.systems] == ["SYS-1", "b"]
    assert [(p.ref, p.field, p.message) for p in catalog.problems] == [
        ("component:default/b", "metadata.annotations.peak.example.com/system-id",
         "'SYS-1' is already used by component:default/a; the entity key 'b' is used"),
        ("group:default/org", "domain", "none of its systems is in a domain; placed in domain "
                                        "'backstage--unassigned'")]


# ---------------------------------------------------------------- import


def test_import_stores_the_organisation_with_derived_traffic_classes(any_engine):
    report = import_backstage(any_engine, [CLEAN / "catalog-info.yaml"])
    assert not report.refused and report.imported.created == ["SYS-0001", "receipts", "risk:fraud-scoring"]
    systems = {s.system_id: s for s in active_systems(any_engine)}
    assert {k: (s.team, s.domain, s.traffic_class, s.dependencies) for k, s in systems.items()} == {
        "SYS-0001": ("checkout", "payments", "FLAS", (("receipts", "sync"), ("risk:fraud-scoring", "sync"))),
        "receipts": ("checkout", "payments", "FLAS", ()),
        "risk:fraud-scoring": ("risk:fraud", "risk:risk", "Baseline", ()),
    }
    units = {(u.level, u.key): u.parent_key for u in org_units(any_engine)}
    assert units == {("domain", "payments"): None, ("domain", "risk:risk"): None, ("group", "acme"): "payments",
                     ("group", "commerce"): "acme", ("group", "risk:fraud"): "risk:risk",
                     ("team", "checkout"): "commerce", ("team", "risk:fraud"): "risk:fraud"}
    assert team_contacts(any_engine)["checkout"].members == ("cy", "dee")


def test_reimport_is_an_upsert_and_a_vanished_component_is_retired_with_its_history(engine, tmp_path):
    copy = shutil.copytree(CLEAN, tmp_path / "clean")
    import_backstage(engine, [copy])
    assert import_backstage(engine, [copy]).imported.created == []
    payments = copy / "systems" / "payments.yaml"
    documents = payments.read_text(encoding="utf-8").split("\n---\n")
    payments.write_text("\n---\n".join(d for d in documents if "name: receipts\n" not in d), encoding="utf-8")
    report = import_backstage(engine, [copy])
    assert report.imported.retired == ["receipts"]
    with session_scope(engine) as session:
        assert session.get(System, "receipts").retired is True
    assert [s.system_id for s in active_systems(engine)] == ["SYS-0001", "risk:fraud-scoring"]


def test_strict_refuses_a_messy_catalog_and_keeps_what_is_stored(engine):
    import_backstage(engine, [CLEAN])
    report = import_backstage(engine, [MESSY / "catalog.yaml"], strict=True)
    assert report.refused and report.imported is None and len(report.catalog.problems) == 20
    assert [s.system_id for s in active_systems(engine)] == ["SYS-0001", "receipts", "risk:fraud-scoring"]


# ---------------------------------------------------------------- the command


def _cli(*args: str):
    return CliRunner().invoke(app, ["import", *args])


def _plain(output: str) -> str:
    """The text of a usage error, without the frame and line breaks it is drawn with."""
    return " ".join(output.replace("│", " ").split())


def test_the_command_prints_counts_mapping_problems_and_the_import(tmp_path):
    db = f"sqlite:///{tmp_path / 'peak.db'}"
    result = _cli("--backstage", str(MESSY / "catalog.yaml"), "--db", db)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:5] == ["read 11 entities from 2 files", "  Component: 4", "  Group: 4", "  Location: 2",
                         "  User: 1"]
    assert "became: 1 domain, 2 groups, 2 teams, 4 systems, 0 dependencies" in lines
    assert "  component:shop/search -> system shop:search (in backstage--unowned)" in lines
    assert "20 problems" in lines
    assert f"  {MESSY / 'catalog.yaml'}#3 component:default/ledger spec.owner: 'ghosts' -> group:default/ghosts: " \
           "no such entity" in lines
    assert lines[-1] == "catalog: 4 systems (4 new, 0 retired), 2 teams, 2 groups, 1 domains, 0 dependencies"


def test_the_command_reads_several_paths_and_prints_json(tmp_path):
    db = f"sqlite:///{tmp_path / 'peak.db'}"
    result = _cli("--backstage", str(CLEAN / "org.yaml"), str(CLEAN / "systems"), "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # systems/risk.yaml's Location leads back to the root catalog-info.yaml, read once
    assert summary["files"][-1] == str(CLEAN / "systems" / ".." / "catalog-info.yaml")
    assert summary["entities"] == {"API": 2, "Component": 3, "Domain": 2, "Group": 4, "Location": 2,
                                   "Resource": 1, "System": 2, "Template": 1, "User": 3}
    assert summary["problems"] == [] and summary["refused"] is False
    assert summary["imported"]["systems"] == 3 and summary["imported"]["dependencies"] == 2
    assert {"ref": "group:default/checkout", "level": "team", "key": "checkout", "parent": "commerce"} \
        in summary["became"]


def test_the_command_with_strict_exits_1_and_writes_nothing(tmp_path):
    db = f"sqlite:///{tmp_path / 'peak.db'}"
    assert _cli("--backstage", str(CLEAN), "--db", db).exit_code == 0
    result = _cli("--backstage", "--strict", str(MESSY / "catalog.yaml"), "--db", db, "--format", "json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["refused"] is True and summary["imported"] is None
    assert summary["problems"][0] == asdict_problem(read_backstage([MESSY / "catalog.yaml"]).problems[0])
    assert "--strict: the Backstage catalog has 20 problems; nothing was written" in result.stderr
    from storage import get_engine
    assert len(active_systems(get_engine(db))) == 3


def asdict_problem(problem: Problem) -> dict:
    return {"file": problem.file, "document": problem.document, "ref": problem.ref, "field": problem.field,
            "message": problem.message}


def test_paths_without_backstage_are_a_usage_error(tmp_path):
    result = _cli(str(CLEAN), "--db", f"sqlite:///{tmp_path / 'peak.db'}")
    assert result.exit_code == 2 and "only with --backstage" in _plain(result.output)


def test_the_worked_example_in_the_docs_prints_what_the_docs_show(tmp_path, monkeypatch):
    page = (Path(__file__).parents[2] / "docs" / "catalog-backstage.md").read_text(encoding="utf-8")
    for name in ("catalog-info.yaml", "org.yaml", "payments/checkout.yaml"):
        block = page.split(f"`shop/{name}`:\n\n```yaml\n", 1)[1].split("```", 1)[0]
        (tmp_path / "shop" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "shop" / name).write_text(block, encoding="utf-8")
    command = "$ readiness import --backstage shop/catalog-info.yaml\n"
    shown = page.split(command, 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    result = _cli("--backstage", "shop/catalog-info.yaml", "--db", f"sqlite:///{tmp_path / 'peak.db'}")
    assert result.exit_code == 0 and result.stdout == shown


def test_folder_scans_skip_hidden_folders_and_relative_url_location_targets_are_read_as_files(tmp_path):
    shutil.copytree(CLEAN, tmp_path / "repo")
    (tmp_path / "repo" / ".github").mkdir()
    (tmp_path / "repo" / ".github" / "ci.yml").write_text("on: push\n", encoding="utf-8")
    assert read_backstage([tmp_path / "repo"]).problems == []
    root = tmp_path / "repo" / "catalog-info.yaml"
    root.write_text(root.read_text(encoding="utf-8").replace("type: file", "type: url"), encoding="utf-8")
    assert len(read_backstage([root]).files) == 4


def test_a_group_listed_as_a_child_by_another_than_its_parent_keeps_its_parent(tmp_path):
    groups = [("org", "{type: org, children: [team]}"), ("other", "{type: org, children: [team]}"),
              ("team", "{type: team, parent: org, children: []}")]
    docs = [f"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {{name: {name}}}\nspec: {spec}\n"
            for name, spec in groups]
    docs.append("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: app}\n"
                "spec: {type: service, lifecycle: production, owner: team}\n")
    (tmp_path / "org.yaml").write_text("---\n".join(docs), encoding="utf-8")
    catalog = read_backstage([tmp_path / "org.yaml"])
    assert [(t.key, t.group) for t in catalog.document.teams] == [("team", "org")]
    assert [(p.ref, p.field, p.message) for p in catalog.problems] == [
        ("group:default/org", "domain", "none of its systems is in a domain; placed in domain "
                                        "'backstage--unassigned'"),
        ("group:default/other", "spec.children", "lists group:default/team, whose parent is group:default/org; "
                                                 "that parent is kept")]


def test_refs_naming_an_entity_of_the_wrong_kind_are_dropped_and_a_lone_user_owner_is_unowned(tmp_path):
    envelope = "apiVersion: backstage.io/v1alpha1\n"
    docs = [
        "kind: Domain\nmetadata: {name: d}\nspec: {owner: team}\n",
        "kind: System\nmetadata: {name: s}\nspec: {owner: team, domain: d}\n",
        "kind: User\nmetadata: {name: ann}\nspec: {memberOf: []}\n",
        "kind: Group\nmetadata: {name: team}\nspec: {type: team, parent: user:ann, children: []}\n",
        "kind: Component\nmetadata: {name: a}\nspec: {type: service, lifecycle: production, owner: system:s, "
        "system: domain:d}\n",
        "kind: Component\nmetadata: {name: b}\nspec: {type: service, lifecycle: production, owner: user:ann, "
        "system: s}\n",
        "kind: Component\nmetadata: {name: c}\nspec: {type: service, lifecycle: production, owner: team, system: s}\n",
    ]
    (tmp_path / "c.yaml").write_text("---\n".join(envelope + d for d in docs), encoding="utf-8")
    catalog = read_backstage([tmp_path / "c.yaml"])
    assert [(p.document, p.ref, p.field, p.message) for p in catalog.problems] == [
        (4, "group:default/team", "spec.parent", "'user:ann' -> user:default/ann is a User, not a Group; ignored"),
        (4, "group:default/team", "spec.parent", "owns systems but has no parent group; its team is placed in a "
                                                 "group of its own"),
        (5, "component:default/a", "spec.owner", "'system:s' -> system:default/s is a System, not a Group or "
                                                 "User; ignored"),
        (5, "component:default/a", "spec.system", "'domain:d' -> domain:default/d is a Domain, not a System; "
                                                  "ignored"),
        (6, "component:default/b", "spec.owner", "owner user:default/ann is in no group; the system goes to the "
                                                 "unowned team"),
    ]
    assert [(s.id, s.team) for s in catalog.document.systems] == [
        ("a", "backstage--unowned"), ("b", "backstage--unowned"), ("c", "team")]
    assert [(g.key, g.domain) for g in catalog.document.groups] == [
        ("team", "d"), ("backstage--unowned", "backstage--unassigned")]


def test_catalog_and_backstage_together_are_a_usage_error(tmp_path):
    yaml_catalog = tmp_path / "c.yaml"
    yaml_catalog.write_text("domains: []\n", encoding="utf-8")
    result = _cli("--catalog", str(yaml_catalog), "--backstage", str(CLEAN), "--db", f"sqlite:///{tmp_path / 'p.db'}")
    assert result.exit_code == 2 and "each replace the whole catalog: give one" in _plain(result.output)


def test_an_alias_bomb_in_a_backstage_file_is_refused_by_the_safe_reader(tmp_path):
    layers = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    layers += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = tmp_path / "catalog-info.yaml"
    bomb.write_text("\n".join(layers) + "\n")
    catalog = read_backstage([bomb])
    assert catalog.entities == {}
    assert len(catalog.problems) == 1 and catalog.problems[0].file == str(bomb)
    assert "aliases expand the document to more than 100,000 nodes" in str(catalog.problems[0])
