"""Every rule against its fixtures: the exact status and credit for each case.

Cases live in ``cases_<category>.py`` next to this file, one row per
situation (pass, each way to fail, partial-credit bands, not applicable, no
data). A rule without a passing and a failing fixture fails the suite.
"""

from __future__ import annotations

import pytest

from readiness.rulebook import load_rules
from readiness.rulekit import Status
from tests.rules import (
    cases_availability,
    cases_capacity,
    cases_databases,
    cases_ddos,
    cases_observability,
    cases_performance,
    cases_resilience,
    cases_team_managed,
)

ALL_CASES = (cases_resilience.CASES + cases_availability.CASES + cases_databases.CASES + cases_performance.CASES
             + cases_capacity.CASES + cases_observability.CASES + cases_ddos.CASES + cases_team_managed.CASES)


@pytest.mark.parametrize(("rule_id", "system", "facts", "expected", "credit"), ALL_CASES)
def test_rule_gives_the_expected_status_and_credit(rule_id, system, facts, expected, credit):
    from tests.rules.kit import judge

    outcome = judge(rule_id, system, facts)
    assert (outcome.status, round(outcome.credit, 4)) == (expected, round(credit, 4)), outcome.message
    assert outcome.message, "every outcome says why"


def test_case_ids_are_unique():
    ids = [c.id for c in ALL_CASES]
    assert len(ids) == len(set(ids))


def test_every_rule_has_a_passing_and_a_failing_fixture():
    seen: dict[str, set[Status]] = {}
    for param in ALL_CASES:
        rule_id, _, _, expected, _ = param.values
        seen.setdefault(rule_id, set()).add(expected)
    pack = {r.meta.id for r in load_rules(entry_point_packs=False).rules}
    assert pack == set(seen), f"rules without fixtures: {sorted(pack - set(seen))}; unknown: {sorted(set(seen) - pack)}"
    lacking = {rid: sorted(s) for rid, s in seen.items()
               if Status.PASS not in s or not s & {Status.FAIL, Status.NO_DATA}}
    assert not lacking, f"rules without both a pass and a fail/no-data fixture: {lacking}"


def test_every_band_has_a_fixture_at_its_credit():
    """Each partial-credit band of each headroom rule is exercised by a failing case with that credit."""
    credits: dict[str, set[float]] = {}
    for param in ALL_CASES:
        rule_id, _, _, expected, credit = param.values
        credits.setdefault(rule_id, set()).add(round(credit, 4))
    for rule in load_rules(entry_point_packs=False).rules:
        for band in rule.meta.bands:
            assert round(band.credit, 4) in credits[rule.meta.id], f"{rule.meta.id}: no fixture at credit {band.credit}"
        if rule.meta.bands:
            assert 0.0 in credits[rule.meta.id], f"{rule.meta.id}: no fixture below the lowest band"
