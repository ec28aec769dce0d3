"""One database session per request (or CLI command); the boundary commits, services flush."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy.orm import Session, sessionmaker

from registry.core import changes
from registry.core.db import READ_ONLY, SQLITE_BUSY_TIMEOUT, make_engine, make_session_factory

# Requests that change nothing: on SQLite their transaction begins as a reader, beside the
# writer (WAL); every other request's begins as a writer (registry.core.db._sqlite_begin).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    engine = make_engine(
        app.config["DATABASE_URL"],
        busy_timeout=app.config.get("DATABASE_BUSY_TIMEOUT", SQLITE_BUSY_TIMEOUT),
    )
    app.extensions["registry.engine"] = engine
    app.extensions["registry.sessions"] = make_session_factory(engine)
    app.extensions["registry.read_engine"] = engine.execution_options(**{READ_ONLY: True})
    app.extensions["registry.token_engine"] = engine.execution_options(
        isolation_level="AUTOCOMMIT", **{READ_ONLY: True}
    )
    app.after_request(_finish)
    app.teardown_appcontext(_close)


def _finish(response: Response) -> Response:
    """The request is the unit of work: commit what a successful request wrote, drop the rest."""
    session = g.get("db_session")
    if session is not None:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    return response


def get_session() -> Session:
    if "db_session" not in g:
        factory = current_app.extensions["registry.sessions"]
        if isinstance(factory, sessionmaker) and _reading():
            g.db_session = factory(bind=current_app.extensions["registry.read_engine"])
        else:
            g.db_session = factory()
    return g.db_session


def release() -> None:
    """End the request's transaction now, committing what it wrote so far (signing in): on
    SQLite a writer's transaction holds the one write lock while it lasts, and the work that
    follows (verifying a file: up to seconds of CPU) needs no database. The next query begins a
    new transaction."""
    session = g.get("db_session")
    if session is not None:
        session.commit()


def current_tokens(names: tuple[str, ...]) -> tuple[str, ...]:
    """The change tokens `names` (one query), read outside any transaction: on PostgreSQL one
    round trip instead of three (BEGIN, SELECT, COMMIT), for a public read answered from memory
    (registry.api.caching). Whatever the request reads afterwards is at least as new. Within
    the request's session when it has one already, or when the factory is not a sessionmaker
    (the tests' session, holding their uncommitted writes)."""
    factory = current_app.extensions["registry.sessions"]
    if "db_session" in g or not isinstance(factory, sessionmaker):
        return changes.current_many(get_session(), names)
    with current_app.extensions["registry.token_engine"].connect() as connection:
        return changes.current_many(connection, names)


def _reading() -> bool:
    return has_request_context() and request.method in READ_METHODS


def _close(_error: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
