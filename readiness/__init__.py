"""The readiness core: organisation catalog, facts, rules engine, scores and their history.

Other packages import from here only (never from the private modules):
- catalog: ``active_systems``, ``org_units``, ``people``, ``team_contacts``, ``ownership``
- facts: ``FactSource``, ``CollectedFacts``, ``StoreReport``, ``collect_and_store``, ``latest_facts``,
  ``latest_facts_of``, ``freshness``, ``registered_sources``; the cloud inventory as a source:
  ``InventorySource``
- rules: ``load_rules``, ``RuleSet`` and the authoring kit in ``readiness.rulekit``
- use cases: ``open_database``, ``import_catalog_file``, ``import_inventory_file``,
  ``collect``, ``run_evaluation``, ``run_demo``
- read models: ``scores``, ``explain``, ``history``, ``progress``, ``changes``, ``latest_run_id``,
  ``run_current_at``, ``results``, ``rule_summary``, ``current_peak_event``
- one evaluation at a time: ``evaluation_lock``
- status sets (``readiness.scoring``): ``MET_STATUSES``, ``JUDGED_STATUSES``, ``LOSING_STATUSES``,
  ``NOT_YET_MET_STATUSES``, ``BLOCKING_STATUSES``
"""

from readiness.catalog import (
    OrgUnit,
    Ownership,
    TeamContacts,
    active_systems,
    get_system,
    org_units,
    ownership,
    people,
    team_contacts,
)
from readiness.engine import freshness
from readiness.errors import InputError, NotFound, PermissionDenied, ReadinessError, RuleLoadError
from readiness.facts import (
    CollectedFacts,
    FactSource,
    StoreReport,
    collect_and_store,
    latest_facts,
    latest_facts_of,
    registered_sources,
    source_statuses,
)
from readiness.locking import evaluation_lock
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
    run_current_at,
    scores,
)
from readiness.rulebook import RuleSet, load_rules
from readiness.rulekit import Facts, Outcome, RuleMeta, Status, SystemView
from readiness.scoring import (
    BLOCKING_STATUSES,
    JUDGED_STATUSES,
    LOSING_STATUSES,
    MET_STATUSES,
    NOT_YET_MET_STATUSES,
)
from readiness.service import (
    collect,
    import_catalog_file,
    import_inventory_file,
    open_database,
    run_demo,
    run_evaluation,
)
from readiness.sources.inventory import InventorySource

__all__ = [
    "BLOCKING_STATUSES", "InventorySource", "JUDGED_STATUSES", "LOSING_STATUSES", "MET_STATUSES",
    "NOT_YET_MET_STATUSES", "Ownership", "StoreReport", "current_peak_event", "evaluation_lock",
    "freshness", "latest_facts_of", "ownership", "registered_sources", "results", "run_current_at",
    "CollectedFacts", "FactSource", "Facts", "InputError", "NotFound", "OrgUnit", "Outcome",
    "PermissionDenied", "ReadinessError", "RuleLoadError", "RuleMeta", "RuleSet", "Status", "SystemView",
    "active_systems", "changes", "collect", "collect_and_store", "explain", "get_run", "get_system",
    "history", "import_catalog_file", "import_inventory_file", "latest_facts", "latest_run_id",
    "list_runs", "load_rules", "open_database", "org_units", "people", "progress", "run_demo",
    "rule_summary", "run_evaluation", "scores", "source_statuses", "TeamContacts", "team_contacts",
]
