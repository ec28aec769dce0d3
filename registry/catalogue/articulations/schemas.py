"""What an articulation, its change and a decision on it take as input."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, post_load, pre_load, validate

from registry.catalogue.articulations.models import MAX_COURSES, STATUSES
from registry.catalogue.schemas import CREDIT_SYSTEM, MAX_CREDITS
from registry.core.inputs import DecimalField, id_field
from registry.institutions.schemas import text_field


def _course_ids(**kwargs) -> fields.List:
    return fields.List(
        id_field(strict=False),
        validate=validate.Length(1, MAX_COURSES),
        **kwargs,
    )


class ArticulationRecordSchema(Schema):
    """An articulation as a client or an import states it, institutions and courses by id."""

    rule_id = text_field(100, required=True, metadata={"example": "TUM-IN-2024-017"})
    source_institution_id = id_field(required=True, strict=False)
    target_institution_id = id_field(required=True, strict=False)
    source_course_ids = _course_ids(required=True)
    target_course_ids = _course_ids(required=True)
    credits_granted = DecimalField(required=True, validate=validate.Range(min=0, max=MAX_CREDITS))
    credit_system = fields.String(
        required=True,
        validate=validate.Regexp(
            CREDIT_SYSTEM, error="Expected a credit system code, e.g. ECTS or GB-CATS."
        ),
    )
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "Exclusive: the first day it no longer holds."},
    )
    status = fields.String(load_default="proposed", validate=validate.OneOf(STATUSES))
    reason = text_field(2000, load_default=None, allow_none=True)

    @pre_load
    def _upper_case_system(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("credit_system"), str):
            data = {**data, "credit_system": data["credit_system"].strip().upper()}
        return data

    @post_load
    def _plain_credits(self, data, **_):
        if data.get("credits_granted") is not None:
            data["credits_granted"] = Decimal(format(data["credits_granted"], "f"))
        return data


class ArticulationChangeSchema(ArticulationRecordSchema):
    """What an update may change (any of it): the rule's key, the receiving institution and
    the rule_id, stays."""

    class Meta:
        exclude = ("rule_id", "target_institution_id")


class DecisionSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    reason = text_field(2000, load_default=None, allow_none=True)
