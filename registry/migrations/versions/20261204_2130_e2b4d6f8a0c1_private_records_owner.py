"""private records: an assessment has an owner

`assessment.owner` is whose the assessment is ({"role", "scopes", "account_id"}, as the actor
that made it): only they and admins may read it. Existing assessments get the owner of the
account that made them, found by the account name stored in `assessment.actor` (names are
unique); those made by no known account (the command line's operator, a deleted account) are
left without an owner, which means admins only.

Transcripts need no change of schema: their owner is the institution that received them
(`received_by_institution_id`; an institution's account always imports as the receiver). A
transcript without one, stored before or imported by an admin naming none, is the registry's
own: admins alone use it, as before only its receiver could.

Revision ID: e2b4d6f8a0c1
Revises: c1e3a5b7d9f2
Create Date: 2026-12-04 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'e2b4d6f8a0c1'
down_revision = 'c1e3a5b7d9f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.JSON(), nullable=True))

    bind = op.get_bind()
    account = sa.table(
        'account',
        sa.column('id', sa.Integer),
        sa.column('name', sa.String),
        sa.column('role', sa.String),
        sa.column('scopes', sa.JSON),
    )
    assessment = sa.table(
        'assessment', sa.column('actor', sa.String), sa.column('owner', sa.JSON)
    )
    makers = set(bind.execute(sa.select(assessment.c.actor).distinct()).scalars())
    for row in bind.execute(sa.select(account)).all():
        if row.name not in makers:
            continue
        owner = {'role': row.role, 'scopes': sorted(row.scopes or []), 'account_id': row.id}
        bind.execute(
            assessment.update().where(assessment.c.actor == row.name).values(owner=owner)
        )


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_column('owner')
