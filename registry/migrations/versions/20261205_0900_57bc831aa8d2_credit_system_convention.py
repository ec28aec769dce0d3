"""credit systems: why an annual-load equivalence is only the registry's convention

ECVET points weigh the learning outcomes of a VET qualification and measure no workload: equating
a year of them with a year of ECTS is this registry's convention, not a published equivalence,
and the conversion's basis says so (issue 18, item 6). `registry load-reference` fills the text.

Revision ID: 57bc831aa8d2
Revises: b5d7f9a1c3e5
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "57bc831aa8d2"
down_revision = "b5d7f9a1c3e5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credit_system") as batch:
        batch.add_column(sa.Column("annual_load_convention", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credit_system") as batch:
        batch.drop_column("annual_load_convention")
