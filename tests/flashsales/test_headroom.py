"""The headroom formula on a hand-computed organisation, through the public review.

Three purchase-flow systems; a merchant request enters at WEB, WEB calls CHK 2.0 times per
request and CHK calls PAY 0.75 times per call (Kapacity's stored call ratios), so the
ratios from the entry are WEB 1, CHK 2, PAY 1.5. RPT (not in the purchase flow) also calls
PAY, which must not count. Running capacity (inventory): WEB 10 x 50 = 500, CHK 8 x 50 = 400,
PAY 6 x 50 = 300, but PAY's overload test broke at 240 after the inventory was read.
Kapacity's p99 over the sales' windows: WEB 100, CHK 150, PAY 90 (1000 later, outside them).
A held sale adds 10 merchant requests/s at the entry during the first four hours.

    WEB: (500 - 100 - 10 x 1  ) / 1   = 390
    CHK: (400 - 150 - 10 x 2  ) / 2   = 115
    PAY: (240 -  90 - 10 x 1.5) / 1.5 =  90   <- bottleneck: 90 req/s = 5400 rpm
"""

from __future__ import annotations

import json
import zlib
from datetime import timedelta

import numpy as np
import pytest
import yaml

import flashsales
import readiness
from kapacity.models import KapacityCallRatio, KapacityForecast, KapacityRun
from readiness import CollectedFacts
from storage import session_scope, utcnow
from tests.flashsales.helpers import NOW, catalog_doc, request, settings

START = NOW + timedelta(days=1)
STEP = 300
RATIOS = (("WEB", "CHK", 2.0), ("CHK", "PAY", 0.75), ("RPT", "PAY", 5.0))
P99 = {"WEB": (60, 100), "CHK": (120, 150), "PAY": (50, 90)}  # (ordinary level, peak in the windows)


def _catalog() -> dict:
    doc = catalog_doc()
    doc["systems"] = [
        {"id": "WEB", "name": "storefront", "team": "checkout", "tier": "critical", "purchase_flow": True,
         "dependencies": [{"system": "CHK", "kind": "sync"}]},
        {"id": "CHK", "name": "checkout-api", "team": "checkout", "tier": "critical", "purchase_flow": True,
         "dependencies": [{"system": "PAY", "kind": "sync"}]},
        {"id": "PAY", "name": "payments-core", "team": "payments", "tier": "critical", "purchase_flow": True},
        {"id": "RPT", "name": "reports", "team": "reports", "tier": "low",
         "dependencies": [{"system": "PAY", "kind": "sync"}]},
    ]
    return doc


def _inventory(extra: tuple = ()) -> dict:
    def compute(system: str, replicas: int, baseline: float) -> dict:
        return {"id": f"{system.lower()}/app", "type": "compute", "tags": {"SystemID": system},
                "replicas": replicas, "rps_per_replica": 50, "forecast_baseline_rps": baseline}

    return {"generated_at": "2026-11-01T00:00:00",
            "assets": [compute("WEB", 10, 70), compute("CHK", 8, 130), compute("PAY", 6, 55),
                       *(compute(*e) for e in extra)]}


class _Overload:
    """perftest's facts: PAY's overload test broke at 240 req/s at ``started_at``."""

    name, freshness = "perftest", timedelta(days=45)

    def __init__(self, started_at):
        self.started_at = started_at

    def collect(self, engine):
        return CollectedFacts("perftest", {"PAY": {"tests": {"overload": {
            "run_id": 7, "verdict": "fail", "broke": True, "breaking_point_rps": 240.0,
            "started_at": self.started_at.isoformat()}}}})


