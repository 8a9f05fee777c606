"""The readiness core: organisation catalog, facts, rules engine, scores and their history.

Other packages import from here only (never from the private modules):
- catalog: ``active_systems``, ``org_units``, ``people``, ``team_contacts``, ``ownership``; Backstage catalogs:
  ``read_backstage``, ``import_backstage``, ``BackstageReport``
- facts: ``FactSource``, ``CollectedFacts``, ``collect_and_store``, ``store_facts``, ``StoreReport``,
  ``latest_facts``, ``latest_facts_of``, ``freshness``, ``registered_sources``; the cloud inventory
  as a source: ``InventorySource``
- rules: ``load_rules``, ``RuleSet`` and the authoring kit in ``readiness.rulekit``
- capacity policy: ``capacity_figures``, ``stored_capacity_figures``, ``CapacityFigures`` (rules use ``readiness.capacity``)
- use cases: ``open_database``, ``import_catalog_file``, ``import_inventory_file``,
  ``collect``, ``run_evaluation``, ``run_demo``
- seasons: ``create_season``, ``update_season``, ``close_season``, ``get_season``, ``list_seasons``,
  ``current_season``, ``season_history``, ``season_record``, ``due_dates``, ``parse_milestone``, ``in_scope``;
  due offsets for rules: ``weeks_before``, ``days_before``, ``describe_offset``
- read models: ``scores``, ``explain``, ``history``, ``progress``, ``season_scores``, ``changes``, ``latest_run_id``,
  ``rule_summary``, ``results``, ``current_peak_event``, ``run_current_at``; lean rows for dashboards: ``rule_points``, ``rule_status_counts``,
  ``system_results``, ``rule_results``, ``result_changes``, ``score_rows``, ``system_catalog``, ``run_started``,
  ``schema_ready``
- one evaluation at a time: ``evaluation_lock``
- status sets (from the scoring policy): ``MET_STATUSES``, ``JUDGED_STATUSES``, ``LOSING_STATUSES``,
  ``NOT_YET_MET_STATUSES``, ``BLOCKING_STATUSES``; the blocker cap ``BLOCKER_CAP``
- for the governance context: ``central_roles``, ``system_people`` (who answers for a system),
  ``domain_architects``, ``active_system_ids``, ``RoleChange`` (what a catalog import's
  ``peak_readiness.role_changes`` hooks receive)
"""

from storage import lazy_surface

