"""One database session per request (or CLI command); the boundary commits, services flush."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from registry.core.db import make_engine, make_session_factory


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["registry.engine"] = engine
    app.extensions["registry.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close)


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["registry.sessions"]()
    return g.db_session


def _close(_error: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
