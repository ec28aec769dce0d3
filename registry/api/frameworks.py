"""Frameworks and their levels."""

from flask.views import MethodView

from frameworks import services
from frameworks.schemas import FrameworkQuerySchema, FrameworkSchema, LevelSchema
from registry.api import Blueprint
from registry.sessions import get_session

blp = Blueprint("frameworks", __name__, description="Qualifications frameworks and their levels")


@blp.route("/frameworks")
class Frameworks(MethodView):
    @blp.response(200, FrameworkSchema(many=True))
    def get(self):
        """List frameworks, meta-frameworks first."""
        return services.list_frameworks(get_session())


@blp.route("/frameworks/<code>")
class FrameworkByCode(MethodView):
    @blp.response(200, FrameworkSchema)
    def get(self, code):
        """One framework with its versions."""
        return services.get_framework(get_session(), code)


@blp.route("/frameworks/<code>/levels")
class Levels(MethodView):
    @blp.arguments(FrameworkQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, LevelSchema(many=True))
    def get(self, code, on):
        """The levels of the version in force on a date (default: the current version)."""
        return services.list_levels(get_session(), code, on)


@blp.route("/frameworks/<code>/levels/<level>")
class LevelByCode(MethodView):
    @blp.response(200, LevelSchema)
    def get(self, code, level):
        """One level of the current version, by code or alias."""
        return services.get_level(get_session(), code, level)
