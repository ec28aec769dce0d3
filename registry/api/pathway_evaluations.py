"""Pathway evaluations: a learner's credentials judged against a programme's approved
pathways, stored and private to the programme's institution."""

from flask.views import MethodView
from marshmallow import Schema, fields

from mappings.pathways import services
from mappings.pathways.schemas import PathwayEvaluationRequestSchema
from registry.api import Blueprint, body_doc, json_body, writes
from registry.auth import current_actor
from registry.sessions import get_session

blp = Blueprint(
    "pathway_evaluations",
    __name__,
    description="A learner's credentials evaluated against a programme's pathways",
)


class PathwayEvaluationSchema(Schema):
    """A stored evaluation: each held credential identified, each pathway with its conditions
    checked on the evidence, the credits granted, and the explanation."""

    id = fields.Integer()
    created_at = fields.String()
    actor = fields.String()
    programme = fields.Dict()
    on = fields.String()
    credentials = fields.List(
        fields.Dict(), metadata={"description": "The held credentials, identified or not."}
    )
    pathways = fields.List(
        fields.Dict(),
        metadata={"description": "status applied | not_applied | not_met, with the reason"},
    )
    summary = fields.Dict(
        metadata={"description": "Credits granted toward the programme, after the cap."}
    )
    explanation = fields.List(fields.String())
    verifications = fields.List(
        fields.Dict(),
        metadata={
            "description": "The stored transcripts imported from a verified file: "
            "{transcript_id, id, verdict, reason, issuer, verified_on} each. Absent otherwise."
        },
    )
    inputs_digest = fields.String()


@blp.route("/pathway-evaluations")
class PathwayEvaluations(MethodView):
    @blp.doc(requestBody=body_doc(PathwayEvaluationRequestSchema))
    @blp.response(201, PathwayEvaluationSchema)
    @writes("assessment.create", audit="pathway.evaluate")
    def post(self):
        """Evaluate a learner's credentials against a programme's pathways, and store it."""
        return services.evaluate_pathways(get_session(), current_actor(), json_body())


@blp.route("/pathway-evaluations/<int:evaluation_id>")
class PathwayEvaluationById(MethodView):
    @blp.response(200, PathwayEvaluationSchema)
    def get(self, evaluation_id):
        """A stored evaluation (the programme institution's accounts, or an admin; 404 to
        anyone else)."""
        return services.present(
            services.get_pathway_evaluation(get_session(), current_actor(), evaluation_id)
        )
