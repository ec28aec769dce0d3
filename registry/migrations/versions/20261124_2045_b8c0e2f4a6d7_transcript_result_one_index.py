"""transcript_result: drop the index on transcript_id (the unique index leads with it)

Revision ID: b8c0e2f4a6d7
Revises: a7b9d1f3e5c6
Create Date: 2026-11-24 20:45:00
"""

from alembic import op


revision = 'b8c0e2f4a6d7'
down_revision = 'a7b9d1f3e5c6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transcript_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_result_transcript_id'))


def downgrade() -> None:
    with op.batch_alter_table('transcript_result', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_transcript_result_transcript_id'), ['transcript_id'], unique=False
        )
