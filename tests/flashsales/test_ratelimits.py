"""Rate-limit exports: category limits always, overrides only while in force."""

from __future__ import annotations

import json
from datetime import timedelta

import yaml

import flashsales
from flashsales import ratelimits
from tests.flashsales.helpers import NOW, RATELIMIT_USER, request, settings

START = NOW + timedelta(days=1)
# The keys envoyproxy/ratelimit accepts in its YAML (src/config/config_impl.go, validKeys).
ENVOY_KEYS = {"domain", "key", "value", "descriptors", "rate_limit", "unit", "requests_per_unit", "unlimited",
              "shadow_mode", "name", "replaces", "detailed_metric"}


def _approved(engine, **overrides):
    sale = flashsales.submit(engine, request(**overrides), now=NOW, settings=settings()).request
    return flashsales.approve(engine, sale.id, actor=RATELIMIT_USER, now=NOW, settings=settings())


def _check_envoy(doc: dict) -> None:
    """What the Envoy rate-limit service checks when loading: known keys, unique composite keys, units."""
    def walk(node, seen_keys):
        if isinstance(node, dict):
            assert set(node) <= ENVOY_KEYS, set(node) - ENVOY_KEYS
            for value in node.values():
                walk(value, seen_keys)
        elif isinstance(node, list):
            for item in node:
                walk(item, seen_keys)

    def composite(descriptors, parent=""):
        keys = [parent + d["key"] + ("_" + d["value"] if d.get("value") else "") for d in descriptors]
        assert len(keys) == len(set(keys)), keys
        for d, key in zip(descriptors, keys, strict=True):
            if "rate_limit" in d:
                assert d["rate_limit"]["unit"] in {"second", "minute", "hour", "day"}
                assert isinstance(d["rate_limit"]["requests_per_unit"], int)
            composite(d.get("descriptors", []), key + ".")

    walk(doc, set())
    assert doc["domain"]
    composite(doc["descriptors"])


def _merchant_limits(doc: dict, category: str) -> dict:
    entry = next(d for d in doc["descriptors"] if d["value"] == category)
    return {d.get("value", "*"): d["rate_limit"]["requests_per_unit"] for d in entry["descriptors"]}


def test_the_envoy_export_has_a_default_per_category_and_the_override_while_it_lasts(org_engine):
    sale = _approved(org_engine)
    during = yaml.safe_load(ratelimits.render_envoy(ratelimits.effective_limits(org_engine, START + timedelta(hours=1))))
    _check_envoy(during)
    assert _merchant_limits(during, "fashion") == {"*": 600, "M-1": 1600}
    assert _merchant_limits(during, "ticketing") == {"*": 300}
    fashion = next(d for d in during["descriptors"] if d["value"] == "fashion")
    override = [d for d in fashion["descriptors"] if d.get("value") == "M-1"]
    assert override[0]["rate_limit"]["name"] == f"flash-sale-{sale.id}"
    for moment in (START - timedelta(minutes=1), START + timedelta(hours=4), START + timedelta(days=2)):
        doc = yaml.safe_load(ratelimits.render_envoy(ratelimits.effective_limits(org_engine, moment)))
        _check_envoy(doc)
        assert _merchant_limits(doc, "fashion") == {"*": 600}, moment


def test_the_envoy_export_header_counts_in_words(org_engine):
    _approved(org_engine)
    during = ratelimits.render_envoy(ratelimits.effective_limits(org_engine, START + timedelta(hours=1)))
    before = ratelimits.render_envoy(ratelimits.effective_limits(org_engine, START - timedelta(minutes=1)))
    assert "# 3 merchant categories, 1 temporary override\n" in during
    assert "# 3 merchant categories, 0 temporary overrides\n" in before
    assert "(s)" not in during + before


def test_the_json_export_lists_categories_and_live_overrides(org_engine):
    _approved(org_engine)
    doc = json.loads(ratelimits.render_json(ratelimits.effective_limits(org_engine, START)))
    assert doc["unit"] == "minute"
    assert {c["category"]: c["requests_per_minute"] for c in doc["categories"]} == {
        "fashion": 600, "groceries": 240, "ticketing": 300}
    assert doc["overrides"] == [{"merchant_id": "M-1", "category": "fashion", "requests_per_minute": 1600,
                                 "starts_at": "2026-11-03T12:00:00Z", "expires_at": "2026-11-03T16:00:00Z",
                                 "request_ids": [1]}]
    later = json.loads(ratelimits.render_json(ratelimits.effective_limits(org_engine, START + timedelta(hours=4))))
    assert later["overrides"] == []


def test_a_cancelled_sale_loses_its_override_from_the_cancellation_on(org_engine):
    sale = _approved(org_engine)
    flashsales.cancel(org_engine, sale.id, actor="bd.bea", now=START + timedelta(hours=1), settings=settings())
    before = ratelimits.effective_limits(org_engine, START + timedelta(minutes=30))
    after = ratelimits.effective_limits(org_engine, START + timedelta(hours=2))
    assert [o.merchant_id for o in before.overrides] == ["M-1"]
    assert after.overrides == ()


def test_two_sales_of_one_merchant_at_once_give_one_descriptor_with_the_higher_limit(org_engine):
    _approved(org_engine)
    _approved(org_engine, expected_multiplier=None, expected_peak_rpm=2000, start=START + timedelta(hours=1))
    limits = ratelimits.effective_limits(org_engine, START + timedelta(hours=2))
    doc = yaml.safe_load(ratelimits.render_envoy(limits))
    _check_envoy(doc)
    assert _merchant_limits(doc, "fashion") == {"*": 600, "M-1": 2000}
    assert limits.overrides[0].request_ids == (1, 2)


def test_the_flow_round_trips_on_sqlite_and_postgresql(db_url, tmp_path):
    from flashsales import reports
    from storage import get_engine, migrate
    from tests.flashsales.helpers import build_org

    engine = get_engine(db_url)
    migrate(engine)
    build_org(engine, tmp_path / "org")
    sale = _approved(engine)
    during = ratelimits.effective_limits(engine, START + timedelta(hours=1))
    assert [o.requests_per_minute for o in during.overrides] == [1600]
    assert flashsales.advance(engine, now=START + timedelta(hours=1)) == [
        (sale.id, "approved", "scheduled"), (sale.id, "scheduled", "live")]
    assert [e.request_id for e in reports.known_events(engine)] == [sale.id]
    assert reports.unmanaged_report(engine, at=START + timedelta(hours=1), settings=settings()).reserved_rps > 0
    flashsales.cancel(engine, sale.id, actor="kam.kai", reason="stock ran out", now=START + timedelta(hours=2),
                   settings=settings())
    assert ratelimits.effective_limits(engine, START + timedelta(hours=3)).overrides == ()
    detail = flashsales.get_request(engine, sale.id)
    assert detail.request.status == "cancelled" and detail.override["revoked_at"] == START + timedelta(hours=2)
    assert detail.reviews[0].figures["platform"]["bottleneck"] == "CHK"
