"""level links say where their result was read and whether they map a superseded level

`secondary_source`: the secondary source a link's result was read in when its cited report
could not be (AU-AQF -> EQF); answers travelling the link say so. `succession`: a
correspondence from a level of a superseded framework to the level(s) replacing it
(décret n° 2019-14: FR-CNCP-1969 -> FR-CNCP), followed only from a level no longer in force.

Revision ID: b5d7f9a1c3e6
Revises: 3ceb1a7168fc
Create Date: 2026-12-10 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b5d7f9a1c3e6"
down_revision = "3ceb1a7168fc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("level_link") as batch:
        batch.add_column(sa.Column("secondary_source", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("succession", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("level_link") as batch:
        batch.drop_column("succession")
        batch.drop_column("secondary_source")
