"""Marshmallow schemas of pathways: the record a client or an import states, a change, a
decision, the list's query, and the answer (`PathwaySchema`, the shape of `services.present`).

The record schemas check what needs no database; whether the programme is in the owner's
catalogue, the credentials exist, the credit system and the grading scale are known, and the
conditions fit together (choose within 1..n, both or neither of min_grade and its scale,
valid_from before valid_to) is the service's check, made on the pathway as it would be stored.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from registry.catalogue.pathways.models import STATUSES, SUPERVISION
from registry.catalogue.schemas import CREDIT_SYSTEM, MAX_CREDITS
from registry.core.inputs import DecimalField, id_field
from registry.institutions.schemas import text_field

# More credentials than this is a catalogue, not an agreement.
MAX_CREDENTIALS = 50
KINDS = ("qualification", "course")
# A hundred years: an age limit past that is no limit.
MAX_AGE_MONTHS = 1200


class PathwayReferenceSchema(Schema):
    """One accepted credential: {"qualification_id"} | {"course_id"} | {"institution_id",
    "kind", "code"} | {"institution_id", "kind", "title"} (the title as the catalogue has it)."""

    qualification_id = id_field(strict=False)
    course_id = id_field(strict=False)
    institution_id = id_field(strict=False, metadata={"description": "The issuer."})
    kind = fields.String(validate=validate.OneOf(KINDS))
    code = text_field(100)
    title = text_field(500)

    @validates_schema
    def _one_form(self, data, **_):
        given = frozenset(name for name, value in data.items() if value is not None)
        forms = (
            {"qualification_id"},
            {"course_id"},
            {"institution_id", "kind", "code"},
            {"institution_id", "kind", "title"},
        )
        if given not in forms:
            raise ValidationError(
                "Give qualification_id, or course_id, or institution_id and kind with a code "
                "or a title."
            )


def _credits(*, positive: bool = False, **kwargs) -> DecimalField:
    return DecimalField(
        validate=validate.Range(min=0, min_inclusive=not positive, max=MAX_CREDITS), **kwargs
    )


class PathwayRecordSchema(Schema):
    """A pathway as a client or an import states it: the receiving institution, its reference,
    the programme (by id or by code in the institution's catalogue), the credentials accepted
    and the conditions."""

    rule_id = text_field(100, required=True, metadata={"example": "MM-SCM-2026"})
    institution_id = id_field(
        required=True, strict=False, metadata={"description": "The receiving institution."}
    )
    title = text_field(500, required=True)
    description = text_field(10000, load_default=None, allow_none=True)
    programme_id = id_field(strict=False, allow_none=True)
    programme_code = text_field(
        100, allow_none=True, metadata={"description": "Instead of programme_id."}
    )
    credentials = fields.List(
        fields.Nested(PathwayReferenceSchema),
        required=True,
        validate=validate.Length(1, MAX_CREDENTIALS),
    )
    choose = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(1, MAX_CREDENTIALS),
        metadata={"description": "k of 'any k of these n'; null: all of them."},
    )
    credits = _credits(positive=True, required=True)
    credit_system = fields.String(
        required=True,
        validate=validate.Regexp(
            CREDIT_SYSTEM, error="Expected a credit system code, e.g. ECTS or GB-CATS."
        ),
    )
    min_grade = text_field(60, load_default=None, allow_none=True)
    min_grade_scale = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(1, 20)
    )
    supervision = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(SUPERVISION),
        metadata={"description": "The least assessment supervision accepted."},
    )
    quality_assured = fields.Boolean(load_default=False)
    max_age_months = fields.Integer(
        load_default=None, allow_none=True, validate=validate.Range(1, MAX_AGE_MONTHS)
    )
    max_total_credits = _credits(load_default=None, allow_none=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "Exclusive: the first day it no longer holds."},
    )
    status = fields.String(load_default="proposed", validate=validate.OneOf(STATUSES))
    reason = text_field(2000, load_default=None, allow_none=True)
    source = text_field(
        1000,
        load_default=None,
        allow_none=True,
        metadata={"description": "Where the agreement is published: a URL or a reference."},
    )

    @pre_load
    def _upper_case_codes(self, data, **_):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("credit_system", "min_grade_scale"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip().upper()
        return data

    @validates_schema
    def _one_programme(self, data, partial=None, **_):
        given = [name for name in ("programme_id", "programme_code") if data.get(name) is not None]
        if len(given) == 2:
            raise ValidationError(
                "Give programme_id or programme_code, not both.", "programme_code"
            )
        if not given and not partial:
            raise ValidationError("Required (or programme_code).", "programme_id")

    @post_load
    def _plain_numbers(self, data, **_):
        # 3E+1 and 30 are the same number; store the plain notation.
        for name in ("credits", "max_total_credits"):
            if data.get(name) is not None:
                data[name] = Decimal(format(data[name], "f"))
        return data


class PathwayChangeSchema(PathwayRecordSchema):
    """What an update may change (any of it): the key, the institution and the rule_id, stays."""

    class Meta:
        exclude = ("rule_id", "institution_id")


class PathwayDecisionSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = text_field(2000, load_default=None, allow_none=True)


class PathwayQuerySchema(Schema):
    """The filters of a list of pathways (each only when given)."""

    institution = id_field(load_default=None, metadata={"description": "The receiving one."})
    programme = id_field(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


# --- the answer -------------------------------------------------------------------------------


def _decimal(**kwargs) -> fields.String:
    return fields.String(metadata={"description": "A decimal string."}, **kwargs)


class PathwayInstitutionSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    country = fields.String()


class PathwayProgrammeSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    level = fields.String(allow_none=True)
    credits = _decimal(allow_none=True)
    credit_system = fields.String(allow_none=True)
    qualification_type = fields.String(allow_none=True)


class PathwayCredentialSchema(PathwayProgrammeSchema):
    kind = fields.String(metadata={"description": "qualification | course"})
    institution = fields.Nested(
        PathwayInstitutionSchema,
        allow_none=True,
        metadata={"description": "The issuer; null for a national register entry."},
    )


class PathwayConditionsSchema(Schema):
    min_grade = fields.String(allow_none=True)
    min_grade_scale = fields.String(allow_none=True)
    supervision = fields.String(allow_none=True)
    quality_assured = fields.Boolean()
    max_age_months = fields.Integer(allow_none=True)
    max_total_credits = _decimal(allow_none=True)


class PathwaySchema(Schema):
    id = fields.Integer()
    rule_id = fields.String()
    institution = fields.Nested(PathwayInstitutionSchema)
    title = fields.String()
    description = fields.String(allow_none=True)
    programme = fields.Nested(PathwayProgrammeSchema)
    credentials = fields.List(fields.Nested(PathwayCredentialSchema))
    choose = fields.Integer(allow_none=True)
    credits = _decimal()
    credit_system = fields.String()
    conditions = fields.Nested(PathwayConditionsSchema)
    valid_from = fields.String(allow_none=True)
    valid_to = fields.String(allow_none=True, metadata={"description": "Exclusive."})
    status = fields.String()
    decided_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()
