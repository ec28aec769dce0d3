"""Pathway agreements: which credentials count toward which programme, for how many credits."""

from flask.views import MethodView

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
from registry.sessions import get_session

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
