"""Verification of a signed credential before it is assessed."""

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from importers.verification import services
from registry.api import Blueprint, writes
from registry.core.errors import InvalidData
from registry.issuing import trust_list

blp = Blueprint("verifications", __name__, description="Verification of signed credentials")


class CheckSchema(Schema):
    check = fields.String()
    result = fields.String(metadata={"description": "passed | failed | not_checked"})
    detail = fields.String()


class VerificationSchema(Schema):
    verdict = fields.String(
        metadata={"description": "verified | invalid | unsigned | unknown_issuer"}
    )
    reason = fields.String()
    issuer = fields.String(allow_none=True)
    checks = fields.List(fields.Nested(CheckSchema))


class VerifyQuerySchema(Schema):
    on = fields.Date(
        load_default=None, metadata={"description": "Day of verification; today by default."}
    )


UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}


@blp.route("/verifications")
class Verifications(MethodView):
    @blp.arguments(VerifyQuerySchema, location="query", as_kwargs=True)
    @blp.doc(requestBody=UPLOAD)
    @blp.response(200, VerificationSchema)
    @writes("verification.run")
    def post(self, on):
        """Verify a signed file against the trust list and the registry's own key."""
        upload = request.files.get("file")
        if upload is None:
            raise InvalidData(
                "Send the file as multipart/form-data field 'file'.", errors={"file": ["Missing."]}
            )
        trust = trust_list(current_app.config)
        data = upload.stream.read(services.MAX_BYTES + 1)
        return services.verify(data, trust=trust, on=on).as_dict()
