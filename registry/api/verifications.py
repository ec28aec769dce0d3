"""Verification of a signed credential before it is assessed."""

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from importers.transcripts import READERS
from importers.verification import services, stored
from registry.api import Blueprint, writes
from registry.auth import current_actor
from registry.core.errors import InvalidData
from registry.issuing import trust_list
from registry.sessions import get_session, release
from registry.verifications import services as verifications

blp = Blueprint("verifications", __name__, description="Verification of signed credentials")


class CheckSchema(Schema):
    check = fields.String()
    result = fields.String(metadata={"description": "passed | failed | not_checked"})
    detail = fields.String()


class VerificationSchema(Schema):
    id = fields.Integer(
        metadata={"description": "The stored verification, to name in POST /assessments."}
    )
    verdict = fields.String(
        metadata={"description": "verified | invalid | unsigned | unknown_issuer"}
    )
    reason = fields.String()
    issuer = fields.String(allow_none=True)
    checks = fields.List(fields.Nested(CheckSchema))


class StoredFileSchema(Schema):
    sha256 = fields.String()
    size = fields.Integer()
    name = fields.String(allow_none=True)


class YieldedSchema(Schema):
    position = fields.String()
    digest = fields.String()
    # Named `stated` here: a Schema's own `fields` attribute is its declared fields.
    stated = fields.Dict(
        attribute="fields",
        data_key="fields",
        metadata={"description": "What the file states of it: an assessment must match these."},
    )


class StoredVerificationSchema(VerificationSchema):
    created_at = fields.String()
    verified_on = fields.String()
    actor = fields.String()
    file = fields.Nested(StoredFileSchema)
    format = fields.String(allow_none=True)
    credentials = fields.List(
        fields.Nested(YieldedSchema),
        metadata={"description": "The credentials the file yielded, and what it states of each."},
    )


class VerifyQuerySchema(Schema):
    on = fields.Date(
        load_default=None, metadata={"description": "Day of verification; today by default."}
    )
    format = fields.String(
        load_default=None,
        validate=validate.OneOf(tuple(READERS)),
        metadata={
            "description": "The file's format, to read its credentials; told by trying each "
            "reader when not given."
        },
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
                        "description": "Status list credentials at hand for this verification.",
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
    @writes("verification.run", audit="verification.create")
    def post(self, on, format):
        """Verify a signed file (VC-JWT, Data Integrity, ELMO, EDC seal) against the trust list
        and the registry's own key, with the status lists given as `status` files, and store the
        verification (its id is named in an assessment)."""
        upload = request.files.get("file")
        if upload is None:
            raise InvalidData(
                "Send the file as multipart/form-data field 'file'.", errors={"file": ["Missing."]}
            )
        trust = trust_list(current_app.config)
        data = upload.stream.read(services.MAX_BYTES + 1)
        lists = [
            (item.filename or "status", item.stream.read(services.MAX_BYTES + 1))
            for item in request.files.getlist("status")
        ]
        actor = current_actor()
        release()
        examined = stored.examine(data, trust=trust, on=on, fmt=format, status=lists)
        row = stored.keep(get_session(), actor, examined, filename=upload.filename)
        return verifications.shown(row)


@blp.route("/verifications/<int:verification_id>")
class VerificationById(MethodView):
    @blp.response(200, StoredVerificationSchema)
    def get(self, verification_id):
        """A stored verification: for the office that asked for it and admins (404 to anyone
        else)."""
        return verifications.get_verification(get_session(), current_actor(), verification_id)
