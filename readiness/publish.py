"""Which score and run-system rows a run writes, and which earlier rows it closes.

A score row (``ScoreSnapshot``) and a run-system row (``RunSystem``) hold from the run
that wrote them through ``last_run_id``, None while they hold for the latest complete
run (``readiness.models.holds_for``). A run writes rows only for what it changed:

- a run-system row for every system it evaluated (its results are this run's), closing
  the system's previous row; systems gone from the catalog get theirs closed;
- a system score row for every system it evaluated, closing the previous one;
- a unit score row (team, group, domain, company) only where the roll-up differs from
  the open row, compared value for value, so a renamed team or a moved group is
  written although no system in it changed.

An incremental run that changed one system of 10,000 thus writes a few rows instead of
25,000, and every reader still sees exactly what a full run would give. Everything
here runs inside the run's publish transaction: all of it, or none.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import bindparam, select, update

from readiness.models import RunSystem, ScoreSnapshot
from readiness.scoring import UnitScore
from storage import dumps_json

RUN_SYSTEM_COLUMNS = ("run_id", "system_id", "results_run_id", "domain_key", "fingerprint", "tally")
SCORE_COLUMNS = ("run_id", "level", "key", "name", "parent_key", "score", "points_possible", "points_earned",
                 "points_outstanding", "systems", "failing_rules", "confidence")
_IDS_PER_STATEMENT = 500


def publish_rows(connection, run_id: int, latest: int | None, *, everything: bool, evaluated: Collection[str],
                 gone: Collection[str], run_systems: list[tuple], system_scores: Sequence[UnitScore],
                 unit_scores: Sequence[UnitScore]) -> None:
    """Close the rows run ``run_id`` replaces (at ``latest``, the previous complete run) and
    write its own. ``everything``: every active system was evaluated (a full run), so every
    open run-system and system score row is replaced."""
    if latest is not None:
        _close_systems(connection, latest, None if everything else [*evaluated, *gone])
    unit_rows = _changed_units(connection, latest, unit_scores)
    write_rows(connection, RunSystem.__tablename__, RUN_SYSTEM_COLUMNS, run_systems)
    write_rows(connection, ScoreSnapshot.__tablename__, SCORE_COLUMNS,
               [_score_row(run_id, u) for u in (*system_scores, *unit_rows)])


def _close_systems(connection, latest: int, system_ids: list[str] | None) -> None:
    """Close the open run-system and system score rows of ``system_ids`` (None: all of them)."""
    rs, score = RunSystem.__table__.c, ScoreSnapshot.__table__.c
    close_runs = update(RunSystem.__table__).where(rs.last_run_id.is_(None)).values(last_run_id=latest)
    close_scores = (update(ScoreSnapshot.__table__).where(score.last_run_id.is_(None), score.level == "system")
                    .values(last_run_id=latest))
    if system_ids is None:
        connection.execute(close_runs)
        connection.execute(close_scores)
        return
    close_runs = close_runs.where(rs.system_id.in_(bindparam("ids", expanding=True)))
    close_scores = close_scores.where(score.key.in_(bindparam("ids", expanding=True)))
    for start in range(0, len(system_ids), _IDS_PER_STATEMENT):
        ids = {"ids": system_ids[start:start + _IDS_PER_STATEMENT]}
        connection.execute(close_runs, ids)
        connection.execute(close_scores, ids)


def _changed_units(connection, latest: int | None, unit_scores: Sequence[UnitScore]) -> list[UnitScore]:
    """The unit scores that differ from their open rows (closed here), and the open rows of
    units no longer scored closed too."""
    if latest is None:
        return list(unit_scores)
    score = ScoreSnapshot.__table__.c
    held = {(level, key): (row_id, (name, parent_key, value, possible, earned, outstanding, systems, failing,
                                    confidence))
            for row_id, level, key, name, parent_key, value, possible, earned, outstanding, systems, failing,
            confidence in connection.execute(
                select(score.id, score.level, score.key, score.name, score.parent_key, score.score,
                       score.points_possible, score.points_earned, score.points_outstanding, score.systems,
                       score.failing_rules, score.confidence)
                .where(score.last_run_id.is_(None), score.level != "system"))}
    changed, closing = [], []
    for unit in unit_scores:
        open_row = held.pop((unit.level, unit.key), None)
        if open_row is not None and open_row[1] == _values(unit):
            continue  # unchanged: the open row goes on holding
        changed.append(unit)
        if open_row is not None:
            closing.append(open_row[0])
    closing.extend(row_id for row_id, _ in held.values())  # units that no longer exist
    close = (update(ScoreSnapshot.__table__).where(score.id.in_(bindparam("ids", expanding=True)))
             .values(last_run_id=latest))
    for start in range(0, len(closing), _IDS_PER_STATEMENT):
        connection.execute(close, {"ids": closing[start:start + _IDS_PER_STATEMENT]})
    return changed


def write_rows(connection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Driver-level bulk write of a run's rows, each in ``columns`` order (the publish's here, and
    the engine's results and rule summary): PostgreSQL gets COPY (one round trip, no per-row
    statement on the server), SQLite the driver's executemany."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholder = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) "
                               f"VALUES ({', '.join([placeholder] * len(columns))})", rows)


def _values(u: UnitScore) -> tuple:
    """What a score row says of its unit, in the order ``_changed_units`` reads it."""
    return (u.name, u.parent_key, u.score, u.possible, u.earned, u.outstanding, u.systems, u.failing, u.confidence)


def _score_row(run_id: int, u: UnitScore) -> tuple:
    return (run_id, u.level, u.key, u.name, u.parent_key, u.score, u.possible, u.earned, u.outstanding, u.systems,
            u.failing, dumps_json(u.confidence))