def _store_kapacity_run(engine, ratios=RATIOS, p99s=P99) -> None:
    """A complete Kapacity run: 3 days of 5-minute forecasts from NOW (``p99s`` in requests/s), and the
    call ratios."""
    intervals = 3 * 86_400 // STEP
    peak = int((START + timedelta(hours=3) - NOW).total_seconds() // STEP)
    outside = int((START + timedelta(hours=8) - NOW).total_seconds() // STEP)
    with session_scope(engine) as session:
        run = KapacityRun(started_at=NOW, finished_at=NOW, status="complete", source="test",
                          horizon_seconds=intervals * STEP)
        session.add(run)
        session.flush()
        for system, (level, at_peak) in p99s.items():
            p99 = np.full(intervals, float(level))
            p99[peak], p99[outside] = at_peak, 1000.0
            # stored points count requests per interval, as Kapacity stores them (rates x STEP)
            rows = (np.stack([p99 * 0.6, p99 * 0.8, p99]) * STEP).astype("<f4")
            session.add(KapacityForecast(
                run_id=run.id, system_id=system, series_key=system, inputs_hash="0" * 64, model="test",
                resolution_seconds=STEP, start=NOW, intervals=intervals, baseline_rps=level * 0.6,
                flas_rps=at_peak, peak_forecast_rps=at_peak, spike_ratio=1.0,
                capacity={"assumptions": {"points_rows": ["forecast", "q0.9", "q0.99"]}},
                points=zlib.compress(rows.tobytes(), 1), created_at=NOW))
        for caller, callee, ratio in ratios:
            session.add(KapacityCallRatio(run_id=run.id, caller=caller, callee=callee, ratio=ratio, r2=0.99,
                                          samples=500))


@pytest.fixture
def three_systems(engine, tmp_path):
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(_catalog(), sort_keys=False))
    readiness.import_catalog_file(engine, tmp_path / "catalog.yaml")
    (tmp_path / "inventory.json").write_text(json.dumps(_inventory()))
    readiness.import_inventory_file(engine, tmp_path / "inventory.json")
    _store_kapacity_run(engine)
    flashsales.set_category(engine, "fashion", rate_limit_rpm=600)
    flashsales.set_category(engine, "groceries", rate_limit_rpm=240)
    flashsales.upsert_merchant(engine, "M-1", name="Threads", category="fashion")
    flashsales.upsert_merchant(engine, "G-1", name="Groceries", category="groceries")
    return engine


def _submit(engine, start, rps: float, merchant: str = "M-1", category: str = "fashion", limit: int = 600):
    doc = request(start=start, expected_multiplier=None, expected_peak_rpm=limit + rps * 60,
                  merchant_id=merchant, merchant_name=merchant, merchant_category=category)
    return flashsales.submit(engine, doc, now=NOW, settings=settings())


def test_the_grantable_increase_is_the_bottleneck_systems_room_after_expected_traffic_and_holds(three_systems):
    readiness.collect_and_store(three_systems, _Overload(utcnow()))  # measured after the inventory
    held = _submit(three_systems, START, 10, merchant="G-1", category="groceries", limit=240)
    assert held.request.status == "increase_requested" and held.request.reserved_rps == pytest.approx(10)

    sale = _submit(three_systems, START + timedelta(hours=2), 100)  # overlaps the held sale's last 2 hours
    review = sale.review
    rows = {r["system_id"]: r for r in review.figures["headroom_systems"]}
    assert {s: (r["capacity_rps"], r["expected_p99_rps"], r["holds_rps"], r["call_ratio"], r["room_rps"])
            for s, r in rows.items()} == {"WEB": (500, 100, 10, 1, 390), "CHK": (400, 150, 20, 2, 115),
                                          "PAY": (240, 90, 15, 1.5, 90)}
    assert review.figures["headroom_bottleneck"] == "PAY"
    assert review.headroom_rps == pytest.approx(90) and review.figures["grantable_increase_rpm"] == 5400
    assert review.decision == "refuse" and review.figures["max_grantable_limit_rpm"] == 600 + 5400
    systems = {s["system_id"]: s for s in review.figures["platform"]["systems"]}
    assert (systems["PAY"]["limited_by"], systems["PAY"]["provisioned_rps"]) == ("breaking_point", 300)
    assert {s: v["expected_source"] for s, v in systems.items()} == dict.fromkeys(systems, "kapacity_p99")
    assert {s: v["ratio_source"] for s, v in systems.items()} == {
        "WEB": "entry", "CHK": "call_ratios", "PAY": "call_ratios"}
    assert any("bottleneck PAY" in r and "5400 rpm" in r for r in review.reasoning)

    fits = _submit(three_systems, START + timedelta(hours=2), 90)  # exactly the room
    assert fits.request.status == "increase_requested"


def test_an_older_breaking_point_than_the_running_capacity_does_not_count(three_systems):
    readiness.collect_and_store(three_systems, _Overload(NOW - timedelta(days=400)))
    review = _submit(three_systems, START + timedelta(hours=2), 1).review
    rows = {r["system_id"]: r for r in review.figures["headroom_systems"]}
    assert rows["PAY"]["capacity_rps"] == 300 and rows["PAY"]["room_rps"] == pytest.approx(140)  # (300-90)/1.5
    assert review.figures["headroom_bottleneck"] == "CHK" and review.headroom_rps == pytest.approx(125)


def test_a_window_no_forecast_covers_falls_back_to_the_baseline_forecast_and_says_so(three_systems):
    review = _submit(three_systems, NOW + timedelta(days=10), 1).review
    systems = {s["system_id"]: s for s in review.figures["platform"]["systems"]}
    assert {s: (v["expected_p99_rps"], v["expected_source"]) for s, v in systems.items()} == {
        "WEB": (70, "baseline_fallback"), "CHK": (130, "baseline_fallback"), "PAY": (55, "baseline_fallback")}
    assert any(r.startswith("expected traffic of CHK, PAY, WEB") and "not the sale's window" in r
               for r in review.reasoning)
    assert review.figures["headroom_bottleneck"] == "CHK" and review.headroom_rps == pytest.approx(135)  # (400-130)/2


def test_a_system_reached_from_two_entries_takes_the_larger_ratio(engine, tmp_path):
    doc = _catalog()  # APP, a second entry, calls CHK 3 times per request (WEB: 2)
    doc["systems"].append({"id": "APP", "name": "app-api", "team": "checkout", "tier": "critical",
                           "purchase_flow": True, "dependencies": [{"system": "CHK", "kind": "sync"}]})
    (tmp_path / "catalog.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    readiness.import_catalog_file(engine, tmp_path / "catalog.yaml")
    (tmp_path / "inventory.json").write_text(json.dumps(_inventory(extra=(("APP", 4, 20),))))
    readiness.import_inventory_file(engine, tmp_path / "inventory.json")
    _store_kapacity_run(engine, (*RATIOS, ("APP", "CHK", 3.0)), {**P99, "APP": (20, 40)})
    platform = flashsales.purchase_flow_capacity(engine, (START + timedelta(hours=2), START + timedelta(hours=6)))
    assert {s.system_id: (s.call_ratio, s.ratio_source) for s in platform.systems} == {
        "APP": (1.0, "entry"), "WEB": (1.0, "entry"), "CHK": (3.0, "call_ratios"), "PAY": (2.25, "call_ratios")}
    assert platform.capacity_rps == pytest.approx(400 / 3)  # CHK 400 / 3 (PAY 300 / 2.25 the same)
