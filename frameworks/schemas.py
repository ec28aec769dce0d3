"""Marshmallow schemas: the framework-definition file format and the API's framework outputs.

The file format is documented in frameworks/data/README.md; a file is loaded only after this
schema and the cross-reference checks in services.py accept it whole.
"""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates

from frameworks.models import BASES, NO_EQF_REASONS, RELATIONS, VERSION_STATUSES
from registry.core.countries import is_country
from registry.core.inputs import DecimalField

FRAMEWORK_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
LEVEL_CODE = re.compile(r"^[A-Za-z0-9+/.-]{1,20}$")
LEVEL_REF = re.compile(r"^(?P<framework>[A-Z][A-Z0-9-]*):(?P<level>[A-Za-z0-9+/.-]{1,20})$")
EHEA_CYCLES = ("short", "first", "second", "third")
# Version labels travel in URLs (/versions/<label>/publish).
VERSION_LABEL = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


def validate_country(code: str) -> None:
    if not is_country(code):
        raise ValidationError(f"{code!r} is not an ISO 3166-1 alpha-2 country code.")


class VersionFileSchema(Schema):
    version = fields.String(required=True, validate=validate.Regexp(VERSION_LABEL))
    status = fields.String(load_default="published", validate=validate.OneOf(VERSION_STATUSES))
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    citation = fields.String(required=True, validate=validate.Length(1))


class LevelFileSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(LEVEL_CODE))
    ordinal = fields.Integer(required=True, strict=True, validate=validate.Range(-999, 999))
    title = fields.String(required=True, validate=validate.Length(1, 300))
    aliases = fields.List(fields.String(validate=validate.Regexp(LEVEL_CODE)), load_default=list)
    knowledge = fields.String(load_default=None, allow_none=True)
    skills = fields.String(load_default=None, allow_none=True)
    responsibility_autonomy = fields.String(load_default=None, allow_none=True)
    qualification_types = fields.List(fields.String(), load_default=list)
    ehea_cycle = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(EHEA_CYCLES)
    )
    no_eqf_reason = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(NO_EQF_REASONS)
    )
    note = fields.String(load_default=None, allow_none=True)


class LinkFileSchema(Schema):
    source = fields.String(required=True, data_key="from", validate=validate.Regexp(LEVEL_REF))
    target = fields.String(required=True, data_key="to", validate=validate.Regexp(LEVEL_REF))
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    basis = fields.String(required=True, validate=validate.OneOf(BASES))
    citation = fields.String(required=True, validate=validate.Length(1))
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    note = fields.String(load_default=None, allow_none=True)


class FrameworkFileSchema(Schema):
    """One framework version with its levels and the links its authority published."""

    code = fields.String(
        required=True, validate=[validate.Length(1, 40), validate.Regexp(FRAMEWORK_CODE)]
    )
    name = fields.String(required=True, validate=validate.Length(1, 300))
    country = fields.String(load_default=None, allow_none=True)
    meta = fields.Boolean(load_default=False)
    owner = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    description = fields.String(load_default=None, allow_none=True)
    version = fields.Nested(VersionFileSchema, required=True)
    levels = fields.List(fields.Nested(LevelFileSchema), required=True, validate=validate.Length(1))
    links = fields.List(fields.Nested(LinkFileSchema), load_default=list)

    @validates("country")
    def _country(self, value, **_):
        if value is not None:
            validate_country(value)


class CreditSystemFileSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(FRAMEWORK_CODE))
    name = fields.String(required=True)
    hours_low = DecimalField(load_default=None, allow_none=True, places=None)
    hours_high = DecimalField(load_default=None, allow_none=True, places=None)
    per_year = DecimalField(load_default=None, allow_none=True, places=None)
    citation = fields.String(required=True, validate=validate.Length(1))
    note = fields.String(load_default=None, allow_none=True)


class EquivalentSchema(Schema):
    scale = fields.String(required=True)
    low = DecimalField(required=True, as_string=True)
    high = DecimalField(required=True, as_string=True)


