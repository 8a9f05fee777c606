"""Small builders for catalog and inventory documents used across readiness tests."""

from __future__ import annotations

import json
from pathlib import Path

import yaml


def catalog_doc(systems: list[dict] | None = None, **extra) -> dict:
    doc = {
        "company": "Test Co",
        "domains": [{"key": "pay", "name": "Payments", "architects": ["ada"]},
                    {"key": "risk", "name": "Risk", "architects": ["bob"]}],
        "groups": [{"key": "pay-core", "name": "Core", "domain": "pay"},
                   {"key": "risk-ml", "name": "ML", "domain": "risk"}],
        "teams": [{"key": "checkout", "name": "Checkout", "group": "pay-core", "members": ["cy", "dee"]},
                  {"key": "fraud", "name": "Fraud", "group": "risk-ml", "members": ["eve"]}],
        "systems": systems if systems is not None else [
            {"id": "SYS-1", "name": "checkout-api", "team": "checkout", "tier": "critical",
             "public": True, "purchase_flow": True,
             "dependencies": [{"system": "SYS-2", "kind": "sync"}, {"system": "SYS-3", "kind": "async"}]},
            {"id": "SYS-2", "name": "fraud-scoring", "team": "fraud", "tier": "high"},
            {"id": "SYS-3", "name": "receipts", "team": "checkout", "tier": "low"},
        ],
    }
    doc.update(extra)
    return doc


def write_yaml(path: Path, doc: dict) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def write_inventory(path: Path, assets: list[dict]) -> Path:
    path.write_text(json.dumps({"assets": assets}, indent=1), encoding="utf-8")
    return path


def compute(system_id: str, asset_id: str, **fields) -> dict:
    base = {"id": asset_id, "type": "compute", "tags": {"SystemID": system_id}, "replicas": 3,
            "zones": ["a", "b", "c"], "health_checks": {"readiness": True, "liveness": True},
            "disruption_budget": {"min_available": 1},
            "autoscaling": {"enabled": True, "min": 3, "max": 10}, "rps_per_replica": 100}
    base.update(fields)
    return base
