"""Verification of a signed credential before it is assessed."""

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from importers.verification import online, services
from importers.verification.trust import TrustList
from registry.api import Blueprint, writes
from registry.core.errors import InvalidData

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
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "status": {
                        "type": "array",
                        "items": {"type": "string", "format": "binary"},
                        "description": "Status list credentials at hand (Bitstring Status "
                        "List), besides the trust list's status/ directory.",
                    },
                },
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
        """Verify a signed file (VC-JWT, Data Integrity, ELMO, EDC seal); stores nothing."""
        upload = request.files.get("file")
        if upload is None:
            raise InvalidData(
                "Send the file as multipart/form-data field 'file'.", errors={"file": ["Missing."]}
            )
        trust = TrustList.load(
            current_app.config["TRUST_LIST"],
            online.shared() if current_app.config["TRUST_ONLINE"] else None,
        )
        data = upload.stream.read(services.MAX_BYTES + 1)
        lists = [
            (item.filename or "status", item.stream.read(services.MAX_BYTES + 1))
            for item in request.files.getlist("status")
        ]
        return services.verify(data, trust=trust, on=on, status=lists).as_dict()
