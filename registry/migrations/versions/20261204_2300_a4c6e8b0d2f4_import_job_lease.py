"""import jobs held by one run at a time: the lease owner and its expiry

A worker claims a queued job with a conditional UPDATE and renews its lease while it runs;
a job whose lease expired is taken over by another worker (importers/jobs.py).

Revision ID: a4c6e8b0d2f4
Revises: f3c5e7a9b1d2
Create Date: 2026-12-04 23:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a4c6e8b0d2f4"
down_revision = "f3c5e7a9b1d2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_job") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_job") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
