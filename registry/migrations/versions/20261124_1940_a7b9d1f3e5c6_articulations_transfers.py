"""articulations and transfer evaluations

Revision ID: a7b9d1f3e5c6
Revises: f6a8c0e2d4b5
Create Date: 2026-11-24 19:38:12.109939
"""

from alembic import op
import sqlalchemy as sa


revision = 'a7b9d1f3e5c6'
down_revision = 'f6a8c0e2d4b5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('articulation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=100), nullable=False),
    sa.Column('source_institution_id', sa.Integer(), nullable=False),
    sa.Column('target_institution_id', sa.Integer(), nullable=False),
    sa.Column('credits_granted', sa.String(length=40), nullable=False),
    sa.Column('credit_system', sa.String(length=20), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['source_institution_id'], ['institution.id'], name=op.f('fk_articulation_source_institution_id_institution')),
    sa.ForeignKeyConstraint(['target_institution_id'], ['institution.id'], name=op.f('fk_articulation_target_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articulation')),
    sa.UniqueConstraint('target_institution_id', 'rule_id', name=op.f('uq_articulation_target_institution_id_rule_id'))
    )
    with op.batch_alter_table('articulation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articulation_source_institution_id'), ['source_institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articulation_target_institution_id'), ['target_institution_id'], unique=False)

    op.create_table('articulation_course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('articulation_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=6), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['articulation_id'], ['articulation.id'], name=op.f('fk_articulation_course_articulation_id_articulation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_articulation_course_course_id_course')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_articulation_course')),
    sa.UniqueConstraint('articulation_id', 'side', 'course_id', name=op.f('uq_articulation_course_articulation_id_side_course_id'))
    )
    with op.batch_alter_table('articulation_course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_articulation_course_articulation_id'), ['articulation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_articulation_course_course_id'), ['course_id'], unique=False)

    op.create_table('transfer_evaluation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('receiving_institution_id', sa.Integer(), nullable=False),
    sa.Column('transcript_id', sa.Integer(), nullable=True),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('inputs_digest', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['receiving_institution_id'], ['institution.id'], name=op.f('fk_transfer_evaluation_receiving_institution_id_institution')),
    sa.ForeignKeyConstraint(['transcript_id'], ['transcript.id'], name=op.f('fk_transfer_evaluation_transcript_id_transcript'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer_evaluation'))
    )
    with op.batch_alter_table('transfer_evaluation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transfer_evaluation_inputs_digest'), ['inputs_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_evaluation_receiving_institution_id'), ['receiving_institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transfer_evaluation_transcript_id'), ['transcript_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('transfer_evaluation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transfer_evaluation_transcript_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_evaluation_receiving_institution_id'))
        batch_op.drop_index(batch_op.f('ix_transfer_evaluation_inputs_digest'))

    op.drop_table('transfer_evaluation')
    with op.batch_alter_table('articulation_course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articulation_course_course_id'))
        batch_op.drop_index(batch_op.f('ix_articulation_course_articulation_id'))

    op.drop_table('articulation_course')
    with op.batch_alter_table('articulation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_articulation_target_institution_id'))
        batch_op.drop_index(batch_op.f('ix_articulation_source_institution_id'))

    op.drop_table('articulation')
