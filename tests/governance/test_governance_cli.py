"""The review and waiver flows end to end from the CLI, on a copy of the demo organisation."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import timedelta

import pytest
from typer.testing import CliRunner

import governance as gov
from readiness import active_systems, people, run_evaluation
from readiness.cli import app
from readiness.reports import results
from storage import get_engine, utcnow
from tests.governance.support import write_rules

runner = CliRunner()


@pytest.fixture
def demo(demo_db, tmp_path):
    """A private copy of the session's demo database (the original stays read-only)."""
    path = tmp_path / "demo.db"
    with sqlite3.connect(demo_db.removeprefix("sqlite:///")) as source, sqlite3.connect(path) as target:
        source.backup(target)
    return f"sqlite:///{path}"


@pytest.fixture
def rules_dir(tmp_path):
    return write_rules(tmp_path / "rules")


def _cli(url: str, *args: str):
    return runner.invoke(app, [*args, "--db", url])


def _cast(url: str, tier: str) -> dict:
    """People around one system of a tier: two owners (not architects), an architect, the readiness team."""
    engine = get_engine(url)
    roles = people(engine)
    for system in active_systems(engine):
        if system.tier != tier:
            continue
        owners = sorted(u for u, r in roles.items() if f"owner:{system.team}" in r
                        and not any(x.startswith("architect:") for x in r))
        architects = sorted(u for u, r in roles.items() if f"architect:{system.domain}" in r)
        if len(owners) >= 2 and architects:
            return {"system": system.system_id, "owner": owners[0], "colleague": owners[1],
                    "architect": architects[0],
                    "readiness_team": sorted(u for u, r in roles.items() if "readiness_team" in r)[0]}
    raise AssertionError(f"no {tier} system with two owners in the demo")


def _status(url: str, system: str, rule: str) -> tuple[str, str]:
    (row,) = [r for r in results(get_engine(url), system_id=system) if r.rule_id == rule]
    return row.status, row.basis


def test_review_flow_on_a_critical_demo_system_end_to_end(demo, rules_dir):
    cast = _cast(demo, "critical")
    system = cast["system"]
    submitted = _cli(demo, "review", "submit", system, "gov_peak_plan", "--as", cast["owner"],
                     "--answer", "1=yes, linked", "--answer", "Who signed it off?=the team lead",
                     "--evidence", "https://wiki.example.internal/peak-plan", "--evidence", "rehearsed on 1 Aug",
                     "--rules-dir", str(rules_dir), "--format", "json")
    assert submitted.exit_code == 0, submitted.output
    review_id = json.loads(submitted.stdout)["id"]

    self_approval = _cli(demo, "review", "approve", str(review_id), "--as", cast["owner"])
    assert self_approval.exit_code == 1
    assert f"refused: {cast['owner']} submitted review {review_id} and cannot approve it" in self_approval.stderr
    colleague = _cli(demo, "review", "approve", str(review_id), "--as", cast["colleague"])
    assert colleague.exit_code == 1 and f"refused: {cast['colleague']} is not a domain architect" in colleague.stderr

    first = _cli(demo, "review", "approve", str(review_id), "--as", cast["architect"], "--comment", "complete")
    assert first.exit_code == 0, first.output
    assert "pending; awaiting readiness team approval" in first.stdout
    second = _cli(demo, "review", "approve", str(review_id), "--as", cast["readiness_team"])
    assert second.exit_code == 0 and ": approved, expires " in second.stdout

    listed = json.loads(_cli(demo, "review", "list", "--system", system, "--rule", "gov_peak_plan",
                             "--format", "json").stdout)
    assert [(r["id"], r["state"]) for r in listed] == [(review_id, "approved")]
    evaluated = _cli(demo, "evaluate", "--rules-dir", str(rules_dir))
    assert evaluated.exit_code == 0, evaluated.output
    assert _status(demo, system, "gov_peak_plan") == ("pass", "attested")

    audit = _cli(demo, "audit", "--entity", f"review:{review_id}", "--format", "json")
    assert audit.exit_code == 0, audit.output
    assert [(e["actor"], e["action"]) for e in json.loads(audit.stdout)] == [
        (cast["owner"], "review.submitted"), (cast["architect"], "review.approved"),
        (cast["readiness_team"], "review.approved")]


def test_rejecting_from_the_cli_needs_a_comment(demo, rules_dir):
    cast = _cast(demo, "high")
    submitted = _cli(demo, "review", "submit", cast["system"], "gov_peak_plan", "--as", cast["owner"],
                     "--answer", "1=yes", "--answer", "2=me", "--evidence", "see wiki", "--rules-dir", str(rules_dir),
                     "--format", "json")
    review_id = json.loads(submitted.stdout)["id"]
    bare = _cli(demo, "review", "reject", str(review_id), "--as", cast["architect"])
    assert bare.exit_code == 1 and "--comment" in bare.stderr
    rejected = _cli(demo, "review", "reject", str(review_id), "--as", cast["architect"], "--comment", "no rollback")
    assert rejected.exit_code == 0 and ": rejected" in rejected.stdout


