"""Equivalent levels between frameworks."""

from flask.views import MethodView

from frameworks.services import GRAPH
from mappings import services
from mappings.schemas import EquivalentsQuerySchema, EquivalentsSchema
from registry.api import Blueprint
from registry.api.caching import public_read
from registry.sessions import get_session

blp = Blueprint(
    "equivalents", __name__, description="Level equivalences with their paths and sources"
)


@blp.route("/equivalents")
class Equivalents(MethodView):
    @public_read(GRAPH)
    @blp.arguments(EquivalentsQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, EquivalentsSchema)
    def get(self, level, target, on):
        """Equivalents of a level in a target framework, best first, each with its path."""
        return services.equivalents(get_session(), level, target, on)
