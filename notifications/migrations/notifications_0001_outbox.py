"""notifications outbox (flash sales' earlier outbox rows copied in, so none is lost)

Revision ID: notifications_0001
Revises:
Create Date: 2026-12-05 23:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'notifications_0001'
down_revision = None
branch_labels = ('notifications',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notifications_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('message_key', sa.String(length=160), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('ref', sa.String(length=120), nullable=False),
        sa.Column('audience', sa.String(length=300), nullable=False),
        sa.Column('destination', sa.String(), nullable=False),
        sa.Column('recipients', sa.JSON(), nullable=False),
        sa.Column('subject', sa.String(), nullable=False),
        sa.Column('body', sa.String(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key', name='uq_notifications_outbox_key'),
    )
    for column in ('message_key', 'source', 'ref', 'status'):
        op.create_index(f'ix_notifications_outbox_{column}', 'notifications_outbox', [column])
    # Flash sales kept their own outbox before this one: its rows move here, skipped ones to be sent by
    # `notifications retry` once a channel exists; a "no change needed" not yet sent is only recorded.
    # On a new database the flash-sale branch may come later: then there is nothing to copy.
    if not sa.inspect(op.get_bind()).has_table('flashsales_notification'):
        return
    op.execute("""
        INSERT INTO notifications_outbox (key, message_key, source, kind, ref, audience, destination, recipients,
            subject, body, status, attempts, last_error, created_at, last_attempt_at, sent_at)
        SELECT substr('flashsale:' || request_id || ':' || event || ':' || 'legacy' || id || '|' || destination, 1, 200),
            'flashsale:' || request_id || ':' || event || ':' || 'legacy' || id, 'flashsales',
            CASE event WHEN 'submitted' THEN 'flashsale.lifecycle' WHEN 'cancelled' THEN 'flashsale.lifecycle'
                       WHEN 'increase_requested' THEN 'flashsale.review' ELSE 'flashsale.decision' END,
            'flashsale:' || request_id, '', destination, recipients, subject, body,
            CASE WHEN event = 'no_change_needed' AND status <> 'sent' THEN 'recorded' ELSE status END,
            attempts, last_error, created_at, last_attempt_at, sent_at
        FROM flashsales_notification ORDER BY id
    """)


def downgrade() -> None:
    op.drop_table('notifications_outbox')
