"""REST API under /api/v1: flask-smorest blueprints, one module per resource."""

from __future__ import annotations

from typing import Any

import flask_smorest
from flask import Blueprint as FlaskBlueprint
from flask import Flask, request
from marshmallow import Schema, fields
from swagger_ui_bundle import swagger_ui_path
from webargs.flaskparser import FlaskParser

from registry import errors, parameters
from registry.core import inputs
from registry.core.errors import InvalidData


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


def body_doc(schema, required: bool = True) -> dict:
    """An OpenAPI requestBody for a JSON body a service validates."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def init_app(app: Flask) -> Api:
    from registry.api import (
        assessments,
        audit,
        conversions,
        equivalents,
        frameworks,
        imports,
        institutions,
        transfers,
    )

    app.register_blueprint(
        FlaskBlueprint(
            "swagger_ui",
            __name__,
            static_folder=swagger_ui_path,
            static_url_path="/api/docs/assets",
        )
    )
    api = Api(app, spec_kwargs={"servers": [{"url": "/"}]})
    api.register_converter(parameters.PathText, parameters.path_text_schema)
    # Numbers travel as decimal strings (the document's `minimum` of a string would be invalid).
    api.register_field(inputs.DecimalField, "string", "decimal")
    for module in (
        frameworks,
        equivalents,
        conversions,
        institutions,
        assessments,
        imports,
        transfers,
        audit,
    ):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    return api
