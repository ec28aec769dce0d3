"""Marshmallow schemas for equivalence and conversion queries and their answers (contract shapes)."""

from __future__ import annotations

from marshmallow import Schema, fields, post_dump, validate

from frameworks.schemas import FRAMEWORK_CODE, LEVEL_REF
from mappings.credits import METHODS as CREDIT_METHODS
from mappings.grades import METHODS as GRADE_METHODS

LEVEL_REF_MESSAGE = "Expected FRAMEWORK:LEVEL, e.g. IE-NFQ:8."
CODE_MESSAGE = "Expected a code such as DE-DQR or ECTS."


class EquivalentsQuerySchema(Schema):
    level = fields.String(
        required=True, validate=validate.Regexp(LEVEL_REF, error=LEVEL_REF_MESSAGE),
        metadata={"description": "The source level, FRAMEWORK:LEVEL.", "example": "IE-NFQ:8"},
    )
    target = fields.String(
        required=True, validate=validate.Regexp(FRAMEWORK_CODE, error=CODE_MESSAGE),
        metadata={"description": "The target framework code.", "example": "GB-SCQF"},
    )
    on = fields.Date(
        load_default=None, metadata={"description": "The date the answer is valid on (default today)."}
    )


class StepSchema(Schema):
    source = fields.String(data_key="from")
    target = fields.String(data_key="to")
    relation = fields.String()
    basis = fields.String()
    citation = fields.String()
    inverse = fields.Boolean(
        metadata={"description": "True when the step runs a published link backwards."}
    )


class MatchSchema(Schema):
    level = fields.String()
    relation = fields.String()
    confidence = fields.Float()
    path = fields.List(fields.Nested(StepSchema))


class EquivalentsSchema(Schema):
    source = fields.String()
    target_framework = fields.String()
    on = fields.Date()
    matches = fields.List(fields.Nested(MatchSchema))
    reason = fields.String(
        metadata={"description": "Why there is no match: no_counterpart, below_eqf_1, unlevelled, "
                  "not_in_force."}
    )

    @post_dump
    def _reason_only_when_unmatched(self, data, **_):
        if data.get("reason") is None:
            data.pop("reason", None)
        return data


class CreditsQuerySchema(Schema):
    value = fields.Decimal(required=True, validate=validate.Range(min=0), metadata={"example": "240"})
    source = fields.String(required=True, data_key="from", metadata={"example": "GB-CATS"})
    target = fields.String(required=True, data_key="to", metadata={"example": "ECTS"})
    method = fields.String(load_default="annual_load", validate=validate.OneOf(CREDIT_METHODS))
    rule = fields.String(
        load_default=None, metadata={"description": "An explicit conversion rule; overrides the method."}
    )


class CreditRangeSchema(Schema):
    low = fields.String()
    high = fields.String()


class CreditConversionSchema(Schema):
    value = fields.String()
    unit = fields.String()
    method = fields.String()
    basis = fields.String()
    range = fields.Nested(CreditRangeSchema)


class GradesQuerySchema(Schema):
    value = fields.String(required=True, validate=validate.Length(1, 40), metadata={"example": "1.7"})
    source = fields.String(required=True, data_key="from", metadata={"example": "DE-1-5"})
    target = fields.String(required=True, data_key="to", metadata={"example": "FR-0-20"})
    method = fields.String(load_default="linear", validate=validate.OneOf(GRADE_METHODS))
    pass_mark = fields.Decimal(
        load_default=None, data_key="pass",
        metadata={"description": "The source scale's pass mark, when it differs (US: 1.0 or 2.0)."},
    )
    table = fields.String(
        load_default=None, metadata={"description": "An explicit conversion table; overrides the method."}
    )
    group = fields.String(
        load_default="default", metadata={"description": "Reference group of the distribution tables."}
    )


class GradeConversionSchema(Schema):
    value = fields.String()
    raw = fields.String()
    scale = fields.String()
    passed = fields.Boolean()
    method = fields.String()
    steps = fields.List(fields.String())


class ImpactQuerySchema(Schema):
    on = fields.Date(
        load_default=None,
        metadata={"description": "The day the draft would take effect (default: its valid_from, "
                  "else today)."},
    )


class ImpactChangeSchema(Schema):
    level = fields.String()
    target_framework = fields.String()
    old = fields.Nested(EquivalentsSchema, allow_none=True,
                        metadata={"description": "The answer today; null for a level the draft adds."})
    new = fields.Nested(EquivalentsSchema, allow_none=True,
                        metadata={"description": "The answer once published; null for a level it removes."})


class ImpactSchema(Schema):
    framework = fields.String()
    version = fields.String()
    compared_with = fields.String(allow_none=True)
    on = fields.Date()
    levels = fields.Integer()
    frameworks = fields.Integer()
    changes = fields.List(fields.Nested(ImpactChangeSchema))
