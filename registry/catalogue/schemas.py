"""Marshmallow schemas: one qualification or course record (imports, API) and the API's outputs.

Record schemas check everything that needs no database: syntax of level references and codes,
ISO countries and languages, ISCED-F codes against the bundled list, credits with their system.
Whether a level, credit system or institution exists is the service's check. Optional fields have
no default on purpose: a field a record leaves out is left as stored on update, while a field
given as null (an empty CSV cell) clears it.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pycountry
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from frameworks.schemas import LEVEL_REF
from registry.catalogue import isced
from registry.catalogue.models import QUALIFICATION_TYPES
from registry.core.inputs import DecimalField, id_field
from registry.institutions.schemas import iso_country, text_field

CREDIT_SYSTEM = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
LANGUAGE_TAG = re.compile(r"^(?P<primary>[a-z]{2,3})(-[A-Za-z0-9]{1,8})*$")
IDENTIFIER_SCHEME = re.compile(r"^[a-z][a-z0-9_-]{0,29}$")
# Large enough for any programme in any credit system (US quarter hours, NZ credits...).
MAX_CREDITS = Decimal(10000)


def language_tag(value: str) -> None:
    """A BCP 47 tag whose primary subtag is an ISO 639 language (en, en-GB, ga, fil)."""
    match = LANGUAGE_TAG.match(value)
    primary = match["primary"] if match else None
    if primary is None or (
        pycountry.languages.get(alpha_2=primary) is None
        and pycountry.languages.get(alpha_3=primary) is None
    ):
        raise ValidationError(f"{value!r} is not a language tag (ISO 639, e.g. en or en-GB).")


def isced_f_code(value: str) -> None:
    if isced.is_valid(value):
        return
    hint = ""
    if len(value) == 3 and isced.is_valid("0" + value):
        # Spreadsheets read 0613 as the number 613.
        hint = f" Codes keep their leading zero: did a spreadsheet drop it from 0{value}?"
    raise ValidationError(f"{value!r} is not an ISCED-F 2013 field code.{hint}")


def cell_text(length: int, **kwargs) -> fields.String:
    """Free text from a CSV cell: one left empty reads as null, said in the spreadsheet's
    terms."""
    return text_field(length, error_messages={"null": "May not be empty."}, **kwargs)


class TitleSchema(Schema):
    value = cell_text(500, required=True)
    lang = fields.String(load_default=None, allow_none=True, validate=language_tag)


class _CatalogueRecordSchema(Schema):
    """What qualifications and courses share."""

    code = cell_text(100, required=True)
    title = cell_text(500, required=True)
    language = fields.String(allow_none=True, validate=language_tag)
    level = fields.String(
        allow_none=True,
        validate=validate.Regexp(LEVEL_REF, error="Expected FRAMEWORK:LEVEL, e.g. IE-NFQ:8."),
    )
    credits = DecimalField(allow_none=True, validate=validate.Range(min=0, max=MAX_CREDITS))
    credit_system = fields.String(
        allow_none=True,
        validate=validate.Regexp(
            CREDIT_SYSTEM, error="Expected a credit system code, e.g. ECTS or GB-CATS."
        ),
    )
    isced_f = fields.String(allow_none=True, validate=isced_f_code)
    learning_outcomes = fields.List(cell_text(4000))

    @pre_load
    def _upper_case_codes(self, data, **_):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("credit_system", "country"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip().upper()
        return data

    @validates_schema
    def _credits_with_system(self, data, **_):
        if data.get("credits") is not None and data.get("credit_system") is None:
            raise ValidationError("Required with credits.", "credit_system")
        if data.get("credit_system") is not None and data.get("credits") is None:
            raise ValidationError("Required with credit_system.", "credits")

    @post_load
    def _plain_credits(self, data, **_):
        # 1E+2 and 100 are the same number; store the plain notation.
        if data.get("credits") is not None:
            data["credits"] = Decimal(format(data["credits"], "f"))
        return data


class QualificationRecordSchema(_CatalogueRecordSchema):
    """One qualification as an import or a client states it.

    No institution_id: a national register entry, and `country` is required. With one, `country`
    defaults to the institution's (filled in by the service).
    """

    institution_id = id_field(allow_none=True, strict=False)
    country = fields.String(allow_none=True, validate=iso_country)
    qualification_type = fields.String(
        allow_none=True, validate=validate.OneOf(QUALIFICATION_TYPES)
    )
    other_titles = fields.List(fields.Nested(TitleSchema))
    identifiers = fields.Dict(
        keys=fields.String(
            validate=validate.Regexp(
                IDENTIFIER_SCHEME, error="Expected a lower-case scheme name, e.g. qdr."
            )
        ),
        values=cell_text(300),
    )

    @validates_schema
    def _country_of_a_register_entry(self, data, **_):
        if data.get("institution_id") is None and data.get("country") is None:
            raise ValidationError(
                "Required for a national register entry (no institution_id).", "country"
            )


class CourseRecordSchema(_CatalogueRecordSchema):
    """One course of an institution's catalogue."""

    institution_id = id_field(required=True, strict=False)


# --- API outputs ----------------------------------------------------------------------------


class TitleOutSchema(Schema):
    value = fields.String()
    lang = fields.String()


class _CatalogueSchema(Schema):
    id = fields.Integer()
    institution_id = fields.Integer()
    code = fields.String()
    title = fields.String()
    language = fields.String()
    level = fields.String()
    # Decimal strings, never binary floats (DESIGN: numbers travel as decimal strings).
    credits = fields.Decimal(as_string=True)
    credit_system = fields.String()
    isced_f = fields.String()
    isced_f_name = fields.Function(
        lambda entry: isced.name(entry.isced_f) if entry.isced_f else None
    )
    learning_outcomes = fields.List(fields.String())
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class QualificationSchema(_CatalogueSchema):
    country = fields.String()
    other_titles = fields.List(fields.Nested(TitleOutSchema))
    qualification_type = fields.String()
    identifiers = fields.Dict(keys=fields.String(), values=fields.String())


class CourseSchema(_CatalogueSchema):
    pass
