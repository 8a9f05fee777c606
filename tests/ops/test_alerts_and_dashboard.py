"""The alert rules pass promtool's checks and unit tests; the dashboard reads only metrics we expose."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from prometheus_client import generate_latest

from operations import build_registry
from storage import get_engine
from tests.ops.support import REPO, require_prometheus

ALERTS = REPO / "docs" / "prometheus-alerts.yaml"
DASHBOARD = REPO / "docs" / "grafana-dashboard.json"


@pytest.fixture
def needs_promtool():
    require_prometheus()


def promtool(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.usefixtures("needs_promtool")
def test_alert_rules_pass_promtool_check():
    done = promtool("check", "rules", str(ALERTS))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 6 rules found" in done.stdout


@pytest.mark.usefixtures("needs_promtool")
def test_promtool_check_rejects_a_broken_rule(tmp_path):
    broken = tmp_path / "alerts.yaml"
    broken.write_text(ALERTS.read_text().replace("readiness_source_up == 0", "readiness_source_up == ("))
    assert promtool("check", "rules", str(broken)).returncode != 0


@pytest.mark.usefixtures("needs_promtool")
def test_alert_rules_fire_when_they_should_and_not_otherwise():
    done = promtool("test", "rules", "alerts_test.yaml", cwd=REPO / "tests" / "ops")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def _exposed_names(demo_db) -> set[str]:
    registry, _ = build_registry(get_engine(demo_db))
    text = generate_latest(registry).decode()
    names = set(re.findall(r"^# TYPE (\S+) ", text, flags=re.M))
    names |= {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    for name in list(names):
        names |= {f"{name}_bucket", f"{name}_total"}
    return names


def test_every_dashboard_and_alert_metric_is_exposed_by_readiness_serve(demo_db):
    exposed = _exposed_names(demo_db)
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs.append(ALERTS.read_text())
    used = {name for expr in exprs for name in re.findall(r"\breadiness_[a-z_]+", expr)}
    assert used, "no readiness metrics referenced"
    assert sorted(used - exposed) == []


def test_dashboard_is_importable_grafana_json():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "level"} <= variables
    for panel in dashboard["panels"]:
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
    titles = {p["title"] for p in dashboard["panels"]}
    assert {"Company readiness", "Rules losing the most systems", "Fact age against freshness"} <= titles
