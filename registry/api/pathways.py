"""Pathway agreements: which credentials count toward which programme, for how many credits."""

import json

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields

from importers.pathways import export_ctdl
from mappings.pathways.schemas import TowardQuerySchema, WhereQuerySchema
from mappings.pathways.services import toward_programme, where_it_counts
from registry.api import Blueprint, body_doc, json_body, writes
from registry.auth import current_actor
from registry.catalogue.pathways import services
from registry.catalogue.pathways.schemas import (
    PathwayChangeSchema,
    PathwayDecisionSchema,
    PathwayQuerySchema,
    PathwayRecordSchema,
    PathwaySchema,
)
from registry.core.inputs import id_field
from registry.sessions import get_session

LD_JSON = "application/ld+json"
CTDL_RESPONSE = {
    "responses": {
        "200": {
            "description": "CTDL Transfer Value Profiles, JSON-LD (docs/pathways-ctdl.md).",
            "content": {LD_JSON: {}},
        }
    }
}

blp = Blueprint(
    "pathways",
    __name__,
    description="Pathway agreements: credentials that count toward a programme (approved ones "
    "are public; proposed and rejected ones are their institution's drafts).",
)


@blp.route("/pathways")
class Pathways(MethodView):
    @blp.arguments(PathwayQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, PathwaySchema(many=True))
    def get(self, institution, programme, status):
        """Pathways by id: approved ones, and the drafts of the caller's own institution."""
        found = services.list_pathways(
            get_session(),
            current_actor(),
            institution_id=institution,
            programme_id=programme,
            status=status,
        )
        return [services.present(pathway) for pathway in found]

    @blp.doc(requestBody=body_doc(PathwayRecordSchema))
    @blp.response(201, PathwaySchema)
    @writes("catalogue.edit", audit="pathway.create")
    def post(self):
        """Add a pathway (the receiving institution's account, or an admin)."""
        return services.present(
            services.create_pathway(get_session(), current_actor(), json_body())
        )


class CtdlQuerySchema(Schema):
    institution = id_field(
        load_default=None,
        metadata={"description": "The receiving institution; without it, every pathway shown."},
    )


def _ld(document: dict) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), mimetype=LD_JSON)


@blp.route("/pathways/ctdl")
class PathwaysCtdl(MethodView):
    @blp.arguments(CtdlQuerySchema, location="query", as_kwargs=True)
    @blp.doc(**CTDL_RESPONSE)
    def get(self, institution):
        """Pathways as CTDL Transfer Value Profiles: approved ones, and the caller's drafts."""
        return _ld(export_ctdl(get_session(), current_actor(), institution_id=institution))


@blp.route("/pathways/<int:pathway_id>/ctdl")
class PathwayCtdl(MethodView):
    @blp.doc(**CTDL_RESPONSE)
    def get(self, pathway_id):
        """One pathway as a CTDL Transfer Value Profile (a draft only to its institution)."""
        return _ld(export_ctdl(get_session(), current_actor(), pathway_id=pathway_id))


class PathwayFoundSchema(PathwaySchema):
    credits_converted = fields.Dict(
        allow_none=True,
        metadata={"description": "{value, unit, method, basis} in the unit asked; null if none."},
    )
    still_needed = fields.Dict(
        metadata={"description": "{count, from}: how many more of its credentials, and which."}
    )


class WhereSchema(Schema):
    credential = fields.Dict()
    on = fields.String()
    unit = fields.String(allow_none=True)
    pathways = fields.List(fields.Nested(PathwayFoundSchema))


class TowardSchema(Schema):
    programme = fields.Dict()
    on = fields.String()
    unit = fields.String(allow_none=True)
    pathways = fields.List(fields.Nested(PathwayFoundSchema))


@blp.route("/pathways/where")
class PathwaysWhere(MethodView):
    @blp.arguments(WhereQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, WhereSchema)
    def get(self, qualification, course, unit, on):
        """Where a qualification or course counts: approved pathways valid on the day, across
        institutions and countries, with credits in `unit` when asked."""
        return where_it_counts(
            get_session(),
            current_actor(),
            qualification_id=qualification,
            course_id=course,
            unit=unit,
            on=on,
        )


@blp.route("/pathways/toward")
class PathwaysToward(MethodView):
    @blp.arguments(TowardQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, TowardSchema)
    def get(self, programme, unit, on):
        """What counts toward a programme: its approved pathways valid on the day."""
        return toward_programme(get_session(), current_actor(), programme, unit=unit, on=on)


@blp.route("/pathways/<int:pathway_id>")
class PathwayById(MethodView):
    @blp.response(200, PathwaySchema)
    def get(self, pathway_id):
        """One pathway (a draft only to its institution and admins; 404 to anyone else)."""
        return services.present(services.get_pathway(get_session(), current_actor(), pathway_id))

    @blp.doc(requestBody=body_doc(PathwayChangeSchema))
    @blp.response(200, PathwaySchema)
    @writes("catalogue.edit", audit="pathway.update")
    def patch(self, pathway_id):
        """Change a pathway (its institution, or an admin); a change of status is a decision."""
        return services.present(
            services.update_pathway(get_session(), current_actor(), pathway_id, json_body())
        )


@blp.route("/pathways/<int:pathway_id>/decision")
class PathwayDecision(MethodView):
    @blp.doc(requestBody=body_doc(PathwayDecisionSchema))
    @blp.response(200, PathwaySchema)
    @writes("catalogue.edit", audit="pathway.decide")
    def post(self, pathway_id):
        """Approve, reject or re-open a pathway, with the reason."""
        return services.present(
            services.decide(get_session(), current_actor(), pathway_id, json_body())
        )
