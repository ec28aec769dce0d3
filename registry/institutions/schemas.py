"""Marshmallow schemas: one institution record (imports, API) and the API's outputs."""

from __future__ import annotations

import re

import pycountry
from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates

from registry.institutions.models import NAME_KINDS, SCHEMES, STATUSES

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ROR_ID = re.compile(r"^0[a-hj-km-np-tv-z0-9]{6}[0-9]{2}$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
ERASMUS = re.compile(r"^[A-Z]{1,3} [A-Z0-9-]{2,}[0-9]{2}$")


def no_control_characters(value: str) -> None:
    if CONTROL.search(value):
        raise ValidationError("Control characters are not allowed.")


def text_field(length: int, **kwargs) -> fields.String:
    """Free text as the registry takes it everywhere: 1 to `length` characters, no control
    characters."""
    return fields.String(validate=[validate.Length(1, length), no_control_characters], **kwargs)


def iso_country(value: str) -> None:
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code.")


def normalise_identifier(scheme: str, value: str) -> str:
    """The stored form of an identifier; ValueError when it is not one of its scheme."""
    text = " ".join(value.split())
    if scheme == "ror":
        text = (
            text.lower().removeprefix("https://").removeprefix("http://").removeprefix("ror.org/")
        )
        if not ROR_ID.match(text):
            raise ValueError(f"{value!r} is not a ROR id (9 characters, e.g. 00pjdza24).")
    elif scheme in ("domain", "schac"):
        text = text.lower().removeprefix("https://").removeprefix("http://").split("/")[0]
        text = text.removeprefix("www.").rstrip(".")
        if not HOSTNAME.match(text):
            raise ValueError(f"{value!r} is not a domain name.")
    elif scheme == "erasmus":
        text = text.upper()
        if not ERASMUS.match(text):
            raise ValueError(f"{value!r} is not an Erasmus code (e.g. 'UK GLASGOW01').")
    elif scheme == "pic":
        if not re.fullmatch(r"\d{9}", text):
            raise ValueError(f"{value!r} is not a PIC (9 digits).")
    elif not text or len(text) > 200:
        raise ValueError(f"{value!r} is not an identifier.")
    return text


class NameSchema(Schema):
    value = text_field(400, required=True)
    lang = fields.String(load_default=None, allow_none=True, validate=validate.Length(2, 12))
    kind = fields.String(load_default="alias", validate=validate.OneOf(NAME_KINDS))


class IdentifierSchema(Schema):
    scheme = fields.String(required=True, validate=validate.OneOf(SCHEMES))
    value = fields.String(required=True, validate=validate.Length(1, 300))

    @post_load
    def _normalise(self, data, **_):
        try:
            data["value"] = normalise_identifier(data["scheme"], data["value"])
        except ValueError as error:
            raise ValidationError(str(error), "value") from error
        return data


class InstitutionRecordSchema(Schema):
    """One institution as an import or a client states it; identifiers already normalised."""

    name = text_field(400, required=True)
    country = fields.String(required=True, validate=iso_country)
    city = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))
    names = fields.List(fields.Nested(NameSchema), load_default=list)
    identifiers = fields.List(fields.Nested(IdentifierSchema), load_default=list)
    domains = fields.List(fields.String(validate=validate.Length(1, 253)), load_default=list)
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STATUSES))
    status_source = fields.String(load_default=None, allow_none=True)
    status_date = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def _upper_country(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("country"), str):
            data = {**data, "country": data["country"].strip().upper()}
        return data

    @validates("status_source")
    def _source_text(self, value, **_):
        if value is not None:
            no_control_characters(value)

    @post_load
    def _domains_are_identifiers(self, data, **_):
        errors = {}
        for index, domain in enumerate(data.pop("domains")):
            try:
                data["identifiers"].append(
                    {"scheme": "domain", "value": normalise_identifier("domain", domain)}
                )
            except ValueError as error:
                errors[index] = [str(error)]
        if errors:
            raise ValidationError(errors, "domains")
        return data


class StatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    status_source = text_field(1000, required=True)
    status_date = fields.Date(load_default=None)


# --- API outputs ----------------------------------------------------------------------------


class NameOutSchema(Schema):
    value = fields.String()
    lang = fields.String()
    kind = fields.String()


class IdentifierOutSchema(Schema):
    scheme = fields.String()
    value = fields.String()


class InstitutionSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    country = fields.String()
    city = fields.String()
    status = fields.String()
    status_source = fields.String()
    status_date = fields.Date()
    names = fields.List(fields.Nested(NameOutSchema))
    identifiers = fields.List(fields.Nested(IdentifierOutSchema))
