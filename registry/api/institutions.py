"""Institutions: search with scores, records, and edits by their authorities."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from mappings.institutions import match_institution
from registry.api import Blueprint, body_doc, json_body, writes
from registry.api.caching import public_read
from registry.auth import current_actor
from registry.institutions import services
from registry.institutions.schemas import InstitutionRecordSchema, InstitutionSchema, StatusSchema
from registry.sessions import get_session

blp = Blueprint("institutions", __name__, description="Institutions and institution matching")


class SearchQuerySchema(Schema):
    # Length and content are checked by the matcher, which names `q` in its errors.
    q = fields.String(required=True, metadata={"example": "Univ. of Helsinki"})
    country = fields.String(load_default=None, metadata={"example": "FI"})
    limit = fields.Integer(load_default=5, validate=validate.Range(1, 20))


class CandidateSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    country = fields.String()
    score = fields.Float(metadata={"description": "0-100"})
    matched_on = fields.String(metadata={"description": "identifier | domain | name | alias"})


class InstitutionMatchSchema(Schema):
    query = fields.String()
    verdict = fields.String(metadata={"description": "matched | ambiguous | no_match"})
    candidates = fields.List(fields.Nested(CandidateSchema))


@blp.route("/institutions")
class Institutions(MethodView):
    @public_read(services.CHANGES)
    @blp.arguments(SearchQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, InstitutionMatchSchema)
    def get(self, q, country, limit):
        """Find the institution a name, identifier or web domain stands for, best first."""
        return match_institution(get_session(), q, country, limit)

    @blp.doc(requestBody=body_doc(InstitutionRecordSchema))
    @blp.response(201, InstitutionSchema)
    @writes("institution.create")
    def post(self):
        """Add an institution (an admin, or the ministry of its country)."""
        return services.create_institution(get_session(), current_actor(), json_body())


@blp.route("/institutions/<int:institution_id>")
class InstitutionById(MethodView):
    @public_read(services.CHANGES)
    @blp.response(200, InstitutionSchema)
    def get(self, institution_id):
        """One institution with its names and identifiers."""
        return services.get_institution(get_session(), institution_id)

    @blp.doc(requestBody=body_doc(services.InstitutionEditSchema))
    @blp.response(200, InstitutionSchema)
    @writes("institution.edit")
    def patch(self, institution_id):
        """Add names and identifiers (the institution itself, or an admin)."""
        return services.edit_institution(
            get_session(), current_actor(), institution_id, json_body()
        )


@blp.route("/institutions/<int:institution_id>/status")
class InstitutionStatus(MethodView):
    @blp.doc(requestBody=body_doc(StatusSchema))
    @blp.response(200, InstitutionSchema)
    @writes("institution.status")
    def put(self, institution_id):
        """Record the recognition status with its source (an admin, or the country's ministry)."""
        return services.set_status(get_session(), current_actor(), institution_id, json_body())
