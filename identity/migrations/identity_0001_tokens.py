"""identity: personal API tokens (hashed) and the demo mark

Revision ID: identity_0001
Revises:
Create Date: 2026-12-06 01:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401

revision = 'identity_0001'
down_revision = None
branch_labels = ('identity',)
depends_on = None


def upgrade() -> None:
    op.create_table(
        'identity_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('secret_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('hint', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('issued_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('issued_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_identity_token_person', 'identity_token', ['person'])
    op.create_index('ix_identity_token_secret_hash', 'identity_token', ['secret_hash'], unique=True)
    op.create_table(
        'identity_mark',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('set_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('identity_mark')
    op.drop_index('ix_identity_token_secret_hash', table_name='identity_token')
    op.drop_index('ix_identity_token_person', table_name='identity_token')
    op.drop_table('identity_token')