# Each public name loads from its module on first use (PEP 562): importing the package, or a
# light submodule of it such as its CLI, does not import the whole context and its heavy
# dependencies. tests/clikit/test_startup.py checks every name here resolves.
_EXPORTS = {
    "BackstageReport": "readiness.backstage",
    "import_backstage": "readiness.backstage",
    "read_backstage": "readiness.backstage",
    "CapacityFigures": "readiness.capacity",
    "capacity_figures": "readiness.capacity",
    "stored_capacity_figures": "readiness.capacity",
    "OrgUnit": "readiness.catalog",
    "Ownership": "readiness.catalog",
    "RoleChange": "readiness.catalog",
    "SystemPeople": "readiness.catalog",
    "TeamContacts": "readiness.catalog",
    "active_system_ids": "readiness.catalog",
    "active_systems": "readiness.catalog",
    "central_roles": "readiness.catalog",
    "domain_architects": "readiness.catalog",
    "get_system": "readiness.catalog",
    "org_units": "readiness.catalog",
    "ownership": "readiness.catalog",
    "people": "readiness.catalog",
    "system_people": "readiness.catalog",
    "team_contacts": "readiness.catalog",
    "freshness": "readiness.engine",
    "InputError": "readiness.errors",
    "MassRetirement": "readiness.errors",
    "NotFound": "readiness.errors",
    "NothingToEvaluate": "readiness.errors",
    "PermissionDenied": "readiness.errors",
    "ReadinessError": "readiness.errors",
    "RuleLoadError": "readiness.errors",
    "CollectedFacts": "readiness.facts",
    "FactSource": "readiness.facts",
    "StoreReport": "readiness.facts",
    "collect_and_store": "readiness.facts",
    "latest_facts": "readiness.facts",
    "latest_facts_of": "readiness.facts",
    "registered_sources": "readiness.facts",
    "source_statuses": "readiness.facts",
    "store_facts": "readiness.facts",
    "InventorySource": "readiness.inventory",
    "evaluation_lock": "readiness.locking",
    "rule_points": "readiness.reads",
    "rule_results": "readiness.reads",
    "rule_status_counts": "readiness.reads",
    "run_started": "readiness.reads",
    "schema_ready": "readiness.reads",
    "score_rows": "readiness.reads",
    "system_catalog": "readiness.reads",
    "system_results": "readiness.reads",
    "changes": "readiness.reports",
    "current_peak_event": "readiness.reports",
    "explain": "readiness.reports",
    "get_run": "readiness.reports",
    "history": "readiness.reports",
    "latest_run_id": "readiness.reports",
    "list_runs": "readiness.reports",
    "progress": "readiness.reports",
    "results": "readiness.reports",
    "rule_summary": "readiness.reports",
    "run_current_at": "readiness.reports",
    "scores": "readiness.reports",
    "season_scores": "readiness.reports",
    "RuleSet": "readiness.rulebook",
    "load_rules": "readiness.rulebook",
    "Facts": "readiness.rulekit",
    "Outcome": "readiness.rulekit",
    "RuleMeta": "readiness.rulekit",
    "Status": "readiness.rulekit",
    "SystemView": "readiness.rulekit",
    "days_before": "readiness.rulekit",
    "describe_offset": "readiness.rulekit",
    "weeks_before": "readiness.rulekit",
    "BLOCKING_STATUSES": "readiness.scoring",
    "JUDGED_STATUSES": "readiness.scoring",
    "LOSING_STATUSES": "readiness.scoring",
    "MET_STATUSES": "readiness.scoring",
    "NOT_YET_MET_STATUSES": "readiness.scoring",
    "WAIVABLE_STATUSES": "readiness.scoring",
    "close_season": "readiness.seasons",
    "create_season": "readiness.seasons",
    "current_season": "readiness.seasons",
    "due_dates": "readiness.seasons",
    "get_season": "readiness.seasons",
    "list_seasons": "readiness.seasons",
    "parse_milestone": "readiness.seasons",
    "season_history": "readiness.seasons",
    "season_record": "readiness.seasons",
    "update_season": "readiness.seasons",
    "collect": "readiness.service",
    "import_catalog_file": "readiness.service",
    "import_inventory_file": "readiness.service",
    "open_database": "readiness.service",
    "run_demo": "readiness.service",
    "run_evaluation": "readiness.service",
    "BLOCKER_CAP": "readiness.scoring",
    "in_scope": "readiness.seasons",
    "result_changes": "readiness.reads",
}

__all__ = [
    # capacity policy
    "CapacityFigures", "capacity_figures", "stored_capacity_figures",
    # catalog
    "OrgUnit", "Ownership", "TeamContacts", "active_systems", "get_system", "org_units", "ownership", "people", "team_contacts",
    "BackstageReport", "import_backstage", "read_backstage",
    # errors
    "InputError", "MassRetirement", "NotFound", "NothingToEvaluate", "PermissionDenied", "ReadinessError",
    "RuleLoadError",
    # facts
    "CollectedFacts", "FactSource", "InventorySource", "StoreReport", "collect_and_store", "latest_facts",
    "source_statuses", "store_facts", "latest_facts_of", "freshness", "registered_sources",
    # lean reads for dashboards
    "result_changes", "rule_points", "rule_results", "rule_status_counts", "run_started", "schema_ready", "score_rows",
    "system_catalog", "system_results",
    # read models
    "changes", "explain", "get_run", "history", "latest_run_id", "list_runs", "progress", "rule_summary",
    "run_current_at", "evaluation_lock",
    "scores", "season_scores",
    # seasons and due offsets
    "close_season", "create_season", "current_season", "days_before", "describe_offset", "due_dates",
    "get_season", "in_scope", "list_seasons", "parse_milestone", "season_history", "season_record", "update_season",
    "weeks_before",
    # rules and the authoring kit
    "Facts", "Outcome", "RuleMeta", "RuleSet", "Status", "SystemView", "load_rules",
    # status sets
    "BLOCKER_CAP", "BLOCKING_STATUSES", "JUDGED_STATUSES", "LOSING_STATUSES", "MET_STATUSES", "NOT_YET_MET_STATUSES",
    "WAIVABLE_STATUSES",
    # use cases
    "collect", "import_catalog_file", "import_inventory_file", "open_database", "run_demo", "run_evaluation",
    # for the governance context
    "RoleChange", "SystemPeople", "active_system_ids", "central_roles", "current_peak_event",
    "domain_architects", "results", "system_people",
]


lazy_surface(__name__, _EXPORTS)
