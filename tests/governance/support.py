"""Builders shared by the governance tests (no tests here): a small organisation with roles, test rules."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from readiness import import_catalog_file, load_rules
from readiness.reports import upsert_peak_event
from tests.readiness.helpers import catalog_doc, write_yaml

NOW = datetime(2026, 9, 1, 12, 0)
PEAK_ENDS = date(2026, 12, 31)

# Three rules written for these tests, so they do not depend on the built-in pack:
# a team-managed check, an automated rule that always fails, and a failing blocker.
RULES = {
    "gov_peak_plan": '''
from readiness.rulekit import RuleMeta, attestation_outcome

META = RuleMeta(id="gov_peak_plan", title="Peak plan reviewed", category="resilience", severity="high",
                kind="team-managed", rationale="A reviewed peak plan makes the season predictable.",
                remediation="Write the plan and submit it with `readiness review submit`.",
                questions=("Is there a written peak plan?", "Who signed it off?"), facts=("attestations",))


def evaluate(system, facts):
    return attestation_outcome(META, facts)
''',
    "gov_always_fails": '''
from readiness.rulekit import RuleMeta, failed

META = RuleMeta(id="gov_always_fails", title="Something always missing", category="observability",
                severity="medium", rationale="A rule that fails everywhere, for waiver tests.",
                remediation="Nothing to do: this rule exists for tests only.")


def evaluate(system, facts):
    return failed("missing on purpose")
''',
    "gov_blocker": '''
from readiness.rulekit import RuleMeta, failed

META = RuleMeta(id="gov_blocker", title="A blocker that fails", category="availability", severity="critical",
                blocker=True, rationale="Blockers cannot be waived: this one shows it.",
                remediation="Nothing to do: this rule exists for tests only.")


def evaluate(system, facts):
    return failed("blocked on purpose")
''',
}


def write_rules(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rule_id, text in RULES.items():
        (folder / f"{rule_id}.py").write_text(text, encoding="utf-8")
    return folder


def ruleset_for(folder: Path):
    """Only the test rules: no built-in pack, no entry-point packs."""
    return load_rules([write_rules(folder)], builtin=False, entry_point_packs=False)


def governed_catalog(**extra) -> dict:
    """SYS-1 critical (pay, team checkout: cy, dee), SYS-2 high (risk, team fraud: eve and the
    risk architect bob), SYS-3 low (pay). Architects: ada, abe (pay), bob (risk).
    Readiness team: rita. Admin: root."""
    doc = catalog_doc(readiness_team=["rita"], admins=["root"], **extra)
    doc["domains"][0]["architects"] = ["ada", "abe"]
    doc["teams"][1]["members"] = ["eve", "bob"]
    return doc


def governed_org(engine, folder: Path, **extra) -> None:
    import_catalog_file(engine, write_yaml(folder / "catalog.yaml", governed_catalog(**extra)))
    upsert_peak_event(engine, key="peak-2026", name="Peak 2026", starts_on=date(2026, 11, 27),
                      ends_on=PEAK_ENDS, target_date=date(2026, 10, 31))
