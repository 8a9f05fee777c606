"""Intake: every kind of invalid request gets field-level errors and stores nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import flashsales
import notifications
from flashsales.cli import app
from flashsales.errors import InputError
from flashsales.models import AuditEntry, Merchant, SaleRequest
from storage import session_scope
from tests.flashsales.helpers import NOW, request, settings
from tests.identity.helpers import token_env


def _counts(engine) -> tuple[int, ...]:
    with session_scope(engine) as session:
        stored = tuple(session.execute(select(func.count()).select_from(model)).scalar_one()
                       for model in (SaleRequest, AuditEntry, Merchant))
    return (*stored, len(notifications.list_messages(engine, source="flashsales")))


def test_a_valid_request_is_stored_and_reviewed(org_engine):
    result = flashsales.submit(org_engine, request(), now=NOW, settings=settings())
    assert result.request.id == 1
    assert result.request.countries == ["SE", "DE"]
    assert result.request.starts_at == NOW + timedelta(days=1)
    assert result.review is not None and result.review_error is None


LATER = NOW + timedelta(days=1)


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"merchant_id": None}, "merchant_id", "required"),
    ({"bogus": 1}, "bogus", "unknown key; accepted keys: merchant_id"),
    ({"merchant_id": "M 1"}, "merchant_id", "letters, digits"),
    ({"merchant_name": ""}, "merchant_name", "at least 1 character"),
    ({"merchant_category": "toys"}, "merchant_category", "unknown category 'toys'; known: fashion, groceries"),
    ({"merchant_category": "ticketing"}, "merchant_category", "M-1 is registered in category 'fashion'"),
    ({"reporter": "Jane Doe"}, "reporter", "user name (jane.doe) or an e-mail address"),
    ({"key_account_manager": ""}, "key_account_manager", "at least 1 character"),
    ({"solution_engineer": None}, "solution_engineer", "required"),
    ({"countries": []}, "countries", "at least 1 item"),
    ({"countries": "SE"}, "countries", "valid list"),
    ({"countries": ["SE", "XX"]}, "countries.1", "'XX' is not an ISO 3166-1 alpha-2 country code"),
    ({"countries": ["SE", "se"]}, "countries.1", "SE is listed twice"),
    ({"starts_at": "2026-11-03T10:00:00"}, "starts_at", "timezone"),
    ({"starts_at": "tomorrow"}, "starts_at", "ISO 8601 with a UTC offset"),
    ({"ends_at": "2026-11-03T09:00:00+00:00"}, "ends_at",
     "must be after starts_at (2026-11-03 12:00 +00:00); give a later end"),
    ({"ends_at": "2026-11-30T12:00:00+00:00"}, "ends_at",
     "the sale would last 27 days, longer than 14 days; file a longer campaign as several sales"),
    ({"ends_at": "2026-11-18T13:30:00+00:00"}, "ends_at", "the sale would last 15 days 1 hour, longer than"),
    ({"starts_at": "2026-11-01T10:00:00+00:00", "ends_at": "2026-11-01T12:00:00+00:00"},
     "starts_at", "must be in the future (it is now 2026-11-02 12:00 UTC); give a later start"),
    ({"expected_multiplier": None}, "expected_peak_rpm",
     "neither expected_peak_rpm nor expected_multiplier was given; give one or both"),
    ({"expected_multiplier": 1}, "expected_multiplier", "greater than 1"),
    ({"expected_multiplier": 500}, "expected_multiplier", "less than or equal to 100"),
    ({"expected_peak_rpm": -5}, "expected_peak_rpm", "greater than 0"),
    ({"expected_peak_rpm": "lots"}, "expected_peak_rpm", "valid number"),
    ({"expected_peak_rpm": 1e9}, "expected_peak_rpm", "less than or equal to 10000000"),
    ({"merchant_id": "G-1", "merchant_category": "groceries"}, "expected_peak_rpm", "has no traffic history"),
    ({"merchant_id": "NEW-1", "merchant_name": "New"}, "expected_peak_rpm", "has no traffic history"),
    ({"notes": "x" * 5000}, "notes", "at most 4000 characters"),
])
def test_an_invalid_request_names_the_field_and_stores_nothing(org_engine, change, field, words):
    before = _counts(org_engine)
    raw = request(start=LATER)
    raw.update({k: v for k, v in change.items()})
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(InputError) as caught:
        flashsales.submit(org_engine, raw, now=NOW, settings=settings())
    messages = caught.value.fields.get(field, [])
    assert any(words in m for m in messages), caught.value.fields
    assert _counts(org_engine) == before


def test_all_problems_are_reported_at_once(org_engine):
    raw = request(countries=["ZZ"], merchant_category="toys", starts_at="soon", reporter="")
    with pytest.raises(InputError) as caught:
        flashsales.check_request(org_engine, raw, now=NOW)
    assert set(caught.value.fields) == {"countries.0", "merchant_category", "starts_at", "reporter"}


def test_a_declared_peak_lets_a_merchant_without_history_in(org_engine):
    raw = request(merchant_id="NEW-1", merchant_name="New", expected_multiplier=None, expected_peak_rpm=900)
    result = flashsales.submit(org_engine, raw, now=NOW, settings=settings())
    assert result.request.merchant_id == "NEW-1"
    assert result.review.projected_peak_rpm == 900


@pytest.mark.parametrize(("content", "words"), [
    ('{"merchant_id": "M-1",\n  "countries": [}', "invalid JSON at line 2, column"),
    ('["a list"]', "expected a JSON object"),
])
def test_the_cli_names_the_file_problem_and_stores_nothing(org_engine, tmp_path, content, words):
    path = tmp_path / "request.json"
    path.write_text(content)
    url = str(org_engine.url)
    env = token_env(org_engine, "bd.bea")  # not a demo database: the submitter presents a token
    before = _counts(org_engine)
    result = CliRunner().invoke(app, ["submit", "--file", str(path), "--db", url], env=env)
    assert result.exit_code == 1
    assert str(path) in result.stderr and words in result.stderr
    assert _counts(org_engine) == before


def test_the_cli_lists_every_field_problem_on_stderr(org_engine, tmp_path):
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request(countries=["SE", "QQ"], ends_at="2026-11-01T00:00:00+00:00")))
    result = CliRunner().invoke(app, ["submit", "--file", str(path), "--db", str(org_engine.url)],
                                env=token_env(org_engine, "bd.bea"))
    assert result.exit_code == 1
    assert "countries.1: 'QQ' is not an ISO 3166-1 alpha-2 country code" in result.stderr
    listed = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(listed) >= 2 and f"error: {len(listed)} problems; nothing was stored" in result.stderr
    assert "(s)" not in result.stderr
    assert result.stdout == ""
