"""Team-managed checks, waivers, roles and the audit log, through the service functions.

Most tests run on a copy of one migrated SQLite organisation (fast); the ones
that exercise storage (decisions, supersession, expiry, the audit triggers)
also run on PostgreSQL through ``any_engine``. Times are injected (``now=``) so
expiries are tested without waiting.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

import governance as gov
from governance.models import AuditEntry, Review, Waiver
from readiness import active_systems, import_catalog_file, people, run_evaluation
from readiness.errors import InputError, NotFound, PermissionDenied
from readiness.reports import results, scores
from readiness.rulekit import failed
from storage import get_engine, migrate, session_scope
from tests.governance.support import (
    NOW,
    governed_catalog,
    governed_org,
    ruleset_for,
)
from tests.readiness.helpers import write_yaml

ANSWERS = {"1": "yes, on the wiki", "2": "ada"}
EVIDENCE = ["https://wiki.example.internal/peak/sys-2", "reviewed in the 1 August game day"]


@pytest.fixture(scope="module")
def org_template(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("governance-org")
    path = folder / "org.db"
    engine = get_engine(f"sqlite:///{path}")
    migrate(engine)
    governed_org(engine, folder)
    engine.dispose()  # checkpoints the WAL so the file alone holds everything
    return path


@pytest.fixture
def org(org_template, tmp_path):
    """The small organisation on SQLite, copied from a migrated template."""
    path = tmp_path / "org.db"
    with sqlite3.connect(org_template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    return get_engine(f"sqlite:///{path}")


@pytest.fixture
def org_any(any_engine, tmp_path):
    """The small organisation on SQLite and on PostgreSQL."""
    governed_org(any_engine, tmp_path)
    return any_engine


@pytest.fixture
def rules(tmp_path):
    return ruleset_for(tmp_path / "rules")


def _submit(engine, rules, system="SYS-2", who="eve", at=NOW, answers=None):
    return gov.submit_review(engine, system, "gov_peak_plan", actor_name=who, answers=answers or ANSWERS,
                             evidence=EVIDENCE, ruleset=rules, now=at)


def _status(engine, run_id, system, rule):
    (row,) = [r for r in results(engine, run_id=run_id, system_id=system) if r.rule_id == rule]
    return row.status, row.basis


def _counts(engine):
    with session_scope(engine) as session:
        return tuple(session.execute(select(func.count()).select_from(model)).scalar()
                     for model in (Review, Waiver, AuditEntry))


def _actions(engine, **filters):
    return [e["action"] for e in gov.audit_log(engine, **filters)]


# ---------------------------------------------------------------- roles


def test_catalog_lists_grant_central_roles_and_people_reports_every_role(org_any):
    roles = people(org_any)
    assert roles["rita"] == {"readiness_team"}
    assert roles["root"] == {"admin"}
    assert roles["bob"] == {"architect:risk", "owner:fraud"}
    assert roles["cy"] == {"owner:checkout"}
    assert _actions(org_any, action="role.granted") == ["role.granted", "role.granted"]


def test_reimporting_without_a_person_removes_the_grant_and_audits_it(org, tmp_path):
    doc = governed_catalog()
    doc["readiness_team"] = ["ruth"]
    import_catalog_file(org, write_yaml(tmp_path / "c2.yaml", doc))
    assert "rita" not in people(org) and people(org)["ruth"] == {"readiness_team"}
    removed = gov.audit_log(org, action="role.removed")
    assert [(e["entity"], e["before"]) for e in removed] == [("role:rita", {"user": "rita", "role": "readiness_team"})]


def test_a_catalog_without_role_lists_leaves_the_grants_alone(org, tmp_path):
    doc = governed_catalog()
    del doc["readiness_team"], doc["admins"]
    import_catalog_file(org, write_yaml(tmp_path / "c2.yaml", doc))
    assert people(org)["rita"] == {"readiness_team"} and people(org)["root"] == {"admin"}


def test_a_blank_name_in_a_role_list_is_refused_naming_the_field(org, tmp_path):
    doc = governed_catalog()
    doc["admins"] = ["root", ""]
    with pytest.raises(InputError, match=r"admins\.1"):
        import_catalog_file(org, write_yaml(tmp_path / "c2.yaml", doc))


# ---------------------------------------------------------------- reviews


def test_owner_submits_and_a_domain_architect_approves_a_high_tier_check(org, rules):
    review = _submit(org, rules)
    assert review["state"] == "pending" and review["needs"] == ["architect"]
    assert review["answers"] == {"Is there a written peak plan?": "yes, on the wiki", "Who signed it off?": "ada"}
    assert review["evidence"][0] == {"kind": "link", "url": EVIDENCE[0]}
    approved = gov.approve_review(org, review["id"], actor_name="bob", comment="fine", now=NOW + timedelta(hours=1))
    assert approved["state"] == "approved"
    assert approved["approvals"] == [{"by": "bob", "as": "architect", "at": "2026-09-01T13:00:00", "comment": "fine"}]
    report = run_evaluation(org, ruleset=rules, now=NOW + timedelta(days=1))
    assert _status(org, report.run_id, "SYS-2", "gov_peak_plan") == ("pass", "attested")
    assert _actions(org, entity=f"review:{review['id']}") == ["review.submitted", "review.approved"]


def test_a_pending_review_counts_as_pending_evidence_and_earns_nothing(org, rules):
    _submit(org, rules)
    report = run_evaluation(org, ruleset=rules, now=NOW + timedelta(days=1))
    assert _status(org, report.run_id, "SYS-2", "gov_peak_plan") == ("pending_review", "pending")
    assert _status(org, report.run_id, "SYS-1", "gov_peak_plan") == ("no_data", "unattested")


def test_self_approval_is_refused_and_changes_nothing(org, rules):
    review = _submit(org, rules, who="bob")  # bob owns SYS-2 and is also the risk architect
    before = _counts(org)
    with pytest.raises(PermissionDenied, match="bob submitted review .* cannot approve it"):
        gov.approve_review(org, review["id"], actor_name="bob", now=NOW)
    with pytest.raises(PermissionDenied, match="cannot decide it"):
        gov.reject_review(org, review["id"], actor_name="bob", comment="not good enough", now=NOW)
    assert _counts(org) == before
    assert gov.get_review(org, review["id"])["state"] == "pending"


@pytest.mark.parametrize("who, reason", [
    ("dee", "dee is not a domain architect of risk \\(bob\\)"),          # an owner elsewhere
    ("ada", "ada is not a domain architect of risk"),                  # architect of another domain
    ("rita", "readiness team approves critical systems only"),          # central team on a high-tier system
    ("zed", "zed has no role in the catalog \\(viewer only\\)"),        # unknown: a viewer
])
def test_approval_by_someone_who_is_not_an_architect_of_the_domain_is_refused(org, rules, who, reason):
    review = _submit(org, rules)
    before = _counts(org)
    with pytest.raises(PermissionDenied, match=reason):
        gov.approve_review(org, review["id"], actor_name=who, now=NOW)
    assert _counts(org) == before


def test_only_owners_or_admins_submit_answers(org, rules):
    with pytest.raises(PermissionDenied, match="only its owners \\(members and leads of team fraud\\)"):
        _submit(org, rules, who="cy")
    assert _counts(org)[0] == 0
    assert _submit(org, rules, who="root")["submitted_by"] == "root"


def test_critical_system_needs_a_domain_architect_and_the_readiness_team(org_any, rules):
    review = _submit(org_any, rules, system="SYS-1", who="cy")
    assert review["needs"] == ["architect", "readiness_team"]
    half = gov.approve_review(org_any, review["id"], actor_name="ada", now=NOW + timedelta(hours=1))
    assert half["state"] == "pending"
    facts = gov.attestation_facts(org_any, NOW + timedelta(hours=2))["SYS-1"]["gov_peak_plan"]
    assert facts["state"] == "pending" and facts["approvals"][0]["by"] == "ada"
    with pytest.raises(PermissionDenied, match="already has its architect approval; it now needs the central "
                                               "readiness team \\(rita\\)"):
        gov.approve_review(org_any, review["id"], actor_name="abe", now=NOW + timedelta(hours=2))
    with pytest.raises(PermissionDenied, match="already approved"):
        gov.approve_review(org_any, review["id"], actor_name="ada", now=NOW + timedelta(hours=2))
    done = gov.approve_review(org_any, review["id"], actor_name="rita", now=NOW + timedelta(hours=3))
    assert done["state"] == "approved"
    assert [(a["by"], a["as"]) for a in done["approvals"]] == [("ada", "architect"), ("rita", "readiness_team")]
    report = run_evaluation(org_any, ruleset=rules, now=NOW + timedelta(days=1))
    assert _status(org_any, report.run_id, "SYS-1", "gov_peak_plan") == ("pass", "attested")


def test_readiness_team_may_approve_a_critical_check_first(org, rules):
    review = _submit(org, rules, system="SYS-1", who="cy")
    assert gov.approve_review(org, review["id"], actor_name="rita", now=NOW)["state"] == "pending"
    assert gov.approve_review(org, review["id"], actor_name="abe", now=NOW)["state"] == "approved"


def test_rejection_needs_a_comment_and_the_check_then_fails(org, rules):
    review = _submit(org, rules)
    with pytest.raises(InputError, match="--comment"):
        gov.reject_review(org, review["id"], actor_name="bob", comment="", now=NOW)
    rejected = gov.reject_review(org, review["id"], actor_name="bob", comment="no rollback section", now=NOW)
    assert rejected["state"] == "rejected" and rejected["rejected_by"] == "bob"
    with pytest.raises(InputError, match="is rejected; only pending reviews"):
        gov.approve_review(org, review["id"], actor_name="bob", now=NOW)
    report = run_evaluation(org, ruleset=rules, now=NOW + timedelta(days=1))
    assert _status(org, report.run_id, "SYS-2", "gov_peak_plan") == ("fail", "unattested")
    (row,) = [r for r in results(org, run_id=report.run_id, system_id="SYS-2") if r.rule_id == "gov_peak_plan"]
    assert "no rollback section" in row.message


def test_an_approval_expires_at_the_end_of_the_peak_event_and_the_expiry_is_audited_once(org_any, rules):
    review = _submit(org_any, rules)
    approved = gov.approve_review(org_any, review["id"], actor_name="bob", now=NOW)
    assert approved["expires_at"] == "2027-01-01T00:00:00"  # end of the peak event, before 180 days
    after_peak = datetime(2027, 1, 2, 9, 0)
    first = run_evaluation(org_any, ruleset=rules, now=after_peak)
    assert _status(org_any, first.run_id, "SYS-2", "gov_peak_plan") == ("expired", "unattested")
    run_evaluation(org_any, ruleset=rules, now=after_peak + timedelta(hours=1))
    expired = gov.audit_log(org_any, action="review.expired")
    assert len(expired) == 1 and expired[0]["actor"] == gov.EXPIRY_ACTOR
    assert (expired[0]["before"]["state"], expired[0]["after"]["state"]) == ("approved", "expired")


def test_an_approval_expires_after_the_set_period_when_no_peak_event_ends_first(org, rules):
    review = _submit(org, rules, at=datetime(2027, 2, 1))  # after the only event: no event limits it
    approved = gov.approve_review(org, review["id"], actor_name="bob", now=datetime(2027, 2, 1),
                                  validity=timedelta(days=30))
    assert approved["expires_at"] == "2027-03-03T00:00:00"
    assert gov.attestation_facts(org, datetime(2027, 3, 3))["SYS-2"]["gov_peak_plan"]["state"] == "expired"


def test_changing_the_answers_expires_the_approval_and_needs_a_new_review(org_any, rules):
    first = _submit(org_any, rules)
    gov.approve_review(org_any, first["id"], actor_name="bob", now=NOW)
    second = _submit(org_any, rules, at=NOW + timedelta(days=1), answers={"1": "yes, rewritten", "2": "bob"})
    assert gov.get_review(org_any, first["id"])["state"] == "expired"
    assert gov.get_review(org_any, first["id"])["closed_reason"] == f"answers changed by review {second['id']}"
    facts = gov.attestation_facts(org_any, NOW + timedelta(days=2))["SYS-2"]["gov_peak_plan"]
    assert (facts["state"], facts["review_id"]) == ("pending", second["id"])
    assert _actions(org_any, entity=f"review:{first['id']}") == ["review.submitted", "review.approved", "review.expired"]


def test_resubmitting_while_pending_supersedes_the_earlier_submission(org, rules):
    first = _submit(org, rules)
    _submit(org, rules, at=NOW + timedelta(hours=1))
    assert gov.get_review(org, first["id"])["state"] == "superseded"
    with pytest.raises(InputError, match="is superseded"):
        gov.approve_review(org, first["id"], actor_name="bob", now=NOW + timedelta(hours=2))


def test_facts_as_of_a_time_before_the_submission_show_nothing(org, rules):
    _submit(org, rules)
    assert gov.attestation_facts(org, NOW - timedelta(days=1))["SYS-2"] == {}


@pytest.mark.parametrize("answers, problem", [
    ({"1": "yes"}, "question 2 'Who signed it off\\?': not answered"),
    ({"1": "yes", "2": "ada", "3": "extra"}, "answer '3': not a question of gov_peak_plan \\(accepted: 1-2"),
    ({"1": "yes", "2": " "}, "empty"),
    ({"is there a written peak plan?": "yes", "2": "ada", "1": "again"}, "answered twice"),
])
def test_bad_answers_are_refused_naming_the_question_and_store_nothing(org, rules, answers, problem):
    with pytest.raises(InputError, match=problem):
        _submit(org, rules, answers=answers)
    assert _counts(org) == (0, 0, 2)  # only the two role grants from the import


def test_answers_parse_from_the_command_line_form(org):
    assert gov.parse_answers(["1=yes", "Who signed it off?= ada = bob"]) == {"1": "yes", "Who signed it off?": "ada = bob"}
    with pytest.raises(InputError, match="expected QUESTION=ANSWER"):
        gov.parse_answers(["just text"])


def test_automated_rules_and_unknown_systems_cannot_be_reviewed(org, rules):
    with pytest.raises(InputError, match="is automated.*team-managed rules: gov_peak_plan"):
        gov.submit_review(org, "SYS-2", "gov_always_fails", actor_name="eve", answers={}, evidence=EVIDENCE,
                          ruleset=rules, now=NOW)
    with pytest.raises(NotFound, match="unknown system 'SYS-9'"):
        _submit(org, rules, system="SYS-9")
    with pytest.raises(InputError, match="--evidence"):
        gov.submit_review(org, "SYS-2", "gov_peak_plan", actor_name="eve", answers=ANSWERS, evidence=[" "],
                          ruleset=rules, now=NOW)


# ---------------------------------------------------------------- waivers


def _request(engine, rules, *, who="dee", system="SYS-3", rule="gov_always_fails", expires=date(2026, 9, 30),
             at=NOW):
    return gov.request_waiver(engine, system, rule, actor_name=who, reason="migration scheduled after peak",
                              expires=expires, ruleset=rules, now=at)


def test_waiver_flow_waives_then_turns_back_into_a_failure_after_expiry(org_any, rules):
    waiver = _request(org_any, rules)
    assert (waiver["state"], waiver["expires"]) == ("requested", "2026-09-30")
    with pytest.raises(PermissionDenied, match="dee requested waiver .* cannot approve it; a domain architect "
                                               "of pay must \\(abe, ada\\)"):
        gov.approve_waiver(org_any, waiver["id"], actor_name="dee", ruleset=rules, now=NOW)
    with pytest.raises(PermissionDenied, match="bob is not a domain architect of pay"):
        gov.approve_waiver(org_any, waiver["id"], actor_name="bob", ruleset=rules, now=NOW)
    gov.approve_waiver(org_any, waiver["id"], actor_name="ada", comment="ok for this season", ruleset=rules,
                       now=NOW + timedelta(hours=1))

    during = run_evaluation(org_any, ruleset=rules, now=datetime(2026, 9, 30, 23, 0))  # through its last day
    assert _status(org_any, during.run_id, "SYS-3", "gov_always_fails") == ("waived", "waiver")
    assert _status(org_any, during.run_id, "SYS-1", "gov_always_fails") == ("fail", "automated")

    after = run_evaluation(org_any, ruleset=rules, now=datetime(2026, 10, 1, 0, 30))
    assert _status(org_any, after.run_id, "SYS-3", "gov_always_fails") == ("fail", "automated")
    assert gov.list_waivers(org_any, system_id="SYS-3")[0]["state"] == "expired"
    assert _actions(org_any, entity=f"waiver:{waiver['id']}") == ["waiver.requested", "waiver.approved", "waiver.expired"]


def test_a_waived_result_counts_as_documented_and_shows_in_evidence_confidence(org, rules):
    waiver = _request(org, rules)
    gov.approve_waiver(org, waiver["id"], actor_name="abe", ruleset=rules, now=NOW)
    report = run_evaluation(org, ruleset=rules, now=NOW + timedelta(days=1))
    (sys3,) = [s for s in scores(org, "system", run_id=report.run_id) if s["key"] == "SYS-3"]
    # SYS-3 counts gov_peak_plan (high, 7.5, no answer yet) and gov_always_fails (medium, 5, waived);
    # the blocker fails (critical, 10) and caps the score.
    assert sys3["confidence"]["waiver"] == pytest.approx(5 / 22.5, abs=1e-4)
    assert sys3["confidence"]["unattested"] == pytest.approx(7.5 / 22.5, abs=1e-4)  # unanswered is not attested
    assert sys3["confidence"]["attested"] == 0.0
    assert sum(sys3["confidence"].values()) == pytest.approx(1.0, abs=1e-3)


def test_blockers_cannot_be_waived(org, rules):
    with pytest.raises(InputError, match="gov_blocker is a blocker and cannot be waived"):
        _request(org, rules, rule="gov_blocker")
    assert _counts(org)[1] == 0


def test_an_overlay_never_waives_a_rule_marked_not_waivable(org, rules):
    meta = rules.by_id()["gov_blocker"].meta
    overlay = gov.WaiverOverlay({("SYS-1", "gov_blocker"): {"id": 1, "approved_by": "ada", "expires": "x",
                                                           "reason": "y"}})
    system = next(s for s in active_systems(org) if s.system_id == "SYS-1")
    assert overlay.apply(system, meta, failed("no")) is None


@pytest.mark.parametrize("expires, problem", [
    (date(2026, 8, 31), "in the past"),
    (date(2027, 12, 1), "more than 366 days ahead"),
])
def test_waiver_dates_outside_the_window_are_refused(org, rules, expires, problem):
    with pytest.raises(InputError, match=problem):
        _request(org, rules, expires=expires)


def test_a_second_waiver_for_the_same_finding_is_refused_while_one_is_open(org, rules):
    first = _request(org, rules)
    with pytest.raises(InputError, match=f"waiver {first['id']} \\(requested, through 2026-09-30\\) already covers"):
        _request(org, rules)


def test_revoking_a_waiver_needs_a_reason_and_the_rule_fails_again(org, rules):
    waiver = _request(org, rules)
    gov.approve_waiver(org, waiver["id"], actor_name="ada", ruleset=rules, now=NOW)
    with pytest.raises(PermissionDenied, match="eve cannot revoke waiver"):
        gov.revoke_waiver(org, waiver["id"], actor_name="eve", reason="I do not like it at all", now=NOW)
    with pytest.raises(PermissionDenied, match="dee cannot revoke"):  # the requester, once approved
        gov.revoke_waiver(org, waiver["id"], actor_name="dee", reason="no longer needed, fixed", now=NOW)
    with pytest.raises(InputError, match="--reason"):
        gov.revoke_waiver(org, waiver["id"], actor_name="rita", reason="", now=NOW)
    revoked = gov.revoke_waiver(org, waiver["id"], actor_name="rita", reason="fix is deployed already",
                                now=NOW + timedelta(hours=2))
    assert (revoked["state"], revoked["revoked_by"]) == ("revoked", "rita")
    report = run_evaluation(org, ruleset=rules, now=NOW + timedelta(hours=3))
    assert _status(org, report.run_id, "SYS-3", "gov_always_fails") == ("fail", "automated")
    assert _actions(org, entity=f"waiver:{waiver['id']}") == ["waiver.requested", "waiver.approved", "waiver.revoked"]


def test_a_requester_may_withdraw_an_unapproved_request(org, rules):
    waiver = _request(org, rules)
    assert gov.revoke_waiver(org, waiver["id"], actor_name="dee", reason="fixed it before review",
                             now=NOW)["state"] == "revoked"
    with pytest.raises(InputError, match="is revoked; only requested waivers"):
        gov.approve_waiver(org, waiver["id"], actor_name="ada", ruleset=rules, now=NOW)


def test_viewers_cannot_request_waivers(org, rules):
    with pytest.raises(PermissionDenied, match="zed cannot request a waiver for SYS-3"):
        _request(org, rules, who="zed")


# ---------------------------------------------------------------- audit log


def test_every_step_is_in_the_audit_log_with_actor_time_and_before_after(org_any, rules):
    review = _submit(org_any, rules)
    gov.approve_review(org_any, review["id"], actor_name="bob", now=NOW + timedelta(minutes=5))
    waiver = _request(org_any, rules, at=NOW + timedelta(minutes=10))
    gov.approve_waiver(org_any, waiver["id"], actor_name="ada", ruleset=rules, now=NOW + timedelta(minutes=15))
    entries = [e for e in gov.audit_log(org_any) if not e["action"].startswith("role.")]
    assert [(e["actor"], e["action"], e["at"]) for e in entries] == [
        ("eve", "review.submitted", "2026-09-01T12:00:00"),
        ("bob", "review.approved", "2026-09-01T12:05:00"),
        ("dee", "waiver.requested", "2026-09-01T12:10:00"),
        ("ada", "waiver.approved", "2026-09-01T12:15:00"),
    ]
    assert entries[0]["before"] is None and entries[0]["after"]["state"] == "pending"
    assert (entries[1]["before"]["state"], entries[1]["after"]["state"]) == ("pending", "approved")
    assert (entries[3]["before"]["approved_by"], entries[3]["after"]["approved_by"]) == (None, "ada")


def test_the_audit_log_refuses_updates_and_deletes_at_the_database(org_any, rules):
    _submit(org_any, rules)
    for statement in ("UPDATE readiness_audit SET actor = 'mallory'", "DELETE FROM readiness_audit"):
        with pytest.raises(Exception, match="append-only"):
            with org_any.begin() as connection:
                connection.execute(text(statement))
    assert {e["actor"] for e in gov.audit_log(org_any)} >= {"eve"}
    assert "mallory" not in {e["actor"] for e in gov.audit_log(org_any)}
