"""Credit and grade conversions."""

from flask.views import MethodView

from frameworks.services import UNITS
from mappings import services
from mappings.schemas import (
    CreditConversionSchema,
    CreditsQuerySchema,
    GradeConversionSchema,
    GradesQuerySchema,
)
from registry.api import Blueprint
from registry.api.caching import public_read
from registry.sessions import get_session

blp = Blueprint("conversions", __name__, description="Credit volume and grade conversions")


@blp.route("/credits/convert")
class CreditConversion(MethodView):
    @public_read(UNITS)
    @blp.arguments(CreditsQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, CreditConversionSchema)
    def get(self, value, source, target, method, rule):
        """Convert a credit volume (annual load by default; notional hours gives a range)."""
        return services.credits(get_session(), value, source, target, method, rule).as_dict()


@blp.route("/grades/convert")
class GradeConversion(MethodView):
    @public_read(UNITS)
    @blp.arguments(GradesQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, GradeConversionSchema)
    def get(self, value, source, target, method, pass_mark, table, group, institution, country):
        """Convert a grade (two-anchor linear by default, or by distribution tables; a
        conversion table of the institution or the country's ministry applies first)."""
        conversion = services.grades(
            get_session(),
            value,
            source,
            target,
            method,
            pass_mark,
            table,
            group,
            institution,
            country,
        )
        return conversion.as_dict()
