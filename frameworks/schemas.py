"""Marshmallow schemas: the framework-definition file format and the API's framework outputs.

The file format is documented in frameworks/data/README.md; a file is loaded only after this
schema and the cross-reference checks in services.py accept it whole.
"""

from __future__ import annotations

import datetime as dt
import re

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from frameworks.models import BASES, NO_EQF_REASONS, RELATIONS, VERSION_STATUSES
from registry.core.countries import is_country
from registry.core.inputs import DecimalField

FRAMEWORK_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
LEVEL_CODE = re.compile(r"^[A-Za-z0-9+/.-]{1,20}$")
# Groups: the framework, the level. Unnamed: the OpenAPI document states this pattern, and a
# pattern there is an ECMA-262 regular expression, which has no `(?P<name>...)`.
LEVEL_REF = re.compile(r"^([A-Z][A-Z0-9-]*):([A-Za-z0-9+/.-]{1,20})$")
EHEA_CYCLES = ("short", "first", "second", "third")
# Version labels travel in URLs (/versions/<label>/publish).
VERSION_LABEL = re.compile(r"^[A-Za-z0-9._-]{1,40}$")

# Limits of free text, in characters (README, "Who may change what"): a file or an edit over any
# of them is refused whole, naming the field.
NAME_MAX = 300  # framework name, level title, a qualification type
OWNER_MAX = 200
DESCRIPTION_MAX = 5000  # framework description
CITATION_MAX = 2000  # version and link citations
DESCRIPTOR_MAX = 5000  # knowledge, skills, responsibility and autonomy, a level's note
LINK_NOTE_MAX = 2000
MAX_LEVELS = 100
MAX_LINKS = 1000
MAX_ALIASES = 20
MAX_TYPES = 50

# Dates a framework states (validity of versions and links) lie in this range; a version is
# published to take effect at most PUBLISH_AHEAD_DAYS ahead (README, "Framework versions").
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)
PUBLISH_AHEAD_DAYS = 5 * 366


def text(limit: int, **options) -> fields.String:
    return fields.String(validate=validate.Length(max=limit), **options)


def required_text(limit: int, **options) -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, limit), **options)


def sane_date(**options) -> fields.Date:
    return fields.Date(
        validate=validate.Range(EARLIEST, LATEST, error=f"A date from {EARLIEST} to {LATEST}."),
        **options,
    )


def validate_country(code: str) -> None:
    if not is_country(code):
        raise ValidationError(f"{code!r} is not an ISO 3166-1 alpha-2 country code.")


class VersionFileSchema(Schema):
    version = fields.String(required=True, validate=validate.Regexp(VERSION_LABEL))
    status = fields.String(
        load_default="published", validate=validate.OneOf(("draft", "published", "superseded"))
    )
    # A correction of a published version of the same instrument (a fact found wrong): that
    # version stops answering, this one answers for the same award dates.
    corrects = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(VERSION_LABEL)
    )
    valid_from = sane_date(load_default=None, allow_none=True)
    valid_to = sane_date(load_default=None, allow_none=True)
    citation = required_text(CITATION_MAX)


class LevelFileSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(LEVEL_CODE))
    ordinal = fields.Integer(required=True, strict=True, validate=validate.Range(-1000, 1000))
    title = required_text(NAME_MAX)
    aliases = fields.List(
        fields.String(validate=validate.Regexp(LEVEL_CODE)),
        load_default=list,
        validate=validate.Length(max=MAX_ALIASES),
    )
    knowledge = text(DESCRIPTOR_MAX, load_default=None, allow_none=True)
    skills = text(DESCRIPTOR_MAX, load_default=None, allow_none=True)
    responsibility_autonomy = text(DESCRIPTOR_MAX, load_default=None, allow_none=True)
    qualification_types = fields.List(
        fields.String(validate=validate.Length(1, NAME_MAX)),
        load_default=list,
        validate=validate.Length(max=MAX_TYPES),
    )
    ehea_cycle = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(EHEA_CYCLES)
    )
    no_eqf_reason = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(NO_EQF_REASONS)
    )
    note = text(DESCRIPTOR_MAX, load_default=None, allow_none=True)


class LinkFileSchema(Schema):
    source = fields.String(required=True, data_key="from", validate=validate.Regexp(LEVEL_REF))
    target = fields.String(required=True, data_key="to", validate=validate.Regexp(LEVEL_REF))
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    basis = fields.String(required=True, validate=validate.OneOf(BASES))
    citation = required_text(CITATION_MAX)
    valid_from = sane_date(load_default=None, allow_none=True)
    valid_to = sane_date(load_default=None, allow_none=True)
    note = text(LINK_NOTE_MAX, load_default=None, allow_none=True)
    secondary_source = text(CITATION_MAX, load_default=None, allow_none=True)
    succession = fields.Boolean(load_default=False)


# Link fields added after the first bundled files were loaded: left out of a definition's digest
# while they hold their default, so that a file which does not use them keeps the digest
# stored when it was first loaded (a reload stays "unchanged").
LINK_DEFAULTS = {"secondary_source": None, "succession": False}


