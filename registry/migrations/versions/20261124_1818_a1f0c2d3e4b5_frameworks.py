"""frameworks levels links credit systems grading scales

Revision ID: a1f0c2d3e4b5
Revises: 
Create Date: 2026-11-24 18:18:27.845401
"""

import sqlalchemy as sa
from alembic import op

revision = 'a1f0c2d3e4b5'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_system',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('hours_low', sa.String(length=40), nullable=True),
    sa.Column('hours_high', sa.String(length=40), nullable=True),
    sa.Column('per_year', sa.String(length=40), nullable=True),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_system')),
    sa.UniqueConstraint('code', name=op.f('uq_credit_system_code'))
    )
    op.create_table('framework',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('is_meta', sa.Boolean(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_framework')),
    sa.UniqueConstraint('code', name=op.f('uq_framework_code'))
    )
    op.create_table('grading_scale',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('best', sa.String(length=40), nullable=True),
    sa.Column('worst', sa.String(length=40), nullable=True),
    sa.Column('pass_mark', sa.String(length=40), nullable=True),
    sa.Column('decimals', sa.Integer(), nullable=False),
    sa.Column('rounding', sa.String(length=10), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
    sa.Column('special_values', sa.JSON(), nullable=False),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grading_scale')),
    sa.UniqueConstraint('code', name=op.f('uq_grading_scale_code'))
    )
    op.create_table('graph_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_graph_generation'))
    )
    op.create_table('credit_conversion_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('source_system', sa.String(length=20), nullable=False),
    sa.Column('target_system', sa.String(length=20), nullable=False),
    sa.Column('factor', sa.String(length=40), nullable=False),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['source_system'], ['credit_system.code'], name=op.f('fk_credit_conversion_rule_source_system_credit_system')),
    sa.ForeignKeyConstraint(['target_system'], ['credit_system.code'], name=op.f('fk_credit_conversion_rule_target_system_credit_system')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_conversion_rule')),
    sa.UniqueConstraint('code', name=op.f('uq_credit_conversion_rule_code'))
    )
    op.create_table('framework_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.Column('definition_digest', sa.String(length=64), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['framework_id'], ['framework.id'], name=op.f('fk_framework_version_framework_id_framework'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_framework_version')),
    sa.UniqueConstraint('framework_id', 'version', name=op.f('uq_framework_version_framework_id_version'))
    )
    op.create_table('grade_conversion_table',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('source_scale', sa.String(length=20), nullable=False),
    sa.Column('target_scale', sa.String(length=20), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['source_scale'], ['grading_scale.code'], name=op.f('fk_grade_conversion_table_source_scale_grading_scale')),
    sa.ForeignKeyConstraint(['target_scale'], ['grading_scale.code'], name=op.f('fk_grade_conversion_table_target_scale_grading_scale')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_conversion_table')),
    sa.UniqueConstraint('code', name=op.f('uq_grade_conversion_table_code'))
    )
    op.create_table('grade_distribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scale_code', sa.String(length=20), nullable=False),
    sa.Column('reference_group', sa.String(length=120), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['scale_code'], ['grading_scale.code'], name=op.f('fk_grade_distribution_scale_code_grading_scale')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_distribution')),
    sa.UniqueConstraint('scale_code', 'reference_group', name=op.f('uq_grade_distribution_scale_code_reference_group'))
    )
    op.create_table('level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('knowledge', sa.Text(), nullable=True),
    sa.Column('skills', sa.Text(), nullable=True),
    sa.Column('responsibility_autonomy', sa.Text(), nullable=True),
    sa.Column('qualification_types', sa.JSON(), nullable=False),
    sa.Column('ehea_cycle', sa.String(length=20), nullable=True),
    sa.Column('no_eqf_reason', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['framework_version.id'], name=op.f('fk_level_version_id_framework_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_level')),
    sa.UniqueConstraint('version_id', 'code', name=op.f('uq_level_version_id_code'))
    )
    op.create_table('level_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('citation', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['level.id'], name=op.f('fk_level_link_source_id_level'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['level.id'], name=op.f('fk_level_link_target_id_level'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_level_link')),
    sa.UniqueConstraint('source_id', 'target_id', 'basis', name=op.f('uq_level_link_source_id_target_id_basis'))
    )
    with op.batch_alter_table('level_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_level_link_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_level_link_target_id'), ['target_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('level_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_level_link_target_id'))
        batch_op.drop_index(batch_op.f('ix_level_link_source_id'))

    op.drop_table('level_link')
    op.drop_table('level')
    op.drop_table('grade_distribution')
    op.drop_table('grade_conversion_table')
    op.drop_table('framework_version')
    op.drop_table('credit_conversion_rule')
    op.drop_table('graph_generation')
    op.drop_table('grading_scale')
    op.drop_table('framework')
    op.drop_table('credit_system')
