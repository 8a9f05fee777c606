"""Which stored rows hold for a run: one rule for every reader of scores and run systems.

A ``readiness_score`` or ``readiness_run_system`` row holds from the run that wrote it
(``run_id``) through ``last_run_id``, or through the latest complete run while
``last_run_id`` is NULL (``readiness.publish`` writes and closes them). Kept apart from
``readiness.models`` so the command line's quick reads use it without the ORM, and stated
twice, as an SQLAlchemy expression (:func:`holds_for`) and as plain SQL (:func:`holds_for_sql`,
for ``readiness.quickreads``, which reads SQLite without SQLAlchemy);
tests/readiness/test_quickreads.py reads every run both ways.
"""

from __future__ import annotations


def holds_for(columns, run_id):
    """The rows of ``RunSystem`` or ``ScoreSnapshot`` (their ORM class or table columns) that
    hold for run ``run_id`` (a number or a column): written by it or before it, and not
    closed before it. Only complete runs are asked about: a run closes rows only when it
    is published, in the same transaction that writes their successors."""
    from sqlalchemy import and_, or_

    return and_(columns.run_id <= run_id, or_(columns.last_run_id.is_(None), columns.last_run_id >= run_id))


def holds_for_sql(table: str, run: str = ":run") -> str:
    """:func:`holds_for` as an SQL condition on ``table`` (a table name or alias) for the run
    ``run`` (a bound parameter such as ``:run``, or a column)."""
    return f"{table}.run_id <= {run} AND ({table}.last_run_id IS NULL OR {table}.last_run_id >= {run})"
