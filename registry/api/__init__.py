"""REST API under /api/v1: flask-smorest blueprints, one module per resource."""

from __future__ import annotations

import flask_smorest
from flask import Blueprint as FlaskBlueprint
from flask import Flask
from swagger_ui_bundle import swagger_ui_path
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser

from registry import errors


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


def init_app(app: Flask) -> Api:
    from registry.api import conversions, equivalents, frameworks

    app.register_blueprint(
        FlaskBlueprint("swagger_ui", __name__, static_folder=swagger_ui_path,
                       static_url_path="/api/docs/assets")
    )
    api = Api(app, spec_kwargs={"servers": [{"url": "/"}]})
    for module in (frameworks, equivalents, conversions):
        api.register_blueprint(module.blp, url_prefix="/api/v1")
    return api
