"""transcripts

Revision ID: e5f7b9d1c3a4
Revises: d4e6a8c0b2f3
Create Date: 2026-11-24 19:05:49.159890
"""

import sqlalchemy as sa
from alembic import op

revision = 'e5f7b9d1c3a4'
down_revision = 'd4e6a8c0b2f3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('transcript',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_format', sa.String(length=30), nullable=False),
    sa.Column('source_key', sa.String(length=64), nullable=False),
    sa.Column('received_by_institution_id', sa.Integer(), nullable=True),
    sa.Column('issuer_institution_id', sa.Integer(), nullable=True),
    sa.Column('issuer_name', sa.String(length=500), nullable=True),
    sa.Column('issuer_country', sa.String(length=2), nullable=True),
    sa.Column('issuer_identifiers', sa.JSON(), nullable=False),
    sa.Column('learner_key', sa.String(length=64), nullable=True),
    sa.Column('learner_name', sa.String(length=300), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('import_source', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['issuer_institution_id'], ['institution.id'], name=op.f('fk_transcript_issuer_institution_id_institution')),
    sa.ForeignKeyConstraint(['received_by_institution_id'], ['institution.id'], name=op.f('fk_transcript_received_by_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript')),
    sa.UniqueConstraint('source_key', name=op.f('uq_transcript_source_key'))
    )
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_issuer_institution_id'), ['issuer_institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transcript_learner_key'), ['learner_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_transcript_received_by_institution_id'), ['received_by_institution_id'], unique=False)

    op.create_table('transcript_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=False),
    sa.Column('local_id', sa.String(length=200), nullable=False),
    sa.Column('parent_local_id', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=60), nullable=True),
    sa.Column('code', sa.String(length=100), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('credits', sa.String(length=40), nullable=True),
    sa.Column('credit_system', sa.String(length=20), nullable=True),
    sa.Column('grade', sa.String(length=60), nullable=True),
    sa.Column('grading_scheme', sa.String(length=200), nullable=True),
    sa.Column('grade_distribution', sa.JSON(), nullable=True),
    sa.Column('eqf_level', sa.Integer(), nullable=True),
    sa.Column('level', sa.String(length=60), nullable=True),
    sa.Column('isced_f', sa.String(length=4), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'], name=op.f('fk_transcript_result_transcript_id_transcript'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_result')),
    sa.UniqueConstraint('transcript_id', 'local_id', name=op.f('uq_transcript_result_transcript_id_local_id'))
    )
    with op.batch_alter_table('transcript_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_result_transcript_id'), ['transcript_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('transcript_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_result_transcript_id'))

    op.drop_table('transcript_result')
    with op.batch_alter_table('transcript', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_received_by_institution_id'))
        batch_op.drop_index(batch_op.f('ix_transcript_learner_key'))
        batch_op.drop_index(batch_op.f('ix_transcript_issuer_institution_id'))

    op.drop_table('transcript')
