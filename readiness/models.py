"""Readiness tables: the organisation catalog, facts, evaluation runs, results, scores.

Identifiers from the company's own registry (domain/group/team keys, SystemIDs)
are the primary keys, so imports are idempotent upserts and foreign keys read
naturally in evidence and exports.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from readiness.runspan import holds_for  # noqa: F401  re-exported: the rule beside the tables it reads


def _json(**kwargs: Any) -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False), **kwargs)


class Domain(SQLModel, table=True):
    __tablename__ = "readiness_domain"
    key: str = Field(primary_key=True, max_length=100)
    name: str
    architects: list[str] = _json()
    leads: list[str] = _json()
    retired: bool = False


class Group(SQLModel, table=True):
    __tablename__ = "readiness_group"
    key: str = Field(primary_key=True, max_length=100)
    name: str
    domain_key: str = Field(foreign_key="readiness_domain.key", index=True)
    parent_key: str | None = None  # a sub-group names its parent group (same domain)
    retired: bool = False


class Team(SQLModel, table=True):
    __tablename__ = "readiness_team"
    key: str = Field(primary_key=True, max_length=100)
    name: str
    group_key: str = Field(foreign_key="readiness_group.key", index=True)
    members: list[str] = _json()
    leads: list[str] = _json()
    oncall: list[str] = _json()
    retired: bool = False


class System(SQLModel, table=True):
    __tablename__ = "readiness_system"
    system_id: str = Field(primary_key=True, max_length=100)
    name: str
    team_key: str = Field(foreign_key="readiness_team.key", index=True)
    tier: str  # critical | high | medium | low
    public: bool = False
    purchase_flow: bool = False
    traffic_class: str = "Baseline"  # FLAS | Baseline
    services: list[dict] = _json()
    retired: bool = False
    retired_at: NaiveDatetime | None = None


class Dependency(SQLModel, table=True):
    __tablename__ = "readiness_dependency"
    source_id: str = Field(foreign_key="readiness_system.system_id", primary_key=True)
    target_id: str = Field(foreign_key="readiness_system.system_id", primary_key=True)
    kind: str = "sync"  # sync | async


class FactRecord(SQLModel, table=True):
    """One distinct version of one source's facts about one system.

    A new row only when the content changes; re-collecting the same content
    moves ``last_seen_at`` so freshness is known without duplicating history.
    """

    __tablename__ = "readiness_fact"
    __table_args__ = (
        UniqueConstraint("system_id", "source", "content_hash"),
        Index("ix_readiness_fact_latest", "system_id", "source", "last_seen_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    system_id: str = Field(foreign_key="readiness_system.system_id")
    source: str = Field(max_length=100)
    content_hash: str = Field(max_length=64)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    origin: str = ""  # file or endpoint the facts came from
    collected_at: NaiveDatetime
    last_seen_at: NaiveDatetime


class SourceStatus(SQLModel, table=True):
    """The last collection attempt per source, so stale or failing sources show."""

    __tablename__ = "readiness_source_status"
    source: str = Field(primary_key=True, max_length=100)
    last_attempt_at: NaiveDatetime
    last_success_at: NaiveDatetime | None = None
    last_error: str | None = None
    systems: int = 0


class EvaluationRun(SQLModel, table=True):
    __tablename__ = "readiness_run"
    id: int | None = Field(default=None, primary_key=True)
    started_at: NaiveDatetime
    finished_at: NaiveDatetime | None = None
    status: str = "running"  # running | complete | failed
    rule_versions: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    fact_hashes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    load_errors: list[dict] = _json()
    systems: int = 0
    results: int = 0
    errors: int = 0
    company_score: float | None = None
    inputs_hash: str = ""
    peak_event: str | None = None  # the season's key


class RuleResult(SQLModel, table=True):
    __tablename__ = "readiness_result"
    __table_args__ = (Index("ix_readiness_result_run_system", "run_id", "system_id"),)
    id: int | None = Field(default=None, primary_key=True)
    # The run (readiness_run.id), kept whole by the engine rather than by a constraint: a run
    # writes 600,000 rows at 10,000 systems, and PostgreSQL checks a foreign key with a trigger
    # per row (migration readiness_0006). A run's row is written first and removed last.
    run_id: int
    system_id: str = Field(max_length=100)
    rule_id: str = Field(max_length=100)
    rule_version: str = ""
    status: str
    credit: float = 0.0
    weight: float = 0.0
    earned: float = 0.0
    counted: bool = True
    message: str = ""
    evidence: list[dict] = _json()
    basis: str = "automated"  # automated | attested | pending | waiver | stale


class RunSystem(SQLModel, table=True):
    """Which results a run gives a system: those of the run that last evaluated it.

    A row holds from run ``run_id`` through ``last_run_id`` (None: through the latest
    complete run, see ``holds_for``): a run that carries a system forward writes nothing
    for it. Rows are written and closed in the run's short publish transaction, so a
    run's results are visible (through this table) only once the run is complete.
    ``fingerprint`` hashes the system's own inputs (catalog entry, fact hashes,
    staleness, governance state); ``tally`` is its points as scoring accumulated them
    (and its share of every roll-up), so a later run can roll up a carried system
    without reading its results.
    """

    __tablename__ = "readiness_run_system"
    __table_args__ = (Index("ix_readiness_run_system_open", "last_run_id", "system_id"),)
    run_id: int = Field(foreign_key="readiness_run.id", primary_key=True)
    system_id: str = Field(primary_key=True, max_length=100)
    last_run_id: int | None = None  # the last complete run this row holds for; None: still holds
    results_run_id: int  # the run whose readiness_result rows hold this system's results
    domain_key: str = Field(default="", max_length=100)
    fingerprint: str = Field(default="", max_length=64)
    tally: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RunState(SQLModel, table=True):
    """What the next run needs to be incremental (runs stored before incremental runs have none).

    ``context_hash``: what every system's results depend on beside its own inputs (rule
    versions, load errors, due dates, season, opaque overlays); a run whose context equals
    the previous complete run's evaluates only the systems whose fingerprint changed.
    ``summary``: the rule summary's exact sums, ``[domain, rule, status, results, counted,
    possible, earned, short]`` with points in millionths, so adding and subtracting systems
    equals a full run to the last digit.
    """

    __tablename__ = "readiness_run_state"
    run_id: int = Field(foreign_key="readiness_run.id", primary_key=True)
    context_hash: str = Field(max_length=64)
    evaluated: int = 0  # systems evaluated by the run; the others' results were carried forward
    summary: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class RuleSummary(SQLModel, table=True):
    """Results of one run counted per domain, rule and status, with their points.

    Written by the evaluation so the dashboard's heat map and pass rates read
    a few thousand rows instead of grouping every result of the run.
    """

    __tablename__ = "readiness_rule_summary"
    __table_args__ = (Index("ix_readiness_rule_summary_run", "run_id", "domain_key"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="readiness_run.id")
    domain_key: str = Field(max_length=100)
    rule_id: str = Field(max_length=100)
    status: str
    counted: bool = True  # whether results with this status count towards the score
    results: int = 0
    points_possible: float = 0.0
    points_earned: float = 0.0
    short: int = 0  # counted results that earned less than their weight


class ScoreSnapshot(SQLModel, table=True):
    """A score per organisational unit per run: the dashboard reads these, never raw results.

    A row holds from run ``run_id`` through ``last_run_id`` (None: through the latest
    complete run): a run writes rows only for the units whose score changed and closes
    the rows they replace, so every reader selects a run's rows with ``holds_for``.
    """

    __tablename__ = "readiness_score"
    __table_args__ = (Index("ix_readiness_score_run_level", "run_id", "level"),
                      Index("ix_readiness_score_unit", "level", "key", "run_id"),
                      Index("ix_readiness_score_open", "last_run_id", "level"))
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="readiness_run.id")
    last_run_id: int | None = None  # the last complete run this row holds for; None: still holds
    level: str  # company | domain | group | team | system
    key: str = Field(max_length=100)
    name: str
    parent_key: str | None = None
    score: float
    points_possible: float
    points_earned: float
    points_outstanding: float
    systems: int = 1
    failing_rules: int = 0
    confidence: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Season(SQLModel, table=True):
    """A peak season: its peak window (``starts_on`` to ``ends_on``), target, scope and milestones.

    Written only through ``readiness.seasons``, which records every change in
    ``readiness_season_change``. Was ``readiness_peak_event`` (migration 0004).
    """

    __tablename__ = "readiness_season"
    key: str = Field(primary_key=True, max_length=100)
    name: str
    starts_on: date  # the peak window (e.g. Black Friday to year end)
    ends_on: date
    target_date: date  # when the target score must be reached
    target_score: float = 100.0
    freeze_on: date | None = None  # change freeze from this day to the end of the peak window
    # {"domains": [...], "tiers": [...], "traffic_classes": [...]}: an empty or absent list means all
    scope: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Due-date overrides in days from the target: {"capacity": -42, "rule:ddos_fire_drill": -14}
    milestones: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    closed_at: NaiveDatetime | None = None


class SeasonChange(SQLModel, table=True):
    """Who changed a season, when, and what it was before and after (append-only)."""

    __tablename__ = "readiness_season_change"
    __table_args__ = (Index("ix_readiness_season_change_season", "season_key", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    season_key: str = Field(max_length=100)
    at: NaiveDatetime
    actor: str = Field(max_length=200)
    action: str = Field(max_length=50)  # created | updated | closed
    before: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


# ---------------------------------------------------------------- central roles
# The catalog document's ``readiness_team`` and ``admins`` lists, stored by the catalog import
# and read by ``people``. Reviews, waivers and the audit log live in ``governance.models``.


class RoleGrant(SQLModel, table=True):
    """A central role from the catalog document's ``readiness_team`` and ``admins`` lists."""

    __tablename__ = "readiness_role_grant"
    user_name: str = Field(primary_key=True, max_length=200)
    role: str = Field(primary_key=True, max_length=50)  # readiness_team | admin
    granted_at: NaiveDatetime
    origin: str = ""  # the catalog file that granted it


def of_run(query, run_id: int):
    """``query`` (over ``RuleResult``) narrowed to one run's results: those it wrote and those
    it carries forward from earlier runs by reference (``RunSystem``). Only a published run
    has ``RunSystem`` rows, so a run still being written shows no results. A run stored
    before incremental runs existed (no ``RunState``) has only its own results."""
    from sqlalchemy import and_, exists, or_, select, tuple_

    carried = select(RunSystem.results_run_id, RunSystem.system_id).where(holds_for(RunSystem, run_id))
    legacy = ~exists().where(RunState.run_id == run_id)
    return query.where(or_(tuple_(RuleResult.run_id, RuleResult.system_id).in_(carried),
                           and_(RuleResult.run_id == run_id, legacy)))
