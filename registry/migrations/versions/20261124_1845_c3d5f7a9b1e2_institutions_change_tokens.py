"""institutions and change tokens

Revision ID: c3d5f7a9b1e2
Revises: b2c4e6f8a0d1
Create Date: 2026-11-24 18:36:48.002304
"""

import sqlalchemy as sa
from alembic import op

revision = 'c3d5f7a9b1e2'
down_revision = 'b2c4e6f8a0d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('change_token',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_change_token'))
    )
    op.create_table('institution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=False),
    sa.Column('name_key', sa.String(length=400), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('city', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_source', sa.Text(), nullable=True),
    sa.Column('status_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution'))
    )
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_institution_name_key'), ['name_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_institution_updated_at'), ['updated_at'], unique=False)

    op.create_table('institution_identifier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('scheme', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_institution_identifier_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_identifier')),
    sa.UniqueConstraint('scheme', 'value', name=op.f('uq_institution_identifier_scheme_value'))
    )
    with op.batch_alter_table('institution_identifier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_identifier_institution_id'), ['institution_id'], unique=False)

    op.create_table('institution_name',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=400), nullable=False),
    sa.Column('key', sa.String(length=400), nullable=False),
    sa.Column('lang', sa.String(length=12), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institution.id'], name=op.f('fk_institution_name_institution_id_institution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_name')),
    sa.UniqueConstraint('institution_id', 'kind', 'value', name=op.f('uq_institution_name_institution_id_kind_value'))
    )
    with op.batch_alter_table('institution_name', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_name_institution_id'), ['institution_id'], unique=False)

    op.drop_table('graph_generation')


def downgrade() -> None:
    op.create_table('graph_generation',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('token', sa.VARCHAR(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_graph_generation'))
    )
    with op.batch_alter_table('institution_name', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_name_institution_id'))

    op.drop_table('institution_name')
    with op.batch_alter_table('institution_identifier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_identifier_institution_id'))

    op.drop_table('institution_identifier')
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_updated_at'))
        batch_op.drop_index(batch_op.f('ix_institution_name_key'))
        batch_op.drop_index(batch_op.f('ix_institution_country'))

    op.drop_table('institution')
    op.drop_table('change_token')
