"""Bad Kubernetes input: errors name the file and line or document; the other files are still collected."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from readiness.cli import app

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "k8s"
BAD = FIXTURES / "bad"
GOOD = FIXTURES / "good"


def dry_run(*paths: Path):
    result = CliRunner().invoke(app, ["collect", "kubernetes", *map(str, paths), "--dry-run", "--format", "json"])
    return json.loads(result.stdout) if result.stdout.strip() else None, result.stderr, result.exit_code


def test_invalid_yaml_names_file_and_line_and_other_files_are_still_collected(tmp_path):
    shutil.copy(BAD / "invalid.yaml", tmp_path / "invalid.yaml")
    shutil.copy(GOOD / "payments" / "ledger.yaml", tmp_path / "ledger.yaml")
    rows, stderr, code = dry_run(tmp_path)
    assert code == 1
    assert f"{tmp_path / 'invalid.yaml'}:13: invalid YAML" in stderr
    assert [r["name"] for r in rows] == ["ledger-store"]


def test_unrendered_helm_template_is_refused_with_a_message_to_render_it(tmp_path):
    rows, stderr, code = dry_run(BAD / "helm-template.yaml", GOOD / "payments")
    assert code == 1
    assert f"{BAD / 'helm-template.yaml'}:4: unrendered Helm template" in stderr
    assert "render it first" in stderr and "helm template" in stderr
    assert sorted(r["name"] for r in rows) == ["checkout-api", "ledger-store"]


def test_helm_template_inside_a_quoted_string_is_refused_too(tmp_path):
    (tmp_path / "quoted.yaml").write_text('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n'
                                          'spec:\n  template:\n    spec:\n      containers:\n'
                                          '        - name: c\n          image: "repo/web:{{ .Values.tag }}"\n')
    rows, stderr, code = dry_run(tmp_path)
    assert code == 1 and rows == []
    assert f"{tmp_path / 'quoted.yaml'}:10: unrendered Helm template ({{{{ .Values.tag }}}})" in stderr


def test_go_templates_in_objects_we_do_not_read_are_not_refused(tmp_path):
    # alertmanager message templates live in ConfigMaps of rendered output: legitimate
    (tmp_path / "cm.yaml").write_text('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: alerts\n'
                                      'data:\n  msg: "{{ .Labels.alertname }} fired"\n')
    rows, stderr, code = dry_run(tmp_path)
    assert code == 0 and rows == []
    assert "ConfigMap x1" in stderr


def test_manifest_without_metadata_name_names_file_and_document(tmp_path):
    rows, stderr, code = dry_run(BAD / "no-name.yaml")
    assert code == 1
    assert f"{BAD / 'no-name.yaml'}:8: document 1 (Deployment): field metadata.name: missing" in stderr
    assert rows == []  # a file with an error contributes nothing, not even its valid Service


def test_list_item_without_name_names_the_item(tmp_path):
    (tmp_path / "list.yaml").write_text("apiVersion: v1\nkind: List\nitems:\n"
                                        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: a}\n"
                                        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {}\n")
    _, stderr, code = dry_run(tmp_path)
    assert code == 1
    assert f"{tmp_path / 'list.yaml'}:7: document 0 item 1 (Deployment): field metadata.name: missing" in stderr


def test_unknown_kinds_and_custom_resources_are_skipped_and_counted(tmp_path):
    (tmp_path / "mixed.yaml").write_text("""apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: d}
---
apiVersion: example.com/v1
kind: Deployment
metadata: {name: not-a-real-deployment}
""")
    rows, stderr, code = dry_run(tmp_path)
    assert code == 0 and rows == []
    assert ("skipped 5 objects of other kinds: ConfigMap x2, CronJob x1, "
            "Deployment (example.com/v1, custom resource) x1, Rollout (argoproj.io/v1alpha1, custom resource) x1"
            ) in stderr


@pytest.mark.parametrize(("body", "field"), [
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replicas: three}\n", "spec.replicas"),
    ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {maxReplicas: 3}\n",
     "spec.scaleTargetRef"),
    ("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"
     "spec: {scaleTargetRef: {kind: Deployment, name: a}}\n", "spec.maxReplicas"),
    ("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {selector: [a]}\n",
     "spec.selector"),
    ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: [1]\n", "spec"),
    ("- just\n- a list\n", None),
    ("apiVersion: v1\nmetadata: {name: x}\n", "kind"),
])
def test_malformed_objects_are_errors_naming_the_field(tmp_path, body, field):
    (tmp_path / "x.yaml").write_text(body)
    _, stderr, code = dry_run(tmp_path)
    assert code == 1
    assert f"{tmp_path / 'x.yaml'}:1: document 0" in stderr
    assert (f"field {field}:" in stderr) if field else "expected a Kubernetes object" in stderr


def test_a_missing_path_is_an_error_and_the_rest_is_read(tmp_path):
    rows, stderr, code = dry_run(tmp_path / "nope", GOOD / "payments" / "ledger.yaml")
    assert code == 1
    assert f"{tmp_path / 'nope'}: no such file or folder" in stderr
    assert [r["name"] for r in rows] == ["ledger-store"]


def test_the_same_workload_twice_is_an_error_naming_both_places(tmp_path):
    shutil.copy(GOOD / "payments" / "ledger.yaml", tmp_path / "a.yaml")
    shutil.copy(GOOD / "payments" / "ledger.yaml", tmp_path / "b.yaml")
    rows, stderr, code = dry_run(tmp_path)
    assert code == 1
    assert f"{tmp_path / 'b.yaml'}:3: document 0: StatefulSet payments/ledger-store is also defined at " \
           f"{tmp_path / 'a.yaml'}:3" in stderr
    assert [r["source"]["file"] for r in rows] == [str(tmp_path / "a.yaml")]


def test_bad_mapping_file_is_refused_before_anything_is_read(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("workloads:\n  payments/checkout-api: [SYS-1]\nteams: {}\n")
    result = CliRunner().invoke(app, ["collect", "kubernetes", str(GOOD), "--mapping", str(mapping), "--dry-run"])
    assert result.exit_code == 1
    assert f"{mapping}: field workloads.payments/checkout-api: expected a SystemID string" in result.stderr
    assert f"{mapping}: field teams: unknown" in result.stderr
    assert result.stdout == ""
