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

from readiness.backstage import BackstageReport, import_backstage, read_backstage
from readiness.capacity import CapacityFigures, capacity_figures, stored_capacity_figures
from readiness.catalog import (
    OrgUnit,
    Ownership,
    RoleChange,
    SystemPeople,
    TeamContacts,
    active_system_ids,
    active_systems,
    central_roles,
    domain_architects,
    get_system,
    org_units,
    ownership,
    people,
    system_people,
    team_contacts,
)
from readiness.engine import freshness
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
    StoreReport,
    collect_and_store,
    latest_facts,
    latest_facts_of,
    registered_sources,
    source_statuses,
    store_facts,
)
from readiness.inventory import InventorySource
from readiness.locking import evaluation_lock
from readiness.reads import (
    result_changes,
    rule_points,
    rule_results,
    rule_status_counts,
    run_started,
    schema_ready,
    score_rows,
    system_catalog,
    system_results,
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
    run_current_at,
    scores,
    season_scores,
)
from readiness.rulebook import RuleSet, load_rules
from readiness.rulekit import (
    Facts,
    Outcome,
    RuleMeta,
    Status,
    SystemView,
    days_before,
    describe_offset,
    weeks_before,
)
from readiness.scoring import (
    BLOCKER_CAP,
    BLOCKING_STATUSES,
    JUDGED_STATUSES,
    LOSING_STATUSES,
    MET_STATUSES,
    NOT_YET_MET_STATUSES,
    WAIVABLE_STATUSES,
)
from readiness.seasons import (
    close_season,
    create_season,
    current_season,
    due_dates,
    get_season,
    in_scope,
    list_seasons,
    parse_milestone,
    season_history,
    season_record,
    update_season,
)
from readiness.service import (
    collect,
    import_catalog_file,
    import_inventory_file,
    open_database,
    run_demo,
    run_evaluation,
)

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
