"""institution identifiers: as given, identity only for identifying schemes; ROR relationships

A web domain or a funder id may now be held by several institutions (laboratories of one
university share its domain); a value of an identifying scheme (ROR, GRID, ISNI, Wikidata,
Erasmus, PIC, SCHAC, national id) still belongs to one institution only, through `identity`.
`given` keeps an identifier as its source wrote it; Erasmus codes are re-keyed to the official
fixed-width form ("D BERLIN02" -> "D  BERLIN02").

Revision ID: c1e3a5b7d9f2
Revises: b8c0e2f4a6d7
Create Date: 2026-12-04 20:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c1e3a5b7d9f2'
down_revision = 'b8c0e2f4a6d7'
branch_labels = None
depends_on = None

IDENTIFYING = ('ror', 'grid', 'isni', 'wikidata', 'erasmus', 'pic', 'schac', 'national')


def _erasmus(value: str) -> str:
    text = ' '.join(value.upper().split())
    if ' ' in text:
        prefix, rest = text.split(' ', 1)
        rest = rest.replace(' ', '')
    else:
        prefix, rest = text[:3], text[3:]
    return prefix.ljust(3) + rest if len(prefix) <= 3 else text


def upgrade() -> None:
    with op.batch_alter_table('institution_identifier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('given', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('identity', sa.String(length=200), nullable=True))

    table = sa.table(
        'institution_identifier',
        sa.column('id', sa.Integer),
        sa.column('scheme', sa.String),
        sa.column('value', sa.String),
        sa.column('given', sa.String),
        sa.column('identity', sa.String),
    )
    connection = op.get_bind()
    for row in connection.execute(
        sa.select(table.c.id, table.c.value).where(table.c.scheme == 'erasmus')
    ).all():
        connection.execute(
            table.update().where(table.c.id == row.id).values(value=_erasmus(row.value))
        )
    connection.execute(table.update().values(given=table.c.value))
    connection.execute(
        table.update().where(table.c.scheme.in_(IDENTIFYING)).values(identity=table.c.value)
    )

    with op.batch_alter_table('institution_identifier', schema=None) as batch_op:
        batch_op.drop_constraint('uq_institution_identifier_scheme_value', type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_institution_identifier_scheme_identity'), ['scheme', 'identity']
        )
        batch_op.create_unique_constraint(
            batch_op.f('uq_institution_identifier_institution_id_scheme_value'),
            ['institution_id', 'scheme', 'value'],
        )
        batch_op.create_index(
            'ix_institution_identifier_scheme_value', ['scheme', 'value'], unique=False
        )

    op.create_table(
        'institution_relationship',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('institution_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=12), nullable=False),
        sa.Column('related_ror', sa.String(length=20), nullable=False),
        sa.Column('label', sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(
            ['institution_id'],
            ['institution.id'],
            name=op.f('fk_institution_relationship_institution_id_institution'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_relationship')),
        sa.UniqueConstraint(
            'institution_id',
            'type',
            'related_ror',
            name=op.f('uq_institution_relationship_institution_id_type_related_ror'),
        ),
    )
    with op.batch_alter_table('institution_relationship', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_institution_relationship_institution_id'),
            ['institution_id'],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f('ix_institution_relationship_related_ror'), ['related_ror'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('institution_relationship', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_relationship_related_ror'))
        batch_op.drop_index(batch_op.f('ix_institution_relationship_institution_id'))
    op.drop_table('institution_relationship')
    # A domain or funder id held by several institutions cannot go back under the old
    # one-holder constraint: the later holders lose it.
    table = sa.table(
        'institution_identifier',
        sa.column('id', sa.Integer),
        sa.column('scheme', sa.String),
        sa.column('value', sa.String),
    )
    connection = op.get_bind()
    first = (
        sa.select(sa.func.min(table.c.id)).group_by(table.c.scheme, table.c.value).scalar_subquery()
    )
    connection.execute(table.delete().where(table.c.id.not_in(first)))
    with op.batch_alter_table('institution_identifier', schema=None) as batch_op:
        batch_op.drop_index('ix_institution_identifier_scheme_value')
        batch_op.drop_constraint(
            batch_op.f('uq_institution_identifier_institution_id_scheme_value'), type_='unique'
        )
        batch_op.drop_constraint(
            batch_op.f('uq_institution_identifier_scheme_identity'), type_='unique'
        )
        batch_op.create_unique_constraint(
            'uq_institution_identifier_scheme_value', ['scheme', 'value']
        )
        batch_op.drop_column('identity')
        batch_op.drop_column('given')
