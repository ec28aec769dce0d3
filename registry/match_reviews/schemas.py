"""What a reviewer sends (a decision, a listing's query) and what the queue answers."""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema, fields, pre_load, validate

from registry.core.inputs import id_field
from registry.institutions.schemas import iso_country, text_field
from registry.match_reviews.models import PLACES, STATES


class ReviewQuerySchema(Schema):
    state = fields.String(
        load_default="open",
        validate=validate.OneOf(STATES),
        metadata={"description": "open (the default) | confirmed | rejected"},
    )
    country = fields.String(
        load_default=None,
        validate=iso_country,
        metadata={"description": "Only this country's entries.", "example": "GB"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))

    @pre_load
    def _upper_country(self, data, **_):
        if isinstance(data, Mapping) and isinstance(data.get("country"), str):
            data = {**data, "country": data["country"].strip().upper()}
        return data


class ConfirmSchema(Schema):
    """The institution the spelling names: one of the candidates, or another of the country."""

    institution_id = id_field(
        required=True,
        strict=True,
        metadata={"description": "The institution meant (of the entry's country)."},
    )
    reason = text_field(1000, load_default=None, metadata={"description": "Why, if useful."})


class RejectSchema(Schema):
    """None of the candidates is meant (or the spelling names no institution)."""

    reason = text_field(1000, required=True, metadata={"description": "Why; kept and audited."})


class OfferedSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    country = fields.String()
    score = fields.Float(metadata={"description": "0-100"})
    matched_on = fields.String()


class PlaceSchema(Schema):
    place = fields.String(metadata={"description": " | ".join(PLACES)})
    id = fields.Integer(metadata={"description": "The assessment's or evaluation's id."})
    at = fields.String(metadata={"description": "When it was met there."})


class MatchReviewSchema(Schema):
    id = fields.Integer()
    query = fields.String(metadata={"description": "The spelling, as first met."})
    country = fields.String()
    state = fields.String(metadata={"description": " | ".join(STATES)})
    candidates = fields.List(
        fields.Nested(OfferedSchema),
        metadata={
            "description": "As the matcher offered them, best first: at the latest sighting "
            "while open, as the reviewer saw them once decided."
        },
    )
    times = fields.Integer(metadata={"description": "How many credentials named it."})
    first_seen_at = fields.String()
    last_seen_at = fields.String()
    seen_in = fields.List(
        fields.Nested(PlaceSchema),
        metadata={
            "description": "Where it was met, latest first: only the records the caller may "
            "read (an admin all; a ministry its own), from the entry's latest sightings."
        },
    )
    decided_at = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    institution_id = fields.Integer(
        allow_none=True, metadata={"description": "Confirmed: the institution meant."}
    )
    alias_added = fields.Boolean(
        allow_none=True,
        metadata={"description": "Confirmed: whether the spelling became its alias now."},
    )
