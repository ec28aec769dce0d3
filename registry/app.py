"""The application factory: a flat list of init steps."""

from __future__ import annotations

from flask import Flask

from registry import api, auth, errors, limits, parameters, sessions, web
from registry.config import load_config


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    parameters.init_app(app)  # before any route is added
    app.config.update(load_config(config))
    app.json.sort_keys = False  # keep the documented field order of the contract
    sessions.init_app(app)
    # The limiter counts a request before its credentials are checked, so that a bad token is
    # counted (and refused at its limit) like any other request.
    limits.init_app(app)
    auth.init_app(app)
    api.init_app(app)
    errors.init_app(app)
    web.init_app(app)
    if not (app.testing or app.config["IMPORTS_INLINE"] or app.config["REDIS_URL"]):
        start_import_worker(app)
    return app


def start_import_worker(app: Flask) -> None:
    """The embedded default: one worker thread in this process over huey's SQLite queue,
    stopped (its job handed back) when the process exits. With REDIS_URL set, `registry
    worker` processes run the jobs instead."""
    from importers.worker import ImportWorker

    worker = ImportWorker(
        app.config["DATABASE_URL"], busy_timeout=app.config["DATABASE_BUSY_TIMEOUT"]
    )
    worker.start()
    app.extensions["registry.import_worker"] = worker
