"""governance: a draft's pending name and description; rules withdrawn, priorities in bands

A draft no longer writes the framework row: the name or description it would give the framework
waits in `framework_version` until it is published. A recognition rule is withdrawn (kept, with
who and why), never deleted; stored priorities are brought into their authority's band
(registry 0-50, institution 51-99, ministry 100-999).

Revision ID: d1a3c5e7f9b0
Revises: e2b4d6f8a0c1
Create Date: 2026-12-04 21:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'd1a3c5e7f9b0'
down_revision = 'e2b4d6f8a0c1'
branch_labels = None
depends_on = None

BANDS = {'registry': (0, 50), 'institution': (51, 99), 'ministry': (100, 999)}


def upgrade() -> None:
    with op.batch_alter_table('framework_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
    with op.batch_alter_table('recognition_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.Text(), nullable=True))

    rules = sa.table(
        'recognition_rule',
        sa.column('id', sa.Integer),
        sa.column('authority_kind', sa.String),
        sa.column('priority', sa.Integer),
        sa.column('body', sa.JSON),
    )
    connection = op.get_bind()
    for row in connection.execute(
        sa.select(rules.c.id, rules.c.authority_kind, rules.c.priority, rules.c.body)
    ).all():
        low, high = BANDS.get(row.authority_kind, (0, 50))
        priority = min(max(row.priority, low), high)
        if priority != row.priority:
            connection.execute(
                rules.update()
                .where(rules.c.id == row.id)
                .values(priority=priority, body={**(row.body or {}), 'priority': priority})
            )


def downgrade() -> None:
    with op.batch_alter_table('recognition_rule', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_by')
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('framework_version', schema=None) as batch_op:
        batch_op.drop_column('description')
        batch_op.drop_column('name')
