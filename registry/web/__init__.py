"""Server-rendered pages for the registry's users, on the same services as the API.

Each module holds one user group's pages and registers them on the one blueprint of `base`,
with the task it offers in the navigation.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

# isort: off
# Imported for their views, which register on the blueprint; this order is the navigation's:
# a role's own tasks first, then what everyone may read.
from registry.web import home, desk, desk_decisions, imports, transfers, batch  # noqa: F401
from registry.web import pathways_own, pathway_evaluations  # noqa: F401
from registry.web import ministry, reviews, compare, frameworks, catalogue  # noqa: F401
from registry.web import calculators, pathways, checks  # noqa: F401

# isort: on
from registry.web import base
from registry.web.base import blp, select_locale

TRANSLATIONS = str(Path(__file__).with_name("translations"))


def init_app(app: Flask) -> None:
    # Flask's session cookie is HttpOnly by default but has no SameSite attribute; Lax keeps
    # the login cookie off cross-site posts. (A setdefault would do nothing: Flask's defaults
    # already hold the key, with None.)
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(blp)
    # After registry.errors' handlers, which these replace for addresses outside the API.
    app.register_error_handler(HTTPException, base.http_error_anywhere)
    if not app.testing:  # tests want the real exception, as registry.errors does
        app.register_error_handler(Exception, base.unexpected_error_anywhere)
    csrf = CSRFProtect()
    csrf.init_app(app)
    # The API is for clients with bearer tokens, which a browser never attaches on its own, so
    # its blueprints are exempt; create_app registers them before this step. Blueprints added
    # later are protected unless exempted: the safe default.
    for blueprint in app.blueprints.values():
        if blueprint.name != blp.name:
            csrf.exempt(blueprint)
