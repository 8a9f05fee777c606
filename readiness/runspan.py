"""Which stored rows hold for a run: one rule for every reader of scores and run systems.

A ``readiness_score`` or ``readiness_run_system`` row holds from the run that wrote it
(``run_id``) through ``last_run_id``, or through the latest complete run while
``last_run_id`` is NULL (``readiness.publish`` writes and closes them). Kept apart from
``readiness.models`` so the command line's quick reads use it without the ORM.
"""

from __future__ import annotations

from sqlalchemy import and_, or_


def holds_for(columns, run_id):
    """The rows of ``RunSystem`` or ``ScoreSnapshot`` (their ORM class or table columns) that
    hold for run ``run_id`` (a number or a column): written by it or before it, and not
    closed before it. Only complete runs are asked about: a run closes rows only when it
    is published, in the same transaction that writes their successors."""
    return and_(columns.run_id <= run_id, or_(columns.last_run_id.is_(None), columns.last_run_id >= run_id))
