"""One database session per request (or CLI command); the boundary commits, services flush."""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from sqlalchemy.orm import Session

from registry.core.db import make_engine, make_session_factory


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["registry.engine"] = engine
    app.extensions["registry.sessions"] = make_session_factory(engine)
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
        g.db_session = current_app.extensions["registry.sessions"]()
    return g.db_session


def _close(_error: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
