"""REST API under /api/v1: flask-smorest blueprints, one module per resource."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app, request
from marshmallow import Schema, fields
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser

from registry import errors, parameters
from registry.auth import current_actor
from registry.core import inputs
from registry.core.errors import InvalidData, PermissionDenied, Unauthenticated
from registry.core.permissions import ACTIONS

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ProblemSchema(Schema):
    """application/problem+json (RFC 9457)."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "Messages per invalid field."})


class Parser(FlaskParser):
    # A query the client got wrong is a 400, as every other bad input here.
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


def json_body(optional: bool = False) -> Any:
    """The request's JSON, unvalidated: the service validates it with its own schema, exactly
    as it does for the CLI and the importers."""
    if optional and not request.get_data(cache=True):
        return None
    # Parsed and checked here once for every endpoint: not too deep, text a database can store.
    data = inputs.load_json(request.get_data(cache=True)) if request.is_json else None
    if data is None:
        raise InvalidData("The request body must be JSON.", errors={"body": ["Not JSON."]})
    return data


def writes(*actions: str, audit: str | None = None, private: bool = False):
    """Declare the actions a write endpoint takes (any of them, by what the body says): the
    caller is authenticated and its role checked against them before the query or the body is
    read, so that an anonymous or wrong-role write is refused (401, 403) before it is validated
    (400). The service still authorises on the record really written.

    `audit` names the write as its audit events do, when that is not the first action.
    `private`: the endpoint writes on a private record, which answers 404 to anyone but its
    owner (anonymous callers included): the view asks the service who may write on it before it
    reads the body, and no 401 or 403 at the door tells others the id is one they may not
    touch."""
    unknown = set(actions) - set(ACTIONS)
    assert actions and not unknown, unknown

    def mark(view):
        view.write_actions = actions
        view.write_audit = audit or actions[0]
        view.write_private = private
        return view

    return mark


def write_handler(endpoint: str | None, method: str) -> Any:
    """The view method of this endpoint and method (it carries the `writes` declaration)."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(getattr(view, "view_class", None), method.lower(), None)


def write_actions(endpoint: str | None, method: str) -> tuple[str, ...] | None:
    """The actions declared with `writes` for this endpoint and method, or None."""
    return getattr(write_handler(endpoint, method), "write_actions", None)


def authorise_write() -> None:
    """Before any API write is parsed: who is asking, and may their role write here at all."""
    if request.method not in WRITE_METHODS or not request.path.startswith("/api/"):
        return
    if request.endpoint is None:  # no such route: the 404/405 answers
        return
    actor = current_actor()
    handler = write_handler(request.endpoint, request.method)
    if getattr(handler, "write_private", False):
        return  # the service answers 404 to anyone but the owner, anonymous included
    # An undeclared write (a test lists them all) is refused to anonymous callers all the same.
    actions = getattr(handler, "write_actions", None) or ("api.write",)
    operation = getattr(handler, "write_audit", None) or actions[0]
    details = {"action": operation, "target": f"api:{request.path}"}
    if actor.anonymous:
        raise Unauthenticated(f"{operation} needs a token or a login.", **details)
    roles = set().union(*(ACTIONS.get(action, ()) for action in actions))
    if actor.role not in roles:
        raise PermissionDenied(f"The {actor.role} role may not {operation}.", **details)


def body_doc(schema, required: bool = True) -> dict:
    """An OpenAPI requestBody for a JSON body a service validates."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def init_app(app: Flask) -> Api:
    from registry.api import (
        assessments,
        audit,
        caching,
        conversions,
        equivalents,
        frameworks,
        grade_tables,
        imports,
        institutions,
        match_reviews,
        pathway_evaluations,
        pathways,
        statements,
        transfers,
        verifications,
    )

    app.register_blueprint(
        FlaskBlueprint(
            "swagger_ui",
            __name__,
            static_folder=swagger_ui_path,
            static_url_path="/api/docs/assets",
        )
    )
    # Authenticate and authorise before the body or the query is read (never 400 before 401).
    app.before_request(authorise_write)
    api = Api(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.register_converter(parameters.PathText, parameters.path_text_schema)
    # Numbers travel as decimal strings (the document's `minimum` of a string would be invalid).
    api.register_field(inputs.DecimalField, "string", "decimal")
    modules = (
        frameworks,
        equivalents,
        conversions,
        grade_tables,
        institutions,
        assessments,
        verifications,
        imports,
        transfers,
        pathway_evaluations,
        pathways,
        match_reviews,
        statements,
        audit,
    )
    for module in modules:
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    caching.init_app(app, {module.blp.name for module in modules})
    return api
