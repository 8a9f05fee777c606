"""readiness incremental runs: results carried forward by reference, exact summary sums

Revision ID: readiness_0005_incremental
Revises: readiness_0004
Create Date: 2026-12-06 01:40:00

Every stored run gets its ``readiness_run_system`` rows (each system's results are
its own), so existing runs read exactly as before.
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
    with op.batch_alter_table('readiness_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('evaluated', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('readiness_rule_summary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('possible_micro', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('earned_micro', sa.BigInteger(), nullable=False, server_default='0'))
    empty = "'{}'::json" if op.get_bind().dialect.name == "postgresql" else "'{}'"
    op.execute("INSERT INTO readiness_run_system (run_id, system_id, results_run_id, domain_key, fingerprint, tally) "
               f"SELECT run_id, system_id, run_id, '', '', {empty} "
               "FROM (SELECT DISTINCT run_id, system_id FROM readiness_result) AS stored")
    op.execute("UPDATE readiness_run SET evaluated = systems")


def downgrade() -> None:
    with op.batch_alter_table('readiness_rule_summary', schema=None) as batch_op:
        batch_op.drop_column('earned_micro')
        batch_op.drop_column('possible_micro')
    with op.batch_alter_table('readiness_run', schema=None) as batch_op:
        batch_op.drop_column('evaluated')
        batch_op.drop_column('context_hash')
    op.drop_table('readiness_run_system')
