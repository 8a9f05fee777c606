"""flashsales: drop flashsales_notification (its rows live in notifications_outbox since notifications_0001)

Revision ID: flashsales_0002_drop_outbox
Revises: flashsales_0001
Create Date: 2026-12-06 01:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'flashsales_0002_drop_outbox'
down_revision = 'flashsales_0001'
branch_labels = None
# The outbox migration copies this table's rows first: it must have run before the table goes.
depends_on = 'notifications_0001'


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table('flashsales_notification'):
        return
    with op.batch_alter_table('flashsales_notification', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flashsales_notification_status'))
        batch_op.drop_index(batch_op.f('ix_flashsales_notification_request_id'))
    op.drop_table('flashsales_notification')


def downgrade() -> None:
    # The table comes back empty: its messages stay in notifications_outbox.
    op.create_table('flashsales_notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(), nullable=False),
    sa.Column('destination', sa.String(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(), nullable=False),
    sa.Column('body', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['flashsales_request.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flashsales_notification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flashsales_notification_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flashsales_notification_status'), ['status'], unique=False)
