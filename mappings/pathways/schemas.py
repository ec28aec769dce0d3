"""What a pathway evaluation and the pathway queries take, validated before anything is read."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from mappings.schemas import CredentialSchema
from registry.core.inputs import id_field
from registry.institutions.schemas import text_field

MAX_CREDENTIALS = 200
MAX_TRANSCRIPTS = 20


class HeldGradeSchema(Schema):
    """A grade as the credential states it. The scale may be any name: one the registry does
    not know (or none) leaves the grade unconverted, which the minimum grade reports."""

    value = text_field(60, required=True)
    scale = text_field(200, load_default=None, allow_none=True)


class HeldCredentialSchema(CredentialSchema):
    """A credential the learner holds: as an assessment takes it, plus what identifies it in
    the catalogue when known (a course's id, or its code in the issuer's catalogue)."""

    code = text_field(100, load_default=None, allow_none=True)
    course_id = id_field(load_default=None, allow_none=True)
    grade = fields.Nested(HeldGradeSchema, load_default=None, allow_none=True)

    @validates_schema
    def _one_identity(self, data, **_):
        if data.get("course_id") is not None and data.get("qualification_id") is not None:
            raise ValidationError("Give a course or a qualification, not both.", "course_id")


class PathwayEvaluationRequestSchema(Schema):
    """A learner's credentials (given, or the passed results of stored transcripts) evaluated
    against a programme's approved pathways, as of a day."""

    programme = id_field(
        required=True, strict=True, metadata={"description": "The programme's qualification id."}
    )
    credentials = fields.List(
        fields.Nested(HeldCredentialSchema),
        load_default=list,
        validate=validate.Length(max=MAX_CREDENTIALS),
    )
    transcripts = fields.List(
        id_field(strict=True),
        load_default=list,
        validate=validate.Length(max=MAX_TRANSCRIPTS),
        metadata={"description": "Stored transcripts: each passed course is a held credential."},
    )
    on = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "The day of evaluation (default today)."},
    )

    @validates_schema
    def _something_held(self, data, **_):
        if not data.get("credentials") and not data.get("transcripts"):
            raise ValidationError("Give the learner's credentials or transcripts.", "credentials")
        if len(set(data.get("transcripts") or [])) != len(data.get("transcripts") or []):
            raise ValidationError("A transcript is named twice.", "transcripts")


class WhereQuerySchema(Schema):
    qualification = id_field(load_default=None)
    course = id_field(load_default=None)
    unit = fields.String(load_default=None, validate=validate.Length(1, 20))
    on = fields.Date(load_default=None)

    @validates_schema
    def _one_credential(self, data, **_):
        if (data.get("qualification") is None) == (data.get("course") is None):
            raise ValidationError("Give a qualification or a course.", "qualification")


class TowardQuerySchema(Schema):
    programme = id_field(required=True)
    unit = fields.String(load_default=None, validate=validate.Length(1, 20))
    on = fields.Date(load_default=None)
