"""readiness incremental runs: results carried forward by reference, run state for the next run

Revision ID: readiness_0005_incremental
Revises: readiness_0004
Create Date: 2026-12-06 01:40:00

Runs stored before have no ``readiness_run_system`` or ``readiness_run_state`` rows:
they hold only their own results and read exactly as before (readiness.models.of_run).
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = 'readiness_0005_incremental'
down_revision = 'readiness_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('readiness_run_system',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('system_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('results_run_id', sa.Integer(), nullable=False),
    sa.Column('domain_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('tally', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['readiness_run.id'], ),
    sa.PrimaryKeyConstraint('run_id', 'system_id')
    )
    op.create_table('readiness_run_state',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('context_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('evaluated', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['readiness_run.id'], ),
    sa.PrimaryKeyConstraint('run_id')
    )


def downgrade() -> None:
    op.drop_table('readiness_run_state')
    op.drop_table('readiness_run_system')
