"""Kubernetes and inventory facts about one system merge per service (readiness/precedence.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from readiness.cli import app
from tests.readiness.helpers import catalog_doc, compute, write_inventory, write_yaml

CHECKOUT = Path(__file__).resolve().parent / "fixtures" / "k8s" / "good" / "payments" / "checkout.yaml"
SYSTEMS = [{"id": "SYS-1", "name": "checkout", "team": "checkout", "tier": "critical",
            "purchase_flow": True, "traffic_class": "FLAS"}]


def cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code in (0, 3), result.output
    return result


@pytest.fixture
def url(engine, tmp_path) -> str:
    """SYS-1 runs three services in the inventory; the manifests hold only checkout-api."""
    url = engine.url.render_as_string(hide_password=False)
    cli("import", "--catalog", str(write_yaml(tmp_path / "catalog.yaml", catalog_doc(SYSTEMS))), "--db", url)
    inventory = write_inventory(tmp_path / "inventory.json", [
        compute("SYS-1", "sys-1/checkout-api", replicas=1, rps_per_replica=100, forecast_flas_rps=300,
                tracing=True),
        compute("SYS-1", "sys-1/cart", replicas=2, rps_per_replica=50, forecast_flas_rps=200),
        compute("SYS-1", "sys-1/search", replicas=2, rps_per_replica=50, forecast_flas_rps=100)])
    cli("import", "--inventory", str(inventory), "--db", url)
    cli("collect", "kubernetes", str(CHECKOUT), "--db", url)
    cli("evaluate", "--db", url)
    return url


def _finding(url: str, rule_id: str) -> dict:
    report = json.loads(cli("explain", "SYS-1", "--db", url, "--format", "json").stdout)
    return next(f for f in report["findings"] if f["rule_id"] == rule_id)


def test_kubernetes_settings_win_for_its_service_and_the_inventory_keeps_the_others(url):
    finding = _finding(url, "flas_preprovisioned")
    # checkout-api: 3 replicas (the HPA's minimum) x 120 rps from the manifest; cart and search: 2 x 50 each
    summary, merged = finding["evidence"]
    assert summary["provisioned_rps"] == 3 * 120 + 2 * 50 + 2 * 50 and summary["services"] == 3
    assert summary["flas_rps"] == 600 and finding["status"] == "fail"  # 560 / 600: half credit
    assert merged["service"] == "checkout-api" and merged["asset"] == "payments/Deployment/checkout-api"
    assert merged["merged"]["inventory"] == "sys-1/checkout-api"
    differences = merged["merged"]["differences"]
    assert differences["replicas"] == {"kubernetes": 3, "inventory": 1, "used": "kubernetes"}
    assert differences["rps_per_replica"] == {"kubernetes": 120.0, "inventory": 100, "used": "kubernetes"}


def test_the_merged_service_keeps_the_inventory_facts_kubernetes_does_not_state(url, engine):
    from readiness import Facts, capacity_figures, latest_facts

    stored = latest_facts(engine)["SYS-1"]
    facts = Facts({source: stored[source].data for source in stored})
    by_service = {c["service"] if "service" in c else c["id"]: c for c in facts.compute()}
    assert sorted(by_service) == ["checkout-api", "sys-1/cart", "sys-1/search"]
    checkout = by_service["checkout-api"]
    assert checkout["forecast_flas_rps"] == 300 and checkout["tracing"] is True
    assert checkout["source"]["file"] == str(CHECKOUT)
    assert capacity_figures(facts).compute_source == "kubernetes+inventory"


def test_a_new_collection_replaces_only_what_its_source_said_and_unstated_figures_fall_back(url, tmp_path):
    # the manifests now hold checkout-api without its requests-per-replica annotation
    (tmp_path / "checkout.yaml").write_text(CHECKOUT.read_text().replace('peak-readiness/rps-per-replica: "120"',
                                                                         "peak-readiness/owner: checkout"))
    cli("collect", "kubernetes", str(tmp_path / "checkout.yaml"), "--db", url)
    cli("evaluate", "--db", url)
    finding = _finding(url, "flas_preprovisioned")  # not no_data: the inventory still says 100 rps per replica
    summary, merged = finding["evidence"]
    assert summary["provisioned_rps"] == 3 * 100 + 2 * 50 + 2 * 50 and summary["services"] == 3
    assert merged["merged"]["differences"]["rps_per_replica"] == {"kubernetes": None, "inventory": 100,
                                                                  "used": "inventory"}
    shown = json.loads(cli("facts", "SYS-1", "--db", url, "--format", "json").stdout)
    by_source = {s["source"]: s["data"] for s in shown["sources"]}
    assert len(by_source["inventory"]["compute"]) == 3  # the inventory's facts are untouched
    assert by_source["kubernetes"]["compute"][0]["rps_per_replica"] is None
