"""The audit trail."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from registry.api import Blueprint
from registry.auth import current_actor
from registry.core.audit import events_for
from registry.core.permissions import authorize
from registry.ownership import audit_target
from registry.sessions import get_session

blp = Blueprint("audit", __name__, description="Every write, allowed or refused")


class AuditQuerySchema(Schema):
    entity = fields.String(
        load_default=None,
        validate=validate.Length(1, 200),
        metadata={"example": "framework:IE-NFQ"},
    )
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    actor_role = fields.String()
    action = fields.String()
    entity = fields.String()
    outcome = fields.String()
    before = fields.Raw()
    after = fields.Raw()
    detail = fields.String()
    request_id = fields.String()


@blp.route("/audit")
class Audit(MethodView):
    @blp.arguments(AuditQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, AuditEventSchema(many=True))
    def get(self, entity, limit):
        """Audit events, newest first: all for admins, an entity's own for its owner."""
        session = get_session()
        authorize(current_actor(), "audit.read", audit_target(session, entity))
        return events_for(session, entity, limit)
