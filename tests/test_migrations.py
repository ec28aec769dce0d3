"""The Alembic head and the models agree, on every database the suite runs on."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from registry.migrations import target_metadata


def test_models_and_alembic_head_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, target_metadata()) == []


def test_upgrade_is_idempotent(database_url, engine):
    from registry.migrations import upgrade

    upgrade(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() is not None
