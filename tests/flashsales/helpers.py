"""Builders for flashsales tests: a small organisation with known capacity, merchants, requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

import flashsales
import readiness
from flashsales.settings import Settings

NOW = datetime(2026, 11, 2, 12, 0)  # naive UTC: the injected clock of service tests
RATELIMIT_USER = "rita.limit"
READINESS_USER = "rob.ready"
ADMIN = "ann.admin"
OWNERS = ("cy.checkout", "dee.checkout", "pam.payments")
# Purchase-flow capacity and headroom in the small organisation (requests/s); no Kapacity
# forecast or call ratios are stored, so the expected traffic is the inventory's Baseline
# forecast (flagged) and each merchant request counts once at each system:
#   CHK: running 4 x 25 = 100, expected 30 -> room 70
#   PAY: running 10 x 20 = 200, expected 40 -> room 160
#   the purchase flow absorbs 100 (CHK); headroom before any sale 70, bottleneck CHK
PLATFORM_RPS = 100.0
HEADROOM_RPS = 70.0


def catalog_doc() -> dict:
    return {
        "company": "Test Co",
        "domains": [{"key": "pay", "name": "Payments", "architects": ["ada.arch"]}],
        "groups": [{"key": "pay-core", "name": "Core", "domain": "pay"}],
        "teams": [
            {"key": "checkout", "name": "Checkout", "group": "pay-core", "members": list(OWNERS[:2]),
             "leads": [OWNERS[0]], "oncall": [OWNERS[1]]},
            {"key": "payments", "name": "Payments", "group": "pay-core", "members": [OWNERS[2]]},
            {"key": "ratelimits", "name": "Rate limits", "group": "pay-core", "members": [RATELIMIT_USER]},
            {"key": "reports", "name": "Reports", "group": "pay-core", "members": ["zed.reports"]},
        ],
        "systems": [
            {"id": "CHK", "name": "checkout-api", "team": "checkout", "tier": "critical", "purchase_flow": True,
             "dependencies": [{"system": "PAY", "kind": "sync"}]},
            {"id": "PAY", "name": "payments-core", "team": "payments", "tier": "critical", "purchase_flow": True},
            {"id": "RPT", "name": "reports", "team": "reports", "tier": "low"},
        ],
        "readiness_team": [READINESS_USER],
        "admins": [ADMIN],
    }


def inventory(chk_flas: float = 120, chk_replicas: int = 4, pay_flas: float = 150) -> dict:
    return {"generated_at": "2026-11-01T00:00:00", "assets": [
        {"id": "chk/api", "type": "compute", "tags": {"SystemID": "CHK"}, "replicas": chk_replicas,
         "rps_per_replica": 25, "forecast_flas_rps": chk_flas, "forecast_baseline_rps": 30},
        {"id": "pay/core", "type": "compute", "tags": {"SystemID": "PAY"}, "replicas": 10,
         "rps_per_replica": 20, "forecast_flas_rps": pay_flas, "forecast_baseline_rps": 40},
        {"id": "rpt/web", "type": "compute", "tags": {"SystemID": "RPT"}, "replicas": 1, "rps_per_replica": 5},
    ]}


def build_org(engine, folder: Path, **capacity) -> None:
    """Catalog, inventory facts, categories and merchants with history: a ready database."""
    folder.mkdir(parents=True, exist_ok=True)
    catalog = folder / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(catalog_doc(), sort_keys=False))
    readiness.import_catalog_file(engine, catalog)
    set_inventory(engine, folder, **capacity)
    flashsales.set_category(engine, "fashion", rate_limit_rpm=600)
    flashsales.set_category(engine, "ticketing", rate_limit_rpm=300)
    flashsales.set_category(engine, "groceries", rate_limit_rpm=240)
    flashsales.upsert_merchant(engine, "M-1", name="Threads", category="fashion",
                            history_path=write_history(folder / "M-1.csv", normal_rpm=200, spike=3.0))
    flashsales.upsert_merchant(engine, "M-2", name="Soles", category="fashion",
                            history_path=write_history(folder / "M-2.csv", normal_rpm=100, spike=2.0))
    flashsales.upsert_merchant(engine, "T-1", name="Tickets", category="ticketing",
                            history_path=write_history(folder / "T-1.csv", normal_rpm=50, spike=20.0))
    flashsales.upsert_merchant(engine, "G-1", name="Groceries", category="groceries")  # no history


def set_inventory(engine, folder: Path, **capacity) -> None:
    path = folder / "inventory.json"
    path.write_text(json.dumps(inventory(**capacity)))
    readiness.import_inventory_file(engine, path)


def write_history(path: Path, *, normal_rpm: float, spike: float, days: int = 7) -> Path:
    """Hourly history: each day peaks at ``normal_rpm`` at 20:00, one hour at ``spike`` x that."""
    lines = ["timestamp,value"]
    start = datetime(2026, 10, 1)
    for hour in range(days * 24):
        moment = start + timedelta(hours=hour)
        level = normal_rpm if moment.hour == 20 else normal_rpm / 4
        if hour == 3 * 24 + 20:
            level = normal_rpm * spike
        lines.append(f"{moment:%Y-%m-%dT%H:%M:%S}+00:00,{level * 60:.0f}")  # requests per hour
    path.write_text("\n".join(lines) + "\n")
    return path


def request(start: datetime | None = None, hours: float = 4, **overrides) -> dict:
    """A valid request for M-1 (fashion) starting a day after NOW unless ``start`` is given."""
    start = start or NOW + timedelta(days=1)
    aware = start.replace(tzinfo=UTC)
    doc = {
        "merchant_id": "M-1", "merchant_name": "Threads", "merchant_category": "fashion",
        "reporter": "bd.bea", "key_account_manager": "kam.kai", "solution_engineer": "se.sol",
        "countries": ["SE", "DE"],
        "starts_at": aware.isoformat(), "ends_at": (aware + timedelta(hours=hours)).isoformat(),
        "expected_multiplier": 8, "notes": "winter drop",
    }
    doc.update(overrides)
    return {k: v for k, v in doc.items() if v is not None}


def rps_to_rpm_over(limit_rpm: int, rps: float) -> float:
    """The declared peak whose proposed limit adds ``rps`` requests/s above ``limit_rpm``."""
    return limit_rpm + rps * 60


def settings(**overrides) -> Settings:
    values = {"ratelimit_team": (RATELIMIT_USER,), "notify_backoff_seconds": 0.0}
    values.update(overrides)
    return Settings(**values)
