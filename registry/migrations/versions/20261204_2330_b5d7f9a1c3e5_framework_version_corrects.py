"""framework versions that correct another: `corrects` names the version set aside

A bundled framework file found wrong in a fact is loaded as a new version that names the one it
corrects; that one gets status `corrected` and never answers again (frameworks/services.py).

Revision ID: b5d7f9a1c3e5
Revises: a4c6e8b0d2f4
Create Date: 2026-12-04 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b5d7f9a1c3e5"
down_revision = "a4c6e8b0d2f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("framework_version") as batch:
        batch.add_column(sa.Column("corrects", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("framework_version") as batch:
        batch.drop_column("corrects")
