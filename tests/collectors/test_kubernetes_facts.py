"""Kubernetes facts per workload, read through `readiness collect kubernetes --dry-run --format json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collectors import FACT_KEYS, image_pinned, selector_matches
from readiness.cli import app

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "k8s"
GOOD = FIXTURES / "good"


def dry_run(*args: str) -> tuple[list[dict], str, int]:
    result = CliRunner().invoke(app, ["collect", "kubernetes", *args, "--dry-run", "--format", "json"])
    return json.loads(result.stdout), result.stderr, result.exit_code


@pytest.fixture(scope="module")
def workloads() -> dict[str, dict]:
    rows, _, code = dry_run(str(GOOD))
    assert code == 0
    return {f"{w['namespace']}/{w['kind']}/{w['name']}": w for w in rows}


def test_dry_run_lists_every_workload_with_every_documented_key(workloads):
    assert sorted(workloads) == ["default/Deployment/receipts-worker", "kube-system/DaemonSet/node-agent",
                                 "payments/Deployment/checkout-api", "payments/StatefulSet/ledger-store"]
    for row in workloads.values():
        assert list(row)[:len(FACT_KEYS)] == list(FACT_KEYS)


def test_a_well_configured_deployment_has_every_fact_true(workloads):
    checkout = workloads["payments/Deployment/checkout-api"]
    assert {k: checkout[k] for k in FACT_KEYS if k != "source"} == {
        "kind": "Deployment", "namespace": "payments", "name": "checkout-api", "system_id": "checkout",
        "replicas": 1, "readiness_probe": True, "liveness_probe": True, "requests_set": True,
        "memory_limit_set": True, "hpa": {"min": 3, "max": 12}, "pdb": True, "spread": True, "image_pinned": True}
    assert checkout["zone_spread"] is True
    assert checkout["services"] == ["checkout-api"]
    assert checkout["rps_per_replica"] == 120.0


def test_source_names_the_file_document_and_line(workloads):
    source = workloads["payments/Deployment/checkout-api"]["source"]
    assert source == {"file": str(GOOD / "payments" / "checkout.yaml"), "document": 1, "line": 10}
    lines = (GOOD / "payments" / "checkout.yaml").read_text().splitlines()
    assert lines[source["line"] - 1] == "apiVersion: apps/v1"
    assert lines[source["line"]] == "kind: Deployment"


def test_statefulset_without_liveness_and_with_a_pdb_whose_selector_does_not_match(workloads):
    ledger = workloads["payments/StatefulSet/ledger-store"]
    assert ledger["replicas"] == 3
    assert ledger["readiness_probe"] is True
    assert ledger["liveness_probe"] is False
    assert ledger["pdb"] is False  # the PDB selects app=ledger-stor, the pods are app=ledger-store
    assert ledger["hpa"] is None
    assert ledger["spread"] is True and ledger["zone_spread"] is False  # anti-affinity over hostnames only
    assert ledger["services"] == ["ledger-store"]


def test_pdb_whose_selector_matches_nothing_is_reported_as_a_warning():
    _, stderr, _ = dry_run(str(GOOD))
    assert "PodDisruptionBudget payments/ledger-store selects no workload's pods" in stderr
    assert "ledger.yaml:37" in stderr


def test_list_export_items_name_their_item_and_line(workloads):
    receipts = workloads["default/Deployment/receipts-worker"]
    assert receipts["source"] == {"file": str(GOOD / "export-list.yaml"), "document": 0, "line": 7, "item": 0}
    assert workloads["kube-system/DaemonSet/node-agent"]["source"]["item"] == 1


def test_defaults_and_gaps_of_a_bare_deployment(workloads):
    receipts = workloads["default/Deployment/receipts-worker"]
    assert receipts["namespace"] == "default"  # no metadata.namespace
    assert receipts["replicas"] == 1  # no spec.replicas
    assert receipts["system_id"] == "receipts"  # third default label: app
    assert not any(receipts[k] for k in ("readiness_probe", "liveness_probe", "requests_set", "memory_limit_set",
                                         "pdb", "spread", "image_pinned"))  # requests cpu only; image :latest


def test_daemonset_has_null_replicas(workloads):
    agent = workloads["kube-system/DaemonSet/node-agent"]
    assert agent["replicas"] is None
    assert agent["system_id"] == "node-agent"  # second default label: app.kubernetes.io/name
    assert agent["image_pinned"] is False  # fluent/fluent-bit has no tag


def test_hpa_matches_by_kind_and_name_of_scale_target_only(tmp_path):
    (tmp_path / "a.yaml").write_text(_deployment("web") + "---\n" + _deployment("api") + "---\n" + """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web-hpa, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}
  maxReplicas: 9
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api-hpa, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 7
""")
    rows, stderr, code = dry_run(str(tmp_path))
    by_name = {r["name"]: r for r in rows}
    assert by_name["api"]["hpa"] == {"min": 1, "max": 7}  # minReplicas defaults to 1
    assert by_name["web"]["hpa"] is None  # targets a StatefulSet called web
    assert "targets StatefulSet web, which is not in the manifests read" in stderr
    assert code == 0


def test_hpa_and_pdb_in_another_namespace_do_not_match(tmp_path):
    (tmp_path / "a.yaml").write_text(_deployment("api") + """---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: other}