class BandSchema(Schema):
    code = fields.String(required=True)
    label = fields.String(load_default=None, allow_none=True)
    passing = fields.Boolean(required=True)
    # Numeric scales: the band's bounds on the scale itself. Ordinal: on `equivalent.scale`.
    low = DecimalField(load_default=None, allow_none=True, as_string=True)
    high = DecimalField(load_default=None, allow_none=True, as_string=True)
    equivalent = fields.Nested(EquivalentSchema, load_default=None, allow_none=True)


class GradingScaleFileSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(FRAMEWORK_CODE))
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("numeric", "ordinal")))
    best = DecimalField(load_default=None, allow_none=True, as_string=True)
    worst = DecimalField(load_default=None, allow_none=True, as_string=True)
    pass_mark = DecimalField(load_default=None, allow_none=True, as_string=True)
    decimals = fields.Integer(load_default=2, validate=validate.Range(0, 4))
    rounding = fields.String(
        load_default="half_up", validate=validate.OneOf(("half_up", "truncate"))
    )
    bands = fields.List(fields.Nested(BandSchema), load_default=list)
    special_values = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    citation = fields.String(required=True, validate=validate.Length(1))
    note = fields.String(load_default=None, allow_none=True)


class DistributionRowSchema(Schema):
    grade = fields.String(required=True)
    percent = DecimalField(required=True, as_string=True, validate=validate.Range(0, 100))


class DistributionFileSchema(Schema):
    scale = fields.String(required=True)
    reference_group = fields.String(load_default="default")
    rows = fields.List(
        fields.Nested(DistributionRowSchema), required=True, validate=validate.Length(1)
    )
    citation = fields.String(required=True, validate=validate.Length(1))


class CreditSystemsFileSchema(Schema):
    credit_systems = fields.List(fields.Nested(CreditSystemFileSchema), required=True)


class GradingScalesFileSchema(Schema):
    grading_scales = fields.List(fields.Nested(GradingScaleFileSchema), required=True)
    distributions = fields.List(fields.Nested(DistributionFileSchema), load_default=list)


# --- API outputs ----------------------------------------------------------------------------


class VersionSchema(Schema):
    version = fields.String()
    status = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date()
    citation = fields.String()
    published_at = fields.DateTime()


class LevelSchema(Schema):
    ref = fields.String(metadata={"example": "IE-NFQ:8"})
    code = fields.String()
    ordinal = fields.Integer()
    title = fields.String()
    aliases = fields.List(fields.String())
    knowledge = fields.String()
    skills = fields.String()
    responsibility_autonomy = fields.String()
    qualification_types = fields.List(fields.String())
    ehea_cycle = fields.String()
    no_eqf_reason = fields.String()
    note = fields.String()


class FrameworkSchema(Schema):
    code = fields.String()
    name = fields.String()
    country = fields.String()
    meta = fields.Boolean(attribute="is_meta")
    owner = fields.String()
    description = fields.String()
    # Drafts are their authority's business until published (GET .../versions/{v} shows them).
    versions = fields.Method("released_versions")

    def released_versions(self, framework):
        released = [v for v in framework.versions if v.status != "draft"]
        return VersionSchema(many=True).dump(released)


class FrameworkQuerySchema(Schema):
    on = fields.Date(load_default=None, metadata={"description": "Levels in force on this date."})


class LoadResultSchema(Schema):
    code = fields.String()
    version = fields.String()
    outcome = fields.String(metadata={"description": "created | unchanged | replaced"})
    levels = fields.Integer()
    links = fields.Integer()


class LinkSchema(Schema):
    source = fields.Function(lambda link: link.source.ref, data_key="from")
    target = fields.Function(lambda link: link.target.ref, data_key="to")
    relation = fields.String()
    basis = fields.String()
    citation = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date()
    note = fields.String()


class VersionDetailSchema(VersionSchema):
    framework = fields.Function(lambda version: version.framework.code)
    levels = fields.List(fields.Nested(LevelSchema))
    links = fields.List(fields.Nested(LinkSchema))
