"""What a transfer evaluation and a decision on it take as input."""

from __future__ import annotations

from marshmallow import Schema, fields, pre_load, validate

from frameworks.schemas import LEVEL_REF
from registry.catalogue.models import RESULT_STATUSES
from registry.catalogue.schemas import MAX_CREDITS, language_tag
from registry.core.inputs import DecimalField, id_field
from registry.institutions.models import SCHEMES
from registry.institutions.schemas import iso_country, text_field

MAX_RESULTS = 500


class IssuerSchema(Schema):
    name = text_field(500, load_default=None, allow_none=True)
    country = fields.String(load_default=None, allow_none=True, validate=iso_country)
    identifiers = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SCHEMES)),
        values=text_field(300),
        load_default=dict,
    )

    @pre_load
    def _upper_country(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("country"), str):
            data = {**data, "country": data["country"].strip().upper()}
        return data


class DistributionRowSchema(Schema):
    grade = text_field(60, required=True)
    percent = DecimalField(required=True, as_string=True, validate=validate.Range(0, 100))


class LearnerSchema(Schema):
    """As ELMO names a learner; only for the ELMO export of the decision."""

    given_names = text_field(300, load_default=None, allow_none=True)
    family_name = text_field(300, load_default=None, allow_none=True)


class ResultSchema(Schema):
    """One result as a transcript states it. Credits without a system, or in a system the
    registry does not know, are accepted here and flagged by the evaluation."""

    code = text_field(100, load_default=None, allow_none=True)
    title = text_field(500, required=True)
    language = fields.String(load_default=None, allow_none=True, validate=language_tag)
    credits = fields.Decimal(
        load_default=None, allow_none=True, as_string=True, validate=validate.Range(0, MAX_CREDITS)
    )
    credit_system = text_field(60, load_default=None, allow_none=True)
    grade = text_field(60, load_default=None, allow_none=True)
    grading_scheme = text_field(200, load_default=None, allow_none=True)
    grade_distribution = fields.List(
        fields.Nested(DistributionRowSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 100),
    )
    status = fields.String(load_default="unknown", validate=validate.OneOf(RESULT_STATUSES))
    level = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(LEVEL_REF, error="Expected FRAMEWORK:LEVEL, e.g. EQF:6."),
    )
    isced_f = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(
            r"^\d{2,4}$", error="Expected an ISCED-F code of 2 to 4 digits, e.g. 0613."
        ),
    )
    ended_on = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def _spellings(self, data, **_):
        # ELMO writes "in-progress" and lower-case credit schemes ("ects").
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("status"), str):
            data["status"] = data["status"].strip().lower().replace("-", "_")
        if isinstance(data.get("credit_system"), str):
            data["credit_system"] = data["credit_system"].strip().upper()
        return data


class TranscriptSchema(Schema):
    """A transcript given as JSON: who issued it and the learner's results."""

    issuer = fields.Nested(IssuerSchema, required=True)
    learner = fields.Nested(LearnerSchema, load_default=None, allow_none=True)
    results = fields.List(
        fields.Nested(ResultSchema), required=True, validate=validate.Length(1, MAX_RESULTS)
    )


class TransferRequestSchema(Schema):
    transcript = fields.Raw(
        required=True,
        metadata={
            "description": "A stored transcript's id, or a transcript object (TranscriptSchema)."
        },
    )
    institution = id_field(
        required=True, strict=True, metadata={"description": "The receiving institution's id."}
    )
    on = fields.Date(
        load_default=None,
        metadata={"description": "The day for results that state no end date (default today)."},
    )


class DecisionSchema(Schema):
    result_index = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    target_course_ids = fields.List(
        id_field(strict=True),
        required=True,
        validate=validate.Length(1, 50),
    )
    credits_granted = DecimalField(
        required=True, as_string=True, validate=validate.Range(0, MAX_CREDITS)
    )
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    reason = text_field(2000, load_default=None, allow_none=True)


class RejectionSchema(Schema):
    result_index = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    reason = text_field(2000, required=True)
