"""The application factory: a flat list of init steps."""

from __future__ import annotations

from flask import Flask

from registry import api, auth, errors, limits, sessions, web
from registry.config import load_config


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(load_config(config))
    app.json.sort_keys = False  # keep the documented field order of the contract
    sessions.init_app(app)
    auth.init_app(app)
    limits.init_app(app)
    api.init_app(app)
    errors.init_app(app)
    web.init_app(app)
    return app
