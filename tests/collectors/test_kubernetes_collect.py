"""Collecting Kubernetes facts into the database, `readiness facts`, and rules reading them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from readiness import import_catalog_file, import_inventory_file, latest_facts, run_evaluation
from readiness.cli import app
from readiness.reports import results
from storage import get_engine
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "k8s"
GOOD = FIXTURES / "good"
SYSTEMS = [
    {"id": "SYS-1", "name": "checkout", "team": "checkout", "tier": "critical"},
    {"id": "SYS-2", "name": "ledger", "team": "checkout", "tier": "high"},
    {"id": "SYS-3", "name": "receipts", "team": "checkout", "tier": "low"},
    {"id": "SYS-4", "name": "fraud", "team": "fraud", "tier": "high"},
]


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def _org(engine, tmp_path):
    import_catalog_file(engine, write_yaml(tmp_path / "catalog.yaml", catalog_doc(SYSTEMS)))
    return engine


@pytest.fixture
def org(engine, tmp_path):
    return _org(engine, tmp_path)


@pytest.fixture
def any_org(any_engine, tmp_path):
    """The same organisation on SQLite and on PostgreSQL, for the storing round trip."""
    return _org(any_engine, tmp_path)


@pytest.fixture
def url(org) -> str:
    return org.url.render_as_string(hide_password=False)


def test_collect_stores_facts_per_known_system_and_reports_unmapped_workloads(any_org):
    org = any_org
    url = org.url.render_as_string(hide_password=False)
    result = cli("collect", "kubernetes", str(GOOD), "--db", url)
    assert result.exit_code == 0, result.stderr
    assert "4 workloads in 3 files; facts stored for 3 systems (3 changed); 1 unmapped" in result.stdout
    assert re.search(r"unmapped: DaemonSet kube-system/node-agent \(.*export-list.yaml:27\): label "
                     r"app.kubernetes.io/name=node-agent is neither a SystemID nor a system name", result.stderr)
    stored = latest_facts(org)
    assert sorted(stored) == ["SYS-1", "SYS-2", "SYS-3"]
    names = {sid: [w["name"] for w in f["kubernetes"].data["workloads"]] for sid, f in stored.items()}
    assert names == {"SYS-1": ["checkout-api"], "SYS-2": ["ledger-store"], "SYS-3": ["receipts-worker"]}
    assert stored["SYS-1"]["kubernetes"].data["workloads"][0]["system_id"] == "SYS-1"  # resolved from the name


def test_collecting_the_same_manifests_again_changes_nothing(org, url):
    assert cli("collect", "kubernetes", str(GOOD), "--db", url).exit_code == 0
    again = cli("collect", "kubernetes", str(GOOD), "--db", url, "--format", "json")
    summary = json.loads(again.stdout)
    assert summary["changed"] == 0 and summary["systems"] == 3 and summary["workloads"] == 4
    assert summary["skipped"] == {"ConfigMap": 1, "ServiceMonitor (monitoring.coreos.com/v1, custom resource)": 1}


def test_compute_facts_take_the_inventory_shape(org, url):
    cli("collect", "kubernetes", str(GOOD), "--db", url)
    [checkout] = latest_facts(org)["SYS-1"]["kubernetes"].data["compute"]
    assert checkout == {
        "id": "payments/Deployment/checkout-api",
        "service": "checkout-api",  # what it merges with in the inventory (docs/kubernetes.md)
        "replicas": 3,  # the HPA's minimum overrides spec.replicas: 1
        "zones": ["spread over topology.kubernetes.io/zone (1)", "spread over topology.kubernetes.io/zone (2)"],
        "autoscaling": {"enabled": True, "min": 3, "max": 12},
        "health_checks": {"readiness": True, "liveness": True},
        "disruption_budget": {"name": "checkout-api", "min_available": 2, "max_unavailable": None,
                              "source": {"file": str(GOOD / "payments" / "checkout.yaml"), "document": 4,
                                         "line": 86}},
        "rps_per_replica": 120.0,
        "deployment": {"strategy": "rolling", "auto_rollback": False},
        "source": {"file": str(GOOD / "payments" / "checkout.yaml"), "document": 1, "line": 10},
    }
    [ledger] = latest_facts(org)["SYS-2"]["kubernetes"].data["compute"]
    assert ledger["zones"] == [] and ledger["disruption_budget"] is None  # node spread only; PDB misses


def test_daemonsets_are_workloads_but_not_compute(org, url, tmp_path):
    mapping = write_yaml(tmp_path / "map.yaml", {"workloads": {"kube-system/DaemonSet/node-agent": "SYS-4"}})
    cli("collect", "kubernetes", str(GOOD / "export-list.yaml"), "--mapping", str(mapping), "--db", url)
    facts = latest_facts(org)["SYS-4"]["kubernetes"].data
    assert [w["name"] for w in facts["workloads"]] == ["node-agent"] and facts["compute"] == []


def test_mapping_file_maps_workloads_label_values_and_namespaces(org, url, tmp_path):
    mapping = write_yaml(tmp_path / "map.yaml", {
        "workloads": {"payments/ledger-store": "SYS-4"},
        "labels": {"checkout": "SYS-3"},
        "namespaces": {"kube-system": "SYS-2", "default": "SYS-404"},
    })
    result = cli("collect", "kubernetes", str(GOOD), "--mapping", str(mapping), "--db", url, "--format", "json")
    summary = json.loads(result.stdout)
    owners = {w["name"]: sid for sid, f in latest_facts(org).items() for w in f["kubernetes"].data["workloads"]}
    # receipts-worker: its label app=receipts names SYS-3 (labels come before namespaces)
    assert owners == {"ledger-store": "SYS-4", "checkout-api": "SYS-3", "node-agent": "SYS-2",
                      "receipts-worker": "SYS-3"}
    assert summary["unmapped"] == []


def test_mapping_to_a_system_not_in_the_catalog_is_reported(org, url, tmp_path):
    mapping = write_yaml(tmp_path / "map.yaml", {"workloads": {"payments/Deployment/checkout-api": "SYS-404"}})
    result = cli("collect", "kubernetes", str(GOOD / "payments"), "--mapping", str(mapping), "--db", url,
                 "--format", "json")
    [unmapped] = json.loads(result.stdout)["unmapped"]
    assert unmapped["workload"] == "Deployment payments/checkout-api"
    assert unmapped["reason"] == ("mapping file workloads.payments/Deployment/checkout-api names SYS-404, "
                                  "which is not in the catalog")


def test_errors_still_store_the_readable_files_and_exit_1(org, url, tmp_path):
    shutil.copy(FIXTURES / "bad" / "invalid.yaml", tmp_path / "invalid.yaml")
    shutil.copy(GOOD / "payments" / "ledger.yaml", tmp_path / "ledger.yaml")
    result = cli("collect", "kubernetes", str(tmp_path), "--db", url)
    assert result.exit_code == 1
    assert "invalid.yaml:13: invalid YAML" in result.stderr
    assert list(latest_facts(org)) == ["SYS-2"]


def test_facts_command_shows_stored_facts_with_source_and_collection_time(org, url, tmp_path):
    import_inventory_file(org, write_inventory(tmp_path / "inv.json", [compute("SYS-1", "sys-1/web")]))
    cli("collect", "kubernetes", str(GOOD), "--db", url)
    shown = json.loads(cli("facts", "SYS-1", "--db", url, "--format", "json").stdout)
    assert shown["system_id"] == "SYS-1"
    assert [s["source"] for s in shown["sources"]] == ["inventory", "kubernetes"]
    kubernetes = shown["sources"][1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", kubernetes["collected_at"])
    assert kubernetes["origin"] == str(GOOD)
    assert kubernetes["data"]["workloads"][0]["name"] == "checkout-api"
    table = cli("facts", "SYS-1", "--db", url, "--source", "kubernetes")
    assert table.stdout.startswith(f"== kubernetes: collected {kubernetes['collected_at']}")
    assert "name: checkout-api" in table.stdout and "inventory" not in table.stdout


def test_facts_command_refuses_an_unknown_system(org, url):
    result = cli("facts", "SYS-999", "--db", url)
    assert result.exit_code == 1 and "unknown system 'SYS-999'" in result.stderr


def test_rules_prefer_kubernetes_facts_and_name_the_object(org, url, tmp_path):
    # the inventory says SYS-1 and SYS-2 run one replica with no checks; the manifests say otherwise
    # (the services match by name: sys-1/checkout-api is the workload payments/Deployment/checkout-api)
    bad = {"replicas": 1, "zones": ["a"], "health_checks": {}, "disruption_budget": None}
    import_inventory_file(org, write_inventory(tmp_path / "inv.json", [
        compute("SYS-1", "sys-1/checkout-api", **bad), compute("SYS-2", "sys-2/ledger-store", **bad),
        compute("SYS-4", "sys-4/api", **bad)]))
    cli("collect", "kubernetes", str(GOOD), "--db", url)
    run = run_evaluation(org)
    outcome = {(r.system_id, r.rule_id): r for r in results(org, run_id=run.run_id)}
    assert outcome["SYS-1", "replicas_across_zones"].status == "pass"
    assert outcome["SYS-1", "health_checks"].status == "pass"
    assert outcome["SYS-1", "disruption_budget"].status == "pass"
    ledger = "payments/StatefulSet/ledger-store"
    assert outcome["SYS-2", "replicas_across_zones"].message == f"{ledger}: replicas in 0 zones"
    assert outcome["SYS-2", "health_checks"].message == f"{ledger}: missing liveness check"
    budget = outcome["SYS-2", "disruption_budget"]
    assert budget.status == "fail" and budget.message == f"{ledger}: no disruption budget"
    [evidence] = budget.evidence
    assert evidence["merged"]["inventory"] == "sys-2/ledger-store" and evidence["merged"]["kubernetes"] == ledger
    assert {k: v for k, v in evidence.items() if k != "merged"} == {
        "asset": ledger, "ok": False, "problem": "no disruption budget",
        "source": {"file": str(GOOD / "payments" / "ledger.yaml"), "document": 0, "line": 3}}
    # a system without workloads still reads the inventory
    assert outcome["SYS-4", "replicas_across_zones"].message == "sys-4/api: 1 replica"


def test_demo_explain_shows_evidence_naming_a_kubernetes_object(demo_db):
    engine = get_engine(demo_db)
    on_kubernetes = sorted(sid for sid, by in latest_facts(engine).items() if "kubernetes" in by)
    assert on_kubernetes, "the demo should run some systems on Kubernetes"
    found = []
    for system_id in on_kubernetes:
        if found:
            break
        report = json.loads(cli("explain", system_id, "--db", demo_db, "--format", "json").stdout)
        for finding in report["findings"]:
            for item in finding["evidence"]:
                if (not item.get("ok", True) and re.fullmatch(r"[a-z-]+/(Deployment|StatefulSet)/[a-z0-9-]+",
                                                             str(item.get("asset")))
                        and "kubernetes" in item.get("source", {}).get("file", "")):
                    found.append((system_id, finding["rule_id"], item))
    assert found, "no failing rule named a Kubernetes object"
    system_id, rule_id, item = found[0]
    table = cli("explain", system_id, "--db", demo_db).stdout
    assert f"{item['asset']}: " in table  # the why line names the object
    assert json.dumps(item["source"]) in table  # the evidence line names file, document and line


def test_rollout_strategy_and_automatic_rollback_reach_the_compute_facts(org, url, tmp_path):
    (tmp_path / "r.yaml").write_text("""apiVersion: apps/v1