spec:
  scaleTargetRef: {kind: Deployment, name: api}
  maxReplicas: 7
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api, namespace: other}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: api}}
""")
    rows, _, _ = dry_run(str(tmp_path))
    assert rows[0]["hpa"] is None and rows[0]["pdb"] is False


def test_multi_document_files_keep_document_indexes(tmp_path):
    (tmp_path / "many.yaml").write_text("---\n" + _deployment("one") + "---\n---\n" + _deployment("two"))
    rows, _, _ = dry_run(str(tmp_path / "many.yaml"))
    assert [(r["name"], r["source"]["document"]) for r in rows] == [("one", 0), ("two", 2)]


def test_folders_are_read_recursively_and_hidden_folders_skipped(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a" / "b" / "deep.yml").write_text(_deployment("deep"))
    (tmp_path / ".git" / "ignored.yaml").write_text(_deployment("ignored"))
    (tmp_path / "notes.txt").write_text(_deployment("not-yaml-suffix"))
    rows, _, _ = dry_run(str(tmp_path))
    assert [r["name"] for r in rows] == ["deep"]


def test_kubectl_json_exports_are_read(tmp_path):
    export = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "j", "labels": {"app": "sys"}},
         "spec": {"replicas": 4, "template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}]}
    (tmp_path / "export.json").write_text(json.dumps(export))
    rows, _, _ = dry_run(str(tmp_path))
    assert rows[0]["replicas"] == 4 and rows[0]["image_pinned"] is True and rows[0]["system_id"] == "sys"


def test_system_label_option_replaces_the_default_labels(tmp_path):
    rows, _, _ = dry_run(str(GOOD / "payments"), "--system-label", "app")
    assert {r["name"]: r["system_id"] for r in rows} == {"checkout-api": None, "ledger-store": "ledger-store"}


@pytest.mark.parametrize(("image", "pinned"), [
    ("nginx", False), ("nginx:latest", False), ("nginx:1.25", True), ("registry:5000/team/app", False),
    ("registry:5000/team/app:2.0", True), ("app@sha256:" + "a" * 64, True), ("app:latest@sha256:" + "b" * 64, True),
])
def test_image_pinned_needs_a_real_tag_or_a_digest(image, pinned):
    assert image_pinned(image) is pinned


@pytest.mark.parametrize(("selector", "matches"), [
    ({}, True),  # policy/v1: an empty selector selects every pod in the namespace
    (None, False),
    ({"matchLabels": {"app": "web"}}, True),
    ({"matchLabels": {"app": "web", "tier": "db"}}, False),
    ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["api", "web"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, False),
    ({"matchExpressions": [{"key": "track", "operator": "Exists"}]}, False),
    ({"matchExpressions": [{"key": "track", "operator": "DoesNotExist"}]}, True),
    ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe"]}]}, True),
])
def test_label_selectors(selector, matches):
    assert selector_matches(selector, {"app": "web", "tier": "fe"}) is matches


def _deployment(name: str, namespace: str = "shop") -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}, labels: {{app.kubernetes.io/part-of: shop}}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: "shop/{name}:1.0"}}]
"""
