"""audit events chained and append-only in the database; web sessions that end at sign-out

Each audit event stores the SHA-256 of the one before it and its own; the events already
stored are chained here, in id order. Triggers (SQLite and PostgreSQL) refuse any UPDATE or
DELETE of an audit event, and on PostgreSQL a TRUNCATE too. `web_session` holds the web
logins, so that signing out ends one on the server.

Revision ID: f3c5e7a9b1d2
Revises: d1a3c5e7f9b0
Create Date: 2026-12-04 21:30:00
"""

import datetime as dt
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = 'f3c5e7a9b1d2'
down_revision = 'd1a3c5e7f9b0'
branch_labels = None
depends_on = None

MESSAGE = 'audit events are append-only'

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]

POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
    """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()""",
    """CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()""",
]


def _hash(row, prev_hash):
    # The same content and form as AuditEvent.content() at this revision.
    at = row.at
    if at is not None:
        at = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
        at = at.isoformat(timespec='microseconds')
    content = {
        'at': at,
        'actor': row.actor,
        'actor_role': row.actor_role,
        'account_id': row.account_id,
        'token_id': row.token_id,
        'action': row.action,
        'entity': row.entity,
        'outcome': row.outcome,
        'before': row.before,
        'after': row.after,
        'detail': row.detail,
        'request_id': row.request_id,
        'prev_hash': prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def upgrade() -> None:
    op.create_table('web_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_web_session_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_web_session_secret_hash'))
    )
    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_session_account_id'), ['account_id'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))

    # Chain the events stored so far, oldest first (before the triggers forbid the UPDATE).
    table = sa.table(
        'audit_event',
        sa.column('id', sa.Integer),
        sa.column('at', sa.DateTime(timezone=True)),
        sa.column('actor', sa.String),
        sa.column('actor_role', sa.String),
        sa.column('account_id', sa.Integer),
        sa.column('token_id', sa.Integer),
        sa.column('action', sa.String),
        sa.column('entity', sa.String),
        sa.column('outcome', sa.String),
        sa.column('before', sa.JSON),
        sa.column('after', sa.JSON),
        sa.column('detail', sa.Text),
        sa.column('request_id', sa.String),
        sa.column('prev_hash', sa.String),
        sa.column('hash', sa.String),
    )
    connection = op.get_bind()
    previous, last = None, 0
    while True:
        rows = connection.execute(
            sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(1000)
        ).all()
        if not rows:
            break
        for row in rows:
            digest = _hash(row, previous)
            connection.execute(
                table.update()
                .where(table.c.id == row.id)
                .values(prev_hash=previous, hash=digest)
            )
            previous, last = digest, row.id

    statements = SQLITE_TRIGGERS if connection.dialect.name == 'sqlite' else POSTGRESQL_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_event_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_event_no_delete')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event')
        op.execute('DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event')
        op.execute('DROP FUNCTION IF EXISTS audit_event_append_only()')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')

    with op.batch_alter_table('web_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_session_account_id'))
    op.drop_table('web_session')
