"""Signed statements: assessments, transfer evaluations and pathway evaluations as W3C
Verifiable Credentials signed with the registry's key, and the key itself."""

from flask import Response, current_app, json
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from registry.api import Blueprint
from registry.auth import current_actor
from registry.issuing import issuing
from registry.sessions import get_session
from registry.statements import keys, services

blp = Blueprint("statements", __name__, description="Signed statements and the registry's key")


class CredentialQuerySchema(Schema):
    format = fields.String(
        load_default="jwt",
        validate=validate.OneOf(services.FORMATS),
        metadata={"description": "jwt: a VC-JWT (compact JWS, EdDSA); di: a Data Integrity proof"},
    )


CREDENTIAL_DOC = {
    "responses": {
        "200": {
            "description": "The signed statement: a VC-JWT, or JSON with a Data Integrity proof.",
            "content": {media: {} for media in services.MEDIA_TYPES.values()},
        },
        "503": {"description": "No signing key is configured (run registry keys create)."},
    }
}


def signed_response(kind: str, number: int, fmt: str) -> Response:
    """The record's statement, read with the caller's rights (404 to whoever may not read it)."""
    media, body = services.signed(
        get_session(),
        current_actor(),
        issuing(current_app.config),
        kind,
        number,
        fmt,
    )
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(text, mimetype=media)


@blp.route("/assessments/<int:assessment_id>/credential")
class AssessmentCredential(MethodView):
    @blp.arguments(CredentialQuerySchema, location="query", as_kwargs=True)
    @blp.doc(**CREDENTIAL_DOC)
    def get(self, assessment_id, format):
        """The statement of comparability, signed (read as the assessment is)."""
        return signed_response("assessment", assessment_id, format)


@blp.route("/transfers/<int:evaluation_id>/credential")
class TransferCredential(MethodView):
    @blp.arguments(CredentialQuerySchema, location="query", as_kwargs=True)
    @blp.doc(**CREDENTIAL_DOC)
    def get(self, evaluation_id, format):
        """The transfer evaluation, signed (read as the evaluation is)."""
        return signed_response("transfer", evaluation_id, format)


@blp.route("/pathway-evaluations/<int:evaluation_id>/credential")
class PathwayEvaluationCredential(MethodView):
    @blp.arguments(CredentialQuerySchema, location="query", as_kwargs=True)
    @blp.doc(**CREDENTIAL_DOC)
    def get(self, evaluation_id, format):
        """The pathway evaluation, signed (read as the evaluation is)."""
        return signed_response("pathway", evaluation_id, format)


class JwkSchema(Schema):
    kty = fields.String()
    crv = fields.String()
    x = fields.String()
    kid = fields.String()
    alg = fields.String()
    use = fields.String()


class JwksSchema(Schema):
    keys = fields.List(fields.Nested(JwkSchema))


@blp.route("/keys")
class Keys(MethodView):
    @blp.response(200, JwksSchema)
    @blp.alt_response(503, description="No signing key is configured.")
    def get(self):
        """The registry's public signing key as a JWK Set: what its statements verify with."""
        config = current_app.config
        return keys.required(config["SIGNING_KEY"], config["ISSUER_ID"]).jwks()