def test_waiver_flow_on_the_demo_then_the_expired_waiver_fails_again(demo, rules_dir):
    cast = _cast(demo, "high")
    system = cast["system"]
    last_day = (utcnow() + timedelta(days=7)).date()
    requested = _cli(demo, "waiver", "request", system, "gov_always_fails", "--as", cast["owner"],
                     "--reason", "migration scheduled after the freeze", "--expires", last_day.isoformat(),
                     "--rules-dir", str(rules_dir), "--format", "json")
    assert requested.exit_code == 0, requested.output
    waiver_id = json.loads(requested.stdout)["id"]

    own = _cli(demo, "waiver", "approve", str(waiver_id), "--as", cast["owner"], "--rules-dir", str(rules_dir))
    assert own.exit_code == 1 and f"refused: {cast['owner']} requested waiver {waiver_id}" in own.stderr
    colleague = _cli(demo, "waiver", "approve", str(waiver_id), "--as", cast["colleague"],
                     "--rules-dir", str(rules_dir))
    assert colleague.exit_code == 1 and "is not a domain architect" in colleague.stderr
    approved = _cli(demo, "waiver", "approve", str(waiver_id), "--as", cast["architect"],
                    "--reason", "accepted for this season", "--rules-dir", str(rules_dir))
    assert approved.exit_code == 0 and f"approved by {cast['architect']}" in approved.stdout

    assert _cli(demo, "evaluate", "--rules-dir", str(rules_dir)).exit_code == 0
    assert _status(demo, system, "gov_always_fails") == ("waived", "waiver")
    scored = json.loads(_cli(demo, "score", "--level", "system", "--format", "json").stdout)
    (row,) = [r for r in scored if r["key"] == system]
    assert row["confidence"]["waiver"] > 0 and row["confidence_waiver"] == row["confidence"]["waiver"]

    run_evaluation(get_engine(demo), rules_dirs=[rules_dir], now=utcnow() + timedelta(days=9))
    # No longer waived; nine days on the demo's inventory is past its maximum age, so the failure is stale.
    assert _status(demo, system, "gov_always_fails") == ("stale", "stale")
    waivers = json.loads(_cli(demo, "waiver", "list", "--system", system, "--format", "json").stdout)
    assert [w["state"] for w in waivers if w["id"] == waiver_id] == ["expired"]
    audit = json.loads(_cli(demo, "audit", "--entity", f"waiver:{waiver_id}", "--format", "json").stdout)
    assert [e["action"] for e in audit] == ["waiver.requested", "waiver.approved", "waiver.expired"]


def test_a_blocker_waiver_and_a_bad_date_are_refused_and_store_nothing(demo, rules_dir):
    cast = _cast(demo, "high")
    before = json.loads(_cli(demo, "waiver", "list", "--format", "json").stdout)
    blocker = _cli(demo, "waiver", "request", cast["system"], "gov_blocker", "--as", cast["owner"],
                   "--reason", "cannot fix this season at all", "--expires", "2099-01-01",
                   "--rules-dir", str(rules_dir))
    assert blocker.exit_code == 1 and "is a blocker and cannot be waived" in blocker.stderr
    bad_date = _cli(demo, "waiver", "request", cast["system"], "gov_always_fails", "--as", cast["owner"],
                    "--reason", "cannot fix this season at all", "--expires", "next week",
                    "--rules-dir", str(rules_dir))
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    assert json.loads(_cli(demo, "waiver", "list", "--format", "json").stdout) == before


def test_the_demo_has_every_review_and_waiver_state_and_seeding_again_changes_nothing(demo):
    """`readiness demo` seeds governance once (run_demo calls seed_demo_governance, then evaluates)."""
    engine = get_engine(demo)
    reviews = Counter(r["state"] for r in gov.list_reviews(engine))
    assert {"pending", "approved", "rejected", "expired"} <= set(reviews) and sum(reviews.values()) > 10
    waivers = Counter(w["state"] for w in gov.list_waivers(engine))
    assert {"approved", "requested", "revoked", "expired"} <= set(waivers)
    entries = len(gov.audit_log(engine))
    assert gov.seed_demo_governance(engine)["skipped"] is True
    assert len(gov.audit_log(engine)) == entries
    waived = [r for r in results(engine) if r.status == "waived"]
    assert len(waived) == waivers["approved"] and {r.basis for r in waived} == {"waiver"}
    assert [e["action"] for e in gov.audit_log(engine, action="waiver.expired")] == ["waiver.expired"]
    table = _cli(demo, "audit", "--limit", "5")
    assert table.exit_code == 0 and table.stdout.count("\n") == 7  # header, rule, five entries


def test_seeding_an_organisation_without_governance_gives_every_state(engine, tmp_path):
    from readiness.demo import generate
    from readiness.service import import_catalog_file, import_inventory_file

    files = generate(tmp_path / "files", systems=30, seed=11, now=utcnow())
    import_catalog_file(engine, files.catalog)
    import_inventory_file(engine, files.inventories[-1][1])
    run_evaluation(engine)
    seeded = gov.seed_demo_governance(engine)
    assert seeded["reviews"] > 5 and seeded["waivers"] >= 6
    assert {"approved", "requested", "revoked", "expired"} <= {w["state"] for w in gov.list_waivers(engine)}
    assert {"pending", "approved", "rejected"} <= {r["state"] for r in gov.list_reviews(engine)}
