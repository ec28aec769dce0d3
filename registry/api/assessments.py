"""Recognition assessments and the rules behind them."""

from flask.views import MethodView
from marshmallow import Schema, fields

from mappings import recognition, rulebook
from mappings.schemas import (
    AlternativeSchema,
    AssessQuerySchema,
    CredentialSchema,
    RuleWithdrawalSchema,
)
from registry.api import Blueprint, body_doc, json_body, writes
from registry.auth import current_actor
from registry.sessions import get_session

blp = Blueprint("assessments", __name__, description="Recognition assessments and rules")


class AssessmentSchema(Schema):
    """The stored decision; see the README for every part."""

    id = fields.Integer()
    decision = fields.String(
        metadata={
            "description": "recognised | partially_recognised | not_recognised | needs_review"
        }
    )
    confidence = fields.String()
    source = fields.Dict()
    target = fields.Dict()
    path = fields.List(fields.Dict())
    rules = fields.List(fields.Dict(), metadata={"description": "Every rule evaluated, and why."})
    substantial_differences = fields.List(fields.Dict())
    conditions = fields.List(fields.String())
    alternative = fields.Nested(AlternativeSchema, allow_none=True)
    notes = fields.List(fields.String())
    gaps = fields.List(fields.String())
    steps = fields.List(fields.Dict())
    explanation = fields.List(fields.String())
    framework_versions = fields.Dict()
    facts = fields.Dict()
    verification = fields.Dict(
        metadata={
            "description": "The stored verification named by the body's verification_id: id, "
            "verdict, reason, issuer, verified_on, file, and covers (whether the credential "
            "assessed is one the file yielded). Absent when none was named."
        }
    )
    inputs_digest = fields.String()
    inputs = fields.Dict()
    created_at = fields.String()


class RuleSchema(Schema):
    id = fields.String()
    title = fields.String()
    authority = fields.Dict()
    jurisdiction = fields.String()
    priority = fields.Integer()
    valid_from = fields.String(allow_none=True)
    valid_to = fields.String(allow_none=True)
    when = fields.Raw(allow_none=True)
    then = fields.Dict()
    status = fields.String(metadata={"description": "active | withdrawn"})
    withdrawn_at = fields.String()
    withdrawn_by = fields.String()
    withdrawn_reason = fields.String()


class RuleQuerySchema(Schema):
    jurisdiction = fields.String(load_default=None)


@blp.route("/assessments")
class Assessments(MethodView):
    @blp.arguments(AssessQuerySchema, location="query", as_kwargs=True)
    @blp.doc(requestBody=body_doc(CredentialSchema))
    @blp.response(201, AssessmentSchema)
    @writes("assessment.create")
    def post(self, target, target_qualification_type):
        """Assess a credential for a target country or framework, and store the decision; the
        body's `verification_id` names the stored verification of its file."""
        return recognition.assess(
            get_session(), current_actor(), json_body(), target, target_qualification_type
        )


class StackSchema(Schema):
    credentials = fields.List(fields.Nested(CredentialSchema), required=True)


class StackAnswerSchema(Schema):
    id = fields.Integer()
    decision = fields.String()
    confidence = fields.String()
    total_ects = fields.String()
    parts = fields.List(fields.Dict())
    rules = fields.List(fields.Dict())
    substantial_differences = fields.List(fields.Dict())
    conditions = fields.List(fields.String())
    alternative = fields.Nested(AlternativeSchema, allow_none=True)
    explanation = fields.List(fields.String())
    inputs_digest = fields.String()


@blp.route("/assessments/stack")
class Stack(MethodView):
    @blp.arguments(AssessQuerySchema, location="query", as_kwargs=True)
    @blp.doc(requestBody=body_doc(StackSchema))
    @blp.response(201, StackAnswerSchema)
    @writes("assessment.create")
    def post(self, target, target_qualification_type):
        """Assess micro-credentials together as a stack toward a qualification type."""
        return recognition.assess_stack(
            get_session(), current_actor(), json_body(), target, target_qualification_type
        )


@blp.route("/assessments/<int:assessment_id>")
class AssessmentById(MethodView):
    @blp.response(200, AssessmentSchema)
    def get(self, assessment_id):
        """A stored assessment with its inputs: for the office that made it and admins (404 to
        anyone else)."""
        return recognition.get_assessment(get_session(), current_actor(), assessment_id)


@blp.route("/rules")
class Rules(MethodView):
    @blp.arguments(RuleQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, RuleSchema(many=True))
    def get(self, jurisdiction):
        """The rules: the bundled default policy, then the authorities' own."""
        return rulebook.list_rules(get_session(), jurisdiction)

    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "description": "A rule: see mappings/rules.py for the format.",
                    }
                }
            },
        }
    )
    @blp.response(201, RuleSchema)
    @writes("rule.edit", audit="rule.create")
    def post(self):
        """Store a rule (a ministry for its country, an institution for itself)."""
        row = rulebook.create_rule(get_session(), current_actor(), json_body())
        return rulebook.shown(row)


@blp.route("/rules/<rule_id>/withdraw")
class RuleWithdrawal(MethodView):
    @blp.doc(requestBody=body_doc(RuleWithdrawalSchema))
    @blp.response(200, RuleSchema)
    @writes("rule.withdraw")
    def post(self, rule_id):
        """Withdraw a stored rule, with a reason (its authority, or an admin; audited). It stays
        listed as withdrawn and is evaluated no more."""
        row = rulebook.withdraw_rule(get_session(), current_actor(), rule_id, json_body())
        return rulebook.shown(row)
