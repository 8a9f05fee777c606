"""The readiness core: organisation catalog, facts, rules engine, scores and their history.

Other packages import from here only (never from the private modules):
- catalog: ``active_systems``, ``org_units``, ``people``, ``team_contacts``
- facts: ``FactSource``, ``CollectedFacts``, ``collect_and_store``, ``latest_facts``
- rules: ``load_rules``, ``RuleSet`` and the authoring kit in ``readiness.rulekit``
- use cases: ``open_database``, ``import_catalog_file``, ``import_inventory_file``,
  ``collect``, ``run_evaluation``, ``run_demo``
- read models: ``scores``, ``explain``, ``history``, ``progress``, ``changes``, ``latest_run_id``,
  ``rule_summary``, ``results``, ``current_peak_event``
- for the governance context: ``central_roles``, ``system_people`` (who answers for a system),
  ``domain_architects``, ``active_system_ids``, ``RoleChange`` (what a catalog import's
  ``peak_readiness.role_changes`` hooks receive)
"""

from readiness.catalog import (
    OrgUnit,
    RoleChange,
    SystemPeople,
    TeamContacts,
    active_system_ids,
    active_systems,
    central_roles,
    domain_architects,
    get_system,
    org_units,
    people,
    system_people,
    team_contacts,
)
from readiness.errors import InputError, NotFound, PermissionDenied, ReadinessError, RuleLoadError
from readiness.facts import (
    CollectedFacts,
    FactSource,
    collect_and_store,
    latest_facts,
    source_statuses,
)
from readiness.reports import (
    changes,
    current_peak_event,
    explain,
    get_run,
    history,
    latest_run_id,
    list_runs,
    progress,
    results,
    rule_summary,
    scores,
)
from readiness.rulebook import RuleSet, load_rules
from readiness.rulekit import Facts, Outcome, RuleMeta, Status, SystemView
from readiness.service import (
    collect,
    import_catalog_file,
    import_inventory_file,
    open_database,
    run_demo,
    run_evaluation,
)

__all__ = [
    "CollectedFacts", "FactSource", "Facts", "InputError", "NotFound", "OrgUnit", "Outcome",
    "PermissionDenied", "ReadinessError", "RuleLoadError", "RuleMeta", "RuleSet", "Status", "SystemView",
    "active_systems", "changes", "collect", "collect_and_store", "explain", "get_run", "get_system",
    "history", "import_catalog_file", "import_inventory_file", "latest_facts", "latest_run_id",
    "list_runs", "load_rules", "open_database", "org_units", "people", "progress", "run_demo",
    "rule_summary", "run_evaluation", "scores", "source_statuses", "TeamContacts", "team_contacts",
    # for the governance context
    "RoleChange", "SystemPeople", "active_system_ids", "central_roles", "current_peak_event", "domain_architects", "results",
    "system_people",
]
