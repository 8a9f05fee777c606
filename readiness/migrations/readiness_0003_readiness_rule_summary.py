"""readiness rule summary: results per run, domain, rule and status with their points

Revision ID: readiness_0003
Revises: readiness_0002
Create Date: 2026-11-27 07:40:00
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = 'readiness_0003'
down_revision = 'readiness_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('readiness_rule_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('domain_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('rule_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('results', sa.Integer(), nullable=False),
    sa.Column('points_possible', sa.Float(), nullable=False),
    sa.Column('points_earned', sa.Float(), nullable=False),
    sa.Column('short', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['readiness_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('readiness_rule_summary', schema=None) as batch_op:
        batch_op.create_index('ix_readiness_rule_summary_run', ['run_id', 'domain_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('readiness_rule_summary', schema=None) as batch_op:
        batch_op.drop_index('ix_readiness_rule_summary_run')
    op.drop_table('readiness_rule_summary')
