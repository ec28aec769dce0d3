"""import jobs

Revision ID: f6a8c0e2d4b5
Revises: e5f7b9d1c3a4
Create Date: 2026-11-24 19:07:48.961296
"""

import sqlalchemy as sa
from alembic import op

revision = 'f6a8c0e2d4b5'
down_revision = 'e5f7b9d1c3a4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('actor', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('read', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job'))
    )
    op.create_table('import_job_error',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['import_job.id'], name=op.f('fk_import_job_error_job_id_import_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job_error'))
    )
    with op.batch_alter_table('import_job_error', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_job_error_job_id'), ['job_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('import_job_error', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_job_error_job_id'))

    op.drop_table('import_job_error')
    op.drop_table('import_job')
