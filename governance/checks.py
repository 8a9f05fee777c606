"""The rules governance works on: one rule's metadata, the team-managed checks."""

from __future__ import annotations

from readiness import NotFound, RuleMeta, RuleSet, load_rules


def ruleset_or_default(ruleset: RuleSet | None) -> RuleSet:
    return ruleset if ruleset is not None else load_rules()


def rule_meta(ruleset: RuleSet, rule_id: str) -> RuleMeta:
    rules = ruleset.by_id()
    if rule_id not in rules:
        raise NotFound(f"unknown rule {rule_id!r}: see `readiness rules list`")
    return rules[rule_id].meta


def team_managed_ids(ruleset: RuleSet) -> list[str]:
    return [r.meta.id for r in ruleset.rules if r.meta.kind == "team-managed"]
