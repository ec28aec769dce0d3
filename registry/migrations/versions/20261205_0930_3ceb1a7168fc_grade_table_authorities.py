"""grade conversion tables: whose they are, and withdrawn rather than deleted

An institution sets a table for its own conversions, a ministry for its country's, the registry
(admins) tables used only when named (mappings/grade_tables.py; issue 18, item 9). Tables stored
before have no authority: they become the registry's.

Revision ID: 3ceb1a7168fc
Revises: 57bc831aa8d2
Create Date: 2026-12-05 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "3ceb1a7168fc"
down_revision = "57bc831aa8d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grade_conversion_table") as batch:
        batch.add_column(
            sa.Column(
                "authority_kind", sa.String(length=20), nullable=False, server_default="registry"
            )
        )
        batch.add_column(sa.Column("authority_ref", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("created_by", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column(
                "created_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.text("(CURRENT_TIMESTAMP)"),
            )
        )
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("withdrawn_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
        batch.create_index("ix_grade_conversion_table_scales", ["source_scale", "target_scale"])
        batch.create_index(
            "uq_grade_conversion_table_active",
            ["authority_kind", "authority_ref", "source_scale", "target_scale"],
            unique=True,
            sqlite_where=sa.text("withdrawn_at IS NULL"),
            postgresql_where=sa.text("withdrawn_at IS NULL"),
        )
    # The default only filled the rows that existed: the model sets the kind itself.
    with op.batch_alter_table("grade_conversion_table") as batch:
        batch.alter_column("authority_kind", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("grade_conversion_table") as batch:
        batch.drop_index("uq_grade_conversion_table_active")
        batch.drop_index("ix_grade_conversion_table_scales")
        batch.drop_column("withdrawn_reason")
        batch.drop_column("withdrawn_by")
        batch.drop_column("withdrawn_at")
        batch.drop_column("created_at")
        batch.drop_column("created_by")
        batch.drop_column("authority_ref")
        batch.drop_column("authority_kind")