kind: Deployment
metadata: {name: old-style, namespace: shop, labels: {app: checkout}}
spec: {strategy: {type: Recreate}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: progressive
  namespace: shop
  labels: {app: checkout}
  annotations: {peak-readiness/auto-rollback: "true"}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: manual, namespace: shop, labels: {app: checkout}}
spec: {updateStrategy: {type: OnDelete}}
""")
    cli("collect", "kubernetes", str(tmp_path), "--db", url)
    rollouts = {c["id"]: c["deployment"] for c in latest_facts(org)["SYS-1"]["kubernetes"].data["compute"]}
    assert rollouts == {"shop/Deployment/old-style": {"strategy": "recreate", "auto_rollback": False},
                        "shop/Deployment/progressive": {"strategy": "rolling", "auto_rollback": True},
                        "shop/StatefulSet/manual": {"strategy": "on_delete", "auto_rollback": False}}


def test_demo_manifests_are_deterministic_and_cover_every_third_system(tmp_path):
    from datetime import datetime

    from collectors import write_demo_manifests
    from readiness.demo import generate

    files = generate(tmp_path / "demo", systems=12, seed=5, now=datetime(2026, 9, 1))
    inventory = files.inventories[-1][1]
    first = write_demo_manifests(tmp_path / "k1", files.catalog, inventory)
    second = write_demo_manifests(tmp_path / "k2", files.catalog, inventory)
    assert [p.relative_to(tmp_path / "k1") for p in first] == [p.relative_to(tmp_path / "k2") for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    rows = json.loads(cli("collect", "kubernetes", str(tmp_path / "k1"), "--dry-run", "--format", "json").stdout)
    catalog = {s["name"]: s["id"] for s in __import__("yaml").safe_load(files.catalog.read_text())["systems"]}
    assert sorted({catalog[r["system_id"]] for r in rows}) == ["SYS-0001", "SYS-0004", "SYS-0007", "SYS-0010"]
