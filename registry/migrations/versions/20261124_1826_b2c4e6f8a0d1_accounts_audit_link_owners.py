"""accounts tokens audit link owners

Revision ID: b2c4e6f8a0d1
Revises: a1f0c2d3e4b5
Create Date: 2026-11-24 18:26:27.811210
"""

import sqlalchemy as sa
from alembic import op

revision = 'b2c4e6f8a0d1'
down_revision = 'a1f0c2d3e4b5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('name', name=op.f('uq_account_name'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity', sa.String(length=200), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_entity'), ['entity'], unique=False)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_api_token_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_account_id'), ['account_id'], unique=False)

    # Links loaded before this revision were all filed with the framework of their source level.
    with op.batch_alter_table('level_link', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_version_id', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE level_link SET owner_version_id = "
        "(SELECT version_id FROM level WHERE level.id = level_link.source_id)"
    )
    with op.batch_alter_table('level_link', schema=None) as batch_op:
        batch_op.alter_column('owner_version_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_level_link_owner_version_id'), ['owner_version_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_level_link_owner_version_id_framework_version'), 'framework_version', ['owner_version_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('level_link', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_level_link_owner_version_id_framework_version'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_level_link_owner_version_id'))
        batch_op.drop_column('owner_version_id')

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_account_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_entity'))

    op.drop_table('audit_event')
    op.drop_table('account')
