"""Alembic migrations; `registry db upgrade` applies them."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

HERE = Path(__file__).resolve().parent


def target_metadata():
    """The metadata of every model module: what the migrations must agree with."""
    import frameworks.models  # noqa: F401
    import importers.jobs  # noqa: F401
    import mappings.models  # noqa: F401
    import registry.catalogue.articulations.models  # noqa: F401
    import registry.catalogue.models  # noqa: F401
    import registry.catalogue.pathways.models  # noqa: F401
    import registry.core.accounts  # noqa: F401
    import registry.core.audit  # noqa: F401
    import registry.core.changes  # noqa: F401
    import registry.institutions.models  # noqa: F401
    import registry.match_reviews.models  # noqa: F401
    import registry.verifications.models  # noqa: F401
    from registry.core.db import Base

    return Base.metadata


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option(
        "file_template",
        "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s",
    )
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
