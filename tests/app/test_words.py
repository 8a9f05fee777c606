"""What a person reads: no page shows developer text, and the formats and messages are written
for people (app/fmt.py, app/words.py)."""

from __future__ import annotations

import re

import pytest

from app import fmt, words
from app.users import demo_users
from storage import get_engine
from tests.app.conftest import PAGES, no_exceptions, open_app, texts

DEVELOPER_TEXT = re.compile(r"\bNone\b|\bnan\b|problem\(s\)|String should|Input should|List should|"
                            r"\d\.\d{5,}|needs (architect|readiness_team)\b|(?<![\w`])--[a-z]+:")


@pytest.mark.parametrize("role", ["viewer", "owner", "readiness_team"])
def test_no_page_shows_developer_text(app_env, full_demo, monkeypatch, role):
    url, histories = full_demo
    app_env(url)
    monkeypatch.setenv("KAPACITY_HISTORY_DIR", str(histories))
    users = {u.role: u.username for u in demo_users(get_engine(url))}
    for page in PAGES:
        at = open_app(page, user=users.get(role, "viewer"),
                      query={"id": "SYS-0001"} if page.endswith("system.py") else None)
        no_exceptions(at)
        found = DEVELOPER_TEXT.findall(texts(at))
        assert not found, f"{page} as {role}: {found}"


def test_numbers_and_dates_have_one_format():
    assert fmt.number(1910.8) == "1,911" and fmt.points(910.0) == "910" and fmt.points(7.25) == "7.2"
    assert fmt.rate(1910.8) == "1,910.8 req/s" and fmt.rate(None) == fmt.MISSING
    assert fmt.day("2026-12-05T21:20:00") == "2026-12-05" and fmt.moment("2026-12-05T21:20:07") == "2026-12-05 21:20 UTC"
    assert fmt.count(1, "problem") == "1 problem" and fmt.count(3, "problem") == "3 problems"
    assert fmt.pct(float("nan")) == fmt.MISSING


@pytest.mark.parametrize(("field", "message", "expected"), [
    ("merchant_id", "String should match pattern '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$' (expected letters)",
     "Merchant id is not in the expected form: use letters, digits and _ . : - only (up to 64 characters), "
     "starting with a letter or digit."),
    ("countries", "List should have at least 1 item after validation, not 0", "Countries: none picked; pick at least one."),
    ("expected_multiplier", "Input should be greater than 1", "Expected multiplier must be more than 1."),
    ("countries.1", "XX is not an ISO 3166 code", "Countries (entry 2): XX is not an ISO 3166 code"),
    ("ends_at", "must be after starts_at (2027-01-01 10:00 +01:00); give a later end",
     "End: must be after start (2027-01-01 10:00 +01:00); give a later end"),
    ("expected_peak_rpm", "neither expected_peak_rpm nor expected_multiplier was given; give one or both",
     "Expected peak: neither expected peak nor expected multiplier was given; give one or both"),
])
def test_validation_errors_name_the_field_what_is_wrong_and_what_to_do(field, message, expected):
    assert words.sale_problem(field, message) == expected


def test_service_wording_is_made_plain():
    assert words.plain("--comment: say why (at least 10 characters)") == "Comment: say why (at least 10 characters)"
    assert words.plain("waiver 3: 1 problem(s); nothing was written") == "waiver 3: 1 problem; nothing was written"
    assert words.plain("it needs readiness_team") == "it needs the readiness team"
    assert words.plain("limit 910.000000 rpm") == "limit 910 rpm"


@pytest.mark.parametrize(("message", "expected"), [
    ("history M-1001.csv: 14 day(s) at 300s resolution", "history M-1001.csv: 14 days at 300s resolution"),
    ("0.0 held by 0 overlapping sale(s)", "0.0 held by 0 overlapping sales"),
    ("held by 1 overlapping sale(s)", "held by 1 overlapping sale"),
    ("1 problem(s)", "1 problem"), ("1,200 run(s) kept", "1,200 runs kept")])
def test_every_count_written_with_s_in_brackets_reads_as_words(message, expected):
    assert words.plain(message) == expected


def test_evidence_reads_without_none_or_raw_json():
    """The System page's evidence tables: a dash for a missing value, a fact's place as file:line,
    a merged workload in words; what the table showed before was "None" and raw JSON."""
    evidence = [
        {"asset": "pay/StatefulSet/ledger", "ok": False, "problem": "1 replica",
         "source": {"file": "demo/kubernetes/pay/ledger.yaml", "document": 1, "line": 11},
         "merged": {"kubernetes": "pay/StatefulSet/ledger", "inventory": "sys-1/ledger",
                    "differences": {"zones": {"kubernetes": ["a"], "inventory": ["a", "b"], "used": "kubernetes"}}}},
        {"asset": "pay/Deployment/api", "ok": True, "source": None},  # no "problem": each_asset leaves it out
        {"slo": {"latency_ms": 800.0, "error_rate": 0.001}, "notifies": ["oncall-a", "oncall-b"], "review_id": 7},
    ]
    rows = words.evidence_rows(evidence[:2]) + words.evidence_rows(evidence[2:])
    assert rows[0] == {"asset": "pay/StatefulSet/ledger", "ok": False, "problem": "1 replica",
                       "source": "demo/kubernetes/pay/ledger.yaml:11",
                       "merged": "pay/StatefulSet/ledger (kubernetes) + sys-1/ledger (inventory); zones differ, "
                                 "kubernetes used"}
    assert rows[1]["problem"] == rows[1]["source"] == fmt.MISSING and rows[1]["ok"] is True
    assert rows[2] == {"slo": "latency ms: 800; error rate: 0.001", "notifies": "oncall-a, oncall-b", "review id": 7}
    assert list(rows[1]) == list(rows[0])  # every row has every column, a dash where the item had none
    shown = " ".join(str(v) for row in rows for v in row.values())
    assert "None" not in shown and "{" not in shown and '"' not in shown
