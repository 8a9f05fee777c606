"""readiness score and run-system rows hold for a span of runs, not one run each

Revision ID: readiness_0007_rows_by_interval
Revises: readiness_0006_results_no_fk
Create Date: 2026-12-06 07:30:00

A run used to copy every unchanged system's and unit's rows (25,000 at 10,000
systems) although an incremental run changes a handful. Now a row holds from
``run_id`` through ``last_run_id`` (NULL: through the latest complete run) and a
run writes only what changed (readiness.models.holds_for). Existing rows each
held for their own run: they are closed at it, except the latest complete run's,
which stay open.
"""
import sqlalchemy as sa
from alembic import op

revision = 'readiness_0007_rows_by_interval'
down_revision = 'readiness_0006_results_no_fk'
branch_labels = None
depends_on = None

TABLES = ("readiness_score", "readiness_run_system")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('last_run_id', sa.Integer(), nullable=True))
        latest = "(SELECT MAX(id) FROM readiness_run WHERE status = 'complete')"
        op.execute(f"UPDATE {table} SET last_run_id = run_id "
                   f"WHERE {latest} IS NULL OR run_id <> {latest}")
    op.create_index('ix_readiness_score_unit', 'readiness_score', ['level', 'key', 'run_id'])
    op.create_index('ix_readiness_score_open', 'readiness_score', ['last_run_id', 'level'])
    op.create_index('ix_readiness_run_system_open', 'readiness_run_system', ['last_run_id', 'system_id'])


def downgrade() -> None:
    # Back to a row per run: copy every interval out to each complete run it holds for.
    op.drop_index('ix_readiness_run_system_open', 'readiness_run_system')
    op.drop_index('ix_readiness_score_open', 'readiness_score')
    op.drop_index('ix_readiness_score_unit', 'readiness_score')
    holds = ("r.status = 'complete' AND r.id > t.run_id AND (t.last_run_id IS NULL OR r.id <= t.last_run_id)")
    op.execute("INSERT INTO readiness_run_system (run_id, system_id, results_run_id, domain_key, fingerprint, tally) "
               "SELECT r.id, t.system_id, t.results_run_id, t.domain_key, t.fingerprint, t.tally "
               f"FROM readiness_run_system t JOIN readiness_run r ON {holds}")
    op.execute("INSERT INTO readiness_score (run_id, level, key, name, parent_key, score, points_possible, "
               "points_earned, points_outstanding, systems, failing_rules, confidence) "
               "SELECT r.id, t.level, t.key, t.name, t.parent_key, t.score, t.points_possible, t.points_earned, "
               "t.points_outstanding, t.systems, t.failing_rules, t.confidence "
               f"FROM readiness_score t JOIN readiness_run r ON {holds}")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('last_run_id')
