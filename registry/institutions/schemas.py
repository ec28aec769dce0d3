"""Marshmallow schemas: one institution record (imports, API) and the API's outputs."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates

from registry.core.countries import is_country
from registry.institutions.models import NAME_KINDS, RELATIONSHIP_TYPES, SCHEMES, STATUSES

CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ROR_ID = re.compile(r"^0[a-hj-km-np-tv-z0-9]{6}[0-9]{2}$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
# An Erasmus code: a country prefix of one to three letters, padded with spaces to three
# characters in the official form ("D  BERLIN02", "UK GLASGOW01", "IRLDUBLIN01"), then the city
# and a number. Sources vary the padding ("D BERLIN02"), so the stored matching form re-pads it.
ERASMUS = re.compile(r"^(?P<prefix>[A-Z]{1,3})\s*(?P<rest>[A-Z][A-Z0-9.-]*[0-9]{1,3})$")


def no_control_characters(value: str) -> None:
    if CONTROL.search(value):
        raise ValidationError("Control characters are not allowed.")


def text_field(length: int, **kwargs) -> fields.String:
    """Free text as the registry takes it everywhere: 1 to `length` characters, no control
    characters."""
    return fields.String(validate=[validate.Length(1, length), no_control_characters], **kwargs)


def iso_country(value: str) -> None:
    """An ISO 3166-1 alpha-2 code, or Kosovo's XK (registry.core.countries)."""
    if not value or not value.strip():
        raise ValidationError("No country is stated.")
    if not is_country(value):
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code.")


def _erasmus(text: str) -> str:
    """The official fixed-width form: the prefix padded to three characters, then the rest."""
    compact = text.upper()
    if " " in compact:
        prefix, rest = compact.split(" ", 1)
        rest = rest.replace(" ", "")
    else:
        prefix, rest = compact[:3], compact[3:]
    if len(prefix) > 3 or not ERASMUS.match(f"{prefix} {rest}"):
        raise ValueError(f"{text!r} is not an Erasmus code (e.g. 'UK GLASGOW01', 'D  BERLIN02').")
    return prefix.ljust(3) + rest


def normalise_identifier(scheme: str, value: str) -> str:
    """The matching form of an identifier; ValueError when it is not one of its scheme."""
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
        text = _erasmus(text)
    elif scheme == "pic":
        text = text.replace(" ", "")
        if not re.fullmatch(r"\d{9}", text):
            raise ValueError(f"{value!r} is not a PIC (9 digits).")
    elif scheme == "isni":
        compact = text.replace(" ", "").replace("-", "").upper()
        text = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    elif scheme in ("grid", "wikidata"):
        text = text.rsplit("/", 1)[-1] if "/" in text else text
        text = text.upper() if scheme == "wikidata" else text.lower()
    if not text or len(text) > 200:
        raise ValueError(f"{value!r} is not an identifier.")
    return text


def identifier_key(scheme: str, value: str) -> str:
    """The matching form of an identifier a source states, leniently: one that does not parse as
    its scheme is still kept (case and spacing folded), since a real file's identifier is not a
    reason to lose its record. ValueError only for what is empty or too long to store."""
    try:
        return normalise_identifier(scheme, value)
    except ValueError:
        text = " ".join(value.split())
        text = text.upper() if scheme in ("erasmus", "wikidata") else text.lower()
        if not text or len(text) > 200:
            raise ValueError(f"{value!r} is not an identifier.") from None
        return text


class NameSchema(Schema):
    value = text_field(400, required=True)
    lang = fields.String(load_default=None, allow_none=True, validate=validate.Length(2, 12))
    kind = fields.String(load_default="alias", validate=validate.OneOf(NAME_KINDS))


class IdentifierSchema(Schema):
    """An identifier as given; loaded, `value` is its matching form and `given` the original."""

    scheme = fields.String(required=True, validate=validate.OneOf(SCHEMES))
    value = text_field(300, required=True)

    @post_load
    def _normalise(self, data, **_):
        given = data["value"].strip()
        try:
            data["value"] = identifier_key(data["scheme"], given)
        except ValueError as error:
            raise ValidationError(str(error), "value") from error
        data["given"] = given
        return data


class RelationshipSchema(Schema):
    """A ROR relationship: the type and the other organisation's ROR id."""

    type = fields.String(required=True, validate=validate.OneOf(RELATIONSHIP_TYPES))
    id = fields.String(required=True, validate=validate.Length(1, 300))
    label = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 400))

    @post_load
    def _ror_id(self, data, **_):
        try:
            data["id"] = normalise_identifier("ror", data["id"])
        except ValueError as error:
            raise ValidationError(str(error), "id") from error
        return data


class InstitutionRecordSchema(Schema):
    """One institution as an import or a client states it; identifiers already normalised."""

    name = text_field(400, required=True)
    country = fields.String(required=True, validate=iso_country)
    city = text_field(200, load_default=None, allow_none=True)
    names = fields.List(fields.Nested(NameSchema), load_default=list)
    identifiers = fields.List(fields.Nested(IdentifierSchema), load_default=list)
    # From files too, where no JSON-body check ran: NUL in a domain was a failed import on
    # PostgreSQL (its text cannot hold NUL), not a rejected record.
    domains = fields.List(text_field(253), load_default=list)
    relationships = fields.List(fields.Nested(RelationshipSchema), load_default=list)
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(STATUSES))
    # The same limit as a status set by hand (StatusSchema).
    status_source = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(1, 1000)
    )
    status_date = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def _upper_country(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("country"), str):
            data = {**data, "country": data["country"].strip().upper()}
        if isinstance(data, dict) and isinstance(data.get("domains"), list):
            # A blank entry states no domain; nothing is lost by leaving it out.
            data = {
                **data,
                "domains": [
                    d for d in data["domains"] if not (isinstance(d, str) and not d.strip())
                ],
            }
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
                    {
                        "scheme": "domain",
                        "value": identifier_key("domain", domain),
                        "given": domain.strip(),
                    }
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
