"""readiness results without a foreign-key constraint to their run

Revision ID: readiness_0006_results_no_fk
Revises: readiness_0005_incremental
Create Date: 2026-12-06 04:30:00

A run writes one result row per system and rule (600,000 at 10,000 systems). On
PostgreSQL the constraint is checked by a trigger per inserted row, which made the
COPY of a 10,000-system run's results about 2.5 times slower on the server. The
engine keeps the reference whole itself: a run's row is written before its results
and removed only after them (readiness.engine._remove_run). The index on
(run_id, system_id) stays.
"""
import sqlalchemy as sa
from alembic import op

revision = 'readiness_0006_results_no_fk'
down_revision = 'readiness_0005_incremental'
branch_labels = None
depends_on = None

# SQLite's constraint has no name: batch mode finds it by this convention.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("readiness_result", naming_convention=NAMING) as batch:
            batch.drop_constraint("fk_readiness_result_run_id_readiness_run", type_="foreignkey")
        return
    for foreign_key in sa.inspect(bind).get_foreign_keys("readiness_result"):
        if foreign_key["referred_table"] == "readiness_run" and foreign_key["name"]:
            op.drop_constraint(foreign_key["name"], "readiness_result", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("readiness_result") as batch:
        batch.create_foreign_key("fk_readiness_result_run_id_readiness_run", "readiness_run", ["run_id"], ["id"])