class FrameworkFileSchema(Schema):
    """One framework version with its levels and the links its authority published.

    A meta-framework (`meta: true`) has no country; a national framework has one, and its code
    starts with it (`IE-NFQ`)."""

    code = fields.String(
        required=True, validate=[validate.Length(1, 40), validate.Regexp(FRAMEWORK_CODE)]
    )
    name = required_text(NAME_MAX)
    country = fields.String(load_default=None, allow_none=True)
    meta = fields.Boolean(load_default=False)
    owner = text(OWNER_MAX, load_default=None, allow_none=True)
    description = text(DESCRIPTION_MAX, load_default=None, allow_none=True)
    version = fields.Nested(VersionFileSchema, required=True)
    levels = fields.List(
        fields.Nested(LevelFileSchema), required=True, validate=validate.Length(1, MAX_LEVELS)
    )
    links = fields.List(
        fields.Nested(LinkFileSchema), load_default=list, validate=validate.Length(max=MAX_LINKS)
    )

    @validates("country")
    def _country(self, value, **_):
        if value is not None:
            validate_country(value)

    @validates_schema
    def _national_or_meta(self, data, **_):
        country, code = data.get("country"), data.get("code") or ""
        if data.get("meta"):
            if country is not None:
                raise ValidationError("A meta-framework has no country.", "country")
        elif country is None:
            raise ValidationError("A national framework names its country.", "country")
        elif not code.startswith(f"{country}-"):
            raise ValidationError(
                f"A national framework's code starts with its country ({country}-...).", "code"
            )


class CreditSystemFileSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(FRAMEWORK_CODE))
    name = fields.String(required=True)
    hours_low = DecimalField(load_default=None, allow_none=True, places=None)
    hours_high = DecimalField(load_default=None, allow_none=True, places=None)
    per_year = DecimalField(load_default=None, allow_none=True, places=None)
    annual_load_convention = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(1, 2000)
    )
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
    status = fields.String(metadata={"description": " | ".join(VERSION_STATUSES)})
    corrects = fields.String(
        allow_none=True,
        metadata={"description": "The version this one corrects (its status is `corrected`)."},
    )
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    citation = fields.String()
    published_at = fields.DateTime(allow_none=True)


class LevelSchema(Schema):
    ref = fields.String(metadata={"example": "IE-NFQ:8"})
    code = fields.String()
    ordinal = fields.Integer()
    title = fields.String()
    aliases = fields.List(fields.String())
    knowledge = fields.String(allow_none=True)
    skills = fields.String(allow_none=True)
    responsibility_autonomy = fields.String(allow_none=True)
    qualification_types = fields.List(fields.String())
    ehea_cycle = fields.String(allow_none=True)
    no_eqf_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


def draft_url(version) -> str:
    return f"/api/v1/frameworks/{version.framework.code}/versions/{version.version}"


class DraftLevelSchema(LevelSchema):
    """A level as edited: in the draft this answer names (started by the first edit)."""

    draft = fields.Function(
        lambda level: {
            "framework": level.version.framework.code,
            "version": level.version.version,
            "url": draft_url(level.version),
        },
        metadata={
            "description": "The draft the edit went to (GET its url; publish it when ready)."
        },
    )


class FrameworkSchema(Schema):
    code = fields.String()
    name = fields.String()
    country = fields.String(allow_none=True, metadata={"description": "None: a meta-framework."})
    meta = fields.Boolean(attribute="is_meta")
    owner = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    # Drafts are their authority's business until published (GET .../versions/{v} shows them).
    versions = fields.Method("released_versions")
    drafts = fields.List(
        fields.Nested(VersionSchema),
        metadata={
            "description": "The framework's drafts: shown only to those who may edit it (its "
            "ministry, admins); absent for anyone else."
        },
    )

    def released_versions(self, framework):
        released = [v for v in framework.versions if v.status != "draft"]
        return VersionSchema(many=True).dump(released)


class FrameworkQuerySchema(Schema):
    on = fields.Date(load_default=None, metadata={"description": "Levels in force on this date."})


class LoadResultSchema(Schema):
    code = fields.String()
    version = fields.String()
    outcome = fields.String(metadata={"description": "created | unchanged | replaced | corrected"})
    levels = fields.Integer()
    links = fields.Integer()


class LinkSchema(Schema):
    source = fields.Function(lambda link: link.source.ref, data_key="from")
    target = fields.Function(lambda link: link.target.ref, data_key="to")
    relation = fields.String()
    basis = fields.String()
    citation = fields.String()
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    secondary_source = fields.String(
        allow_none=True,
        metadata={
            "description": "Where the link's result was read when its cited report could not "
            "be (a secondary source); null when the citation itself was read."
        },
    )
    succession = fields.Boolean(
        metadata={
            "description": "True for a correspondence from a level of a superseded framework "
            "to the level replacing it, as the successor's legal text states it."
        }
    )


class VersionDetailSchema(VersionSchema):
    framework = fields.Function(lambda version: version.framework.code)
    levels = fields.List(fields.Nested(LevelSchema))
    links = fields.List(fields.Nested(LinkSchema))
