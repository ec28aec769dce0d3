"""catalogue rules assessments

Revision ID: d4e6a8c0b2f3
Revises: c3d5f7a9b1e2
Create Date: 2026-11-24 18:52:28.354508
"""

import sqlalchemy as sa
from alembic import op

revision = 'd4e6a8c0b2f3'
down_revision = 'c3d5f7a9b1e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('target', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=True),
    sa.Column('inputs_digest', sa.String(length=64), nullable=False),
    sa.Column('source_framework', sa.String(length=40), nullable=True),
    sa.Column('target_framework', sa.String(length=40), nullable=False),
    sa.Column('decision', sa.String(length=30), nullable=False),
    sa.Column('confidence', sa.String(length=40), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('framework_versions', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment'))
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_inputs_digest'), ['inputs_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_source_framework'), ['source_framework'], unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_target_framework'), ['target_framework'], unique=False)

    op.create_table('recognition_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.String(length=100), nullable=False),
    sa.Column('authority_kind', sa.String(length=20), nullable=False),
    sa.Column('authority_ref', sa.String(length=40), nullable=True),
    sa.Column('jurisdiction', sa.String(length=40), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_rule')),
    sa.UniqueConstraint('rule_id', name=op.f('uq_recognition_rule_rule_id'))
    )
    with op.batch_alter_table('recognition_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recognition_rule_jurisdiction'), ['jurisdiction'], unique=False)

    op.create_table('course',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('title_key', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('credits', sa.String(length=40), nullable=True),
    sa.Column('credit_system', sa.String(length=20), nullable=True),
    sa.Column('level', sa.String(length=60), nullable=True),
    sa.Column('isced_f', sa.String(length=4), nullable=True),
    sa.Column('learning_outcomes', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_course_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course')),
    sa.UniqueConstraint('institution_id', 'code', name=op.f('uq_course_institution_id_code'))
    )
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_title_key'), ['title_key'], unique=False)

    op.create_table('qualification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('code', sa.String(length=100), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('title_key', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('other_titles', sa.JSON(), nullable=False),
    sa.Column('level', sa.String(length=60), nullable=True),
    sa.Column('credits', sa.String(length=40), nullable=True),
    sa.Column('credit_system', sa.String(length=20), nullable=True),
    sa.Column('isced_f', sa.String(length=4), nullable=True),
    sa.Column('qualification_type', sa.String(length=20), nullable=True),
    sa.Column('learning_outcomes', sa.JSON(), nullable=False),
    sa.Column('identifiers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_qualification_institution_id_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualification')),
    sa.UniqueConstraint('institution_id', 'country', 'code', name=op.f('uq_qualification_institution_id_country_code'))
    )
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qualification_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_qualification_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qualification_title_key'), ['title_key'], unique=False)
        batch_op.create_index('uq_qualification_national_code', ['country', 'code'], unique=True, sqlite_where=sa.text('institution_id IS NULL'), postgresql_where=sa.text('institution_id IS NULL'))



def downgrade() -> None:
    with op.batch_alter_table('qualification', schema=None) as batch_op:
        batch_op.drop_index('uq_qualification_national_code', sqlite_where=sa.text('institution_id IS NULL'), postgresql_where=sa.text('institution_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_qualification_title_key'))
        batch_op.drop_index(batch_op.f('ix_qualification_institution_id'))
        batch_op.drop_index(batch_op.f('ix_qualification_country'))

    op.drop_table('qualification')
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_title_key'))

    op.drop_table('course')
    with op.batch_alter_table('recognition_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recognition_rule_jurisdiction'))

    op.drop_table('recognition_rule')
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_target_framework'))
        batch_op.drop_index(batch_op.f('ix_assessment_source_framework'))
        batch_op.drop_index(batch_op.f('ix_assessment_inputs_digest'))

    op.drop_table('assessment')
