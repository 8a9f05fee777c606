"""The readiness core: organisation catalog, facts, rules engine, scores and their history.

Other packages import from here only (never from the private modules):
- catalog: ``active_systems``, ``org_units``, ``people``, ``team_contacts``
- facts: ``FactSource``, ``CollectedFacts``, ``collect_and_store``, ``latest_facts``
- rules: ``load_rules``, ``RuleSet`` and the authoring kit in ``readiness.rulekit``
- capacity policy: ``capacity_figures``, ``CapacityFigures`` (rules use ``readiness.capacity``)
- use cases: ``open_database``, ``import_catalog_file``, ``import_inventory_file``,
  ``collect``, ``run_evaluation``, ``run_demo``
- read models: ``scores``, ``explain``, ``history``, ``progress``, ``changes``, ``latest_run_id``,
  ``rule_summary``
"""

from readiness.capacity import CapacityFigures, capacity_figures
from readiness.catalog import (
    OrgUnit,
    TeamContacts,
    active_systems,
    get_system,
    org_units,
    people,
    team_contacts,
)
from readiness.errors import (
    InputError,
    MassRetirement,
    NotFound,
    NothingToEvaluate,
    PermissionDenied,
    ReadinessError,
    RuleLoadError,
)
from readiness.facts import (
    CollectedFacts,
    FactSource,
    collect_and_store,
    latest_facts,
    source_statuses,
)
from readiness.reports import (
    changes,
    explain,
    get_run,
    history,
    latest_run_id,
    list_runs,
    progress,
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
    "CapacityFigures", "capacity_figures", "CollectedFacts", "FactSource", "Facts", "InputError", "MassRetirement", "NotFound", "NothingToEvaluate", "OrgUnit", "Outcome",
    "PermissionDenied", "ReadinessError", "RuleLoadError", "RuleMeta", "RuleSet", "Status", "SystemView",
    "active_systems", "changes", "collect", "collect_and_store", "explain", "get_run", "get_system",
    "history", "import_catalog_file", "import_inventory_file", "latest_facts", "latest_run_id",
    "list_runs", "load_rules", "open_database", "org_units", "people", "progress", "run_demo",
    "rule_summary", "run_evaluation", "scores", "source_statuses", "TeamContacts", "team_contacts",
]
