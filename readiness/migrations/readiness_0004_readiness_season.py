"""readiness season: the peak event becomes a season (scope, milestones, freeze, close) with a change history

Existing peak events are kept as seasons.

Revision ID: readiness_0004
Revises: readiness_0003
Create Date: 2026-12-05 22:45:00
"""
import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = 'readiness_0004'
down_revision = 'readiness_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table('readiness_peak_event', 'readiness_season')
    with op.batch_alter_table('readiness_season', schema=None) as batch_op:
        batch_op.add_column(sa.Column('freeze_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('scope', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('milestones', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
    op.create_table('readiness_season_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('season_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('readiness_season_change', schema=None) as batch_op:
        batch_op.create_index('ix_readiness_season_change_season', ['season_key', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('readiness_season_change', schema=None) as batch_op:
        batch_op.drop_index('ix_readiness_season_change_season')
    op.drop_table('readiness_season_change')
    with op.batch_alter_table('readiness_season', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('milestones')
        batch_op.drop_column('scope')
        batch_op.drop_column('freeze_on')
    op.rename_table('readiness_season', 'readiness_peak_event')
