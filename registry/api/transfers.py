"""Transfer credit: transcripts evaluated course by course, decisions, and articulations."""

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from mappings.transfer import elmo
from mappings.transfer import schemas as transfer_schemas
from mappings.transfer import services as transfer
from registry.api import Blueprint, body_doc, json_body, writes
from registry.auth import current_actor
from registry.catalogue.articulations import models as articulation_models
from registry.catalogue.articulations import schemas as articulation_schemas
from registry.catalogue.articulations import services as articulations
from registry.core.inputs import id_field
from registry.sessions import get_session

blp = Blueprint("transfers", __name__, description="Transfer credit and articulations")


class EvaluationSchema(Schema):
    """A stored evaluation; every result with its status, reason, evidence and suggestions."""

    id = fields.Integer()
    created_at = fields.String()
    actor = fields.String()
    receiving_institution = fields.Dict()
    source_institution = fields.Dict()
    on = fields.String()
    flags = fields.List(fields.String())
    results = fields.List(
        fields.Dict(),
        metadata={
            "description": "status granted | pending | refused | not_applicable, with the reason"
        },
    )
    summary = fields.Dict(
        metadata={
            "description": "Credits granted, pending and refused in the receiving credit system."
        }
    )
    decisions = fields.List(fields.Dict())
    verification = fields.Dict(
        metadata={
            "description": "A stored transcript imported from a verified file: its verification "
            "(id, verdict, reason, issuer, verified_on). Absent otherwise."
        }
    )
    inputs_digest = fields.String()


class ArticulationSchema(Schema):
    id = fields.Integer()
    rule_id = fields.String()
    source_institution_id = fields.Integer()
    target_institution_id = fields.Integer()
    source_course_ids = fields.List(fields.Integer())
    target_course_ids = fields.List(fields.Integer())
    credits_granted = fields.Decimal(as_string=True)
    credit_system = fields.String()
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True, metadata={"description": "Exclusive."})
    status = fields.String()
    decided_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ArticulationQuerySchema(Schema):
    institution = id_field(load_default=None, metadata={"description": "Either side."})
    course = id_field(load_default=None, metadata={"description": "On either side."})
    status = fields.String(load_default=None, validate=validate.OneOf(articulation_models.STATUSES))


@blp.route("/transfers")
class Transfers(MethodView):
    @blp.doc(requestBody=body_doc(transfer_schemas.TransferRequestSchema))
    @blp.response(201, EvaluationSchema)
    @writes("assessment.create", audit="transfer.evaluate")
    def post(self):
        """Evaluate a transcript for a receiving institution, course by course, and store it."""
        return transfer.evaluate_request(get_session(), current_actor(), json_body())


@blp.route("/transfers/<int:evaluation_id>")
class TransferById(MethodView):
    @blp.response(200, EvaluationSchema)
    def get(self, evaluation_id):
        """A stored evaluation (the receiving institution's accounts, or an admin; 404 to anyone
        else)."""
        return transfer.present(
            transfer.get_evaluation(get_session(), current_actor(), evaluation_id)
        )


@blp.route("/transfers/<int:evaluation_id>/decisions")
class TransferDecisions(MethodView):
    @blp.doc(requestBody=body_doc(transfer_schemas.DecisionSchema))
    @blp.response(201, ArticulationSchema)
    @writes("catalogue.edit", audit="transfer.decide", private=True)
    def post(self, evaluation_id):
        """Approve a pending result: it becomes an approved articulation."""
        transfer.authorise_decision(get_session(), current_actor(), evaluation_id)
        return transfer.decision_request(get_session(), current_actor(), evaluation_id, json_body())


class RejectionAnswerSchema(Schema):
    result_index = fields.Integer()
    outcome = fields.String(metadata={"description": "rejected"})
    reason = fields.String()
    decided_by = fields.String()
    decided_on = fields.String()


@blp.route("/transfers/<int:evaluation_id>/rejections")
class TransferRejections(MethodView):
    @blp.doc(requestBody=body_doc(transfer_schemas.RejectionSchema))
    @blp.response(201, RejectionAnswerSchema)
    @writes("catalogue.edit", audit="transfer.decide", private=True)
    def post(self, evaluation_id):
        """Reject a pending result, with the reason (required): none of its suggestions counts
        for it, and no articulation is made."""
        transfer.authorise_decision(get_session(), current_actor(), evaluation_id)
        return transfer.rejection_request(
            get_session(), current_actor(), evaluation_id, json_body()
        )


@blp.route("/transfers/<int:evaluation_id>/elmo")
class TransferElmo(MethodView):
    @blp.doc(
        responses={
            "200": {
                "description": "The decision as an ELMO document.",
                "content": {"application/xml": {}},
            }
        }
    )
    def get(self, evaluation_id):
        """The decision as ELMO XML, for the sending institution (read as the evaluation is)."""
        row = transfer.get_evaluation(get_session(), current_actor(), evaluation_id)
        return Response(elmo.export_elmo(row), mimetype="application/xml")


@blp.route("/articulations")
class Articulations(MethodView):
    @blp.arguments(ArticulationQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, ArticulationSchema(many=True))
    def get(self, institution, course, status):
        """Articulations, filtered by institution, course and status."""
        return articulations.list_articulations(
            get_session(), institution_id=institution, course_id=course, status=status
        )

    @blp.doc(requestBody=body_doc(articulation_schemas.ArticulationRecordSchema))
    @blp.response(201, ArticulationSchema)
    @writes("catalogue.edit", audit="articulation.create")
    def post(self):
        """Add an articulation (the receiving institution's account, or an admin)."""
        return articulations.create_articulation(get_session(), current_actor(), json_body())


@blp.route("/articulations/<int:articulation_id>")
class ArticulationById(MethodView):
    @blp.response(200, ArticulationSchema)
    def get(self, articulation_id):
        """One articulation."""
        return articulations.get_articulation(get_session(), articulation_id)

    @blp.doc(requestBody=body_doc(articulation_schemas.ArticulationChangeSchema))
    @blp.response(200, ArticulationSchema)
    @writes("catalogue.edit", audit="articulation.update")
    def patch(self, articulation_id):
        """Approve, reject or change an articulation (the receiving institution, or an admin)."""
        return articulations.update_articulation(
            get_session(), current_actor(), articulation_id, json_body()
        )
