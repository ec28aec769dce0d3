"""Test fixtures: a real database migrated to head by Alembic, the bundled reference data loaded
once, and every test in a savepoint that is rolled back.

Database tests run on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Keep the tests' queue, uploads and session key out of the user's instance/ directory.
os.environ.setdefault("REGISTRY_INSTANCE", tempfile.mkdtemp(prefix="registry-test-"))

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from frameworks.reference import load_reference
from registry.app import create_app
from registry.core.db import READ_ONLY, make_engine
from registry.core.permissions import OPERATOR
from registry.migrations import upgrade

SHARED = Path(__file__).resolve().parents[2] / "shared"


def _database_urls(tmp_root: Path) -> list[tuple[str, str]]:
    urls = [("sqlite", f"sqlite:///{tmp_root / 'test.sqlite3'}")]
    if os.environ.get("TEST_DATABASE_URL"):
        urls.append(("postgresql", os.environ["TEST_DATABASE_URL"]))
    return urls


def pytest_generate_tests(metafunc):
    if "database_url" in metafunc.fixturenames:
        ids = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
        metafunc.parametrize("database_url", ids, indirect=True, scope="session")


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> str:
    urls = dict(_database_urls(tmp_path_factory.mktemp("db")))
    url = urls[request.param]
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url):
    """A database migrated to head, with the bundled reference data committed."""
    upgrade(database_url)
    engine = make_engine(database_url)
    with Session(engine) as session:
        load_reference(session, OPERATOR)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session whose commits are savepoints inside one transaction rolled back afterwards.
    On SQLite that transaction begins deferred (as a reader, until its first write), so the
    other connections a test opens (the CLI's, a job's) are not kept waiting for the write lock
    by a test that only reads."""
    connection = engine.connect().execution_options(**{READ_ONLY: True})
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each process caches the level graph and the name index; a test's rolled-back writes
    must not leave entries behind for the next test (ids are reused after a rollback)."""
    from mappings import institutions, services

    services._graph_cache.clear()
    institutions._cache.clear()
    yield


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory) -> Path:
    """The registry's signing key, made once, as `make run` makes it."""
    from registry.statements import keys

    path = tmp_path_factory.mktemp("signing") / "registry-ed25519.pem"
    keys.create(path)
    return path


@pytest.fixture
def app(engine, session, tmp_path, signing_key_file):
    """The app, its requests served by the test's session; imports run inside the request."""
    app = create_app(
        {
            "DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
            "SIGNING_KEY": signing_key_file,
            "TESTING": True,
            "IMPORTS_INLINE": True,
            "IMPORTS_DIR": tmp_path / "uploads",
        }
    )
    app.extensions["registry.sessions"] = lambda: session
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared formats and data sit beside the project in CI")
    return SHARED
