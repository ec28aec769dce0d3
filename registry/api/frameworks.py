"""Frameworks, their versions and levels; drafts, edits and publication by their authorities."""

from flask.views import MethodView

from frameworks import editing, services
from frameworks.schemas import (
    DraftLevelSchema,
    FrameworkFileSchema,
    FrameworkQuerySchema,
    FrameworkSchema,
    LevelSchema,
    LinkSchema,
    LoadResultSchema,
    VersionDetailSchema,
    VersionSchema,
    draft_url,
)
from mappings import impact
from mappings.schemas import ImpactQuerySchema, ImpactSchema
from registry.api import Blueprint, body_doc, json_body, writes
from registry.api.caching import public_read
from registry.auth import current_actor
from registry.sessions import get_session

blp = Blueprint("frameworks", __name__, description="Qualifications frameworks and their levels")

DRAFT_HEADER = {
    "Content-Location": {
        "description": "The draft the edit went to: /api/v1/frameworks/{code}/versions/{version}.",
        "schema": {"type": "string"},
    }
}


@blp.route("/frameworks")
class Frameworks(MethodView):
    @public_read(services.GRAPH)
    @blp.response(200, FrameworkSchema(many=True))
    def get(self):
        """List frameworks, meta-frameworks first."""
        return services.list_frameworks(get_session())

    @blp.doc(requestBody=body_doc(FrameworkFileSchema))
    @blp.response(201, LoadResultSchema)
    @writes("framework.create", "framework.edit")
    def post(self):
        """Create a framework from a definition file; its first version is a draft (ministry)."""
        return editing.create_framework(get_session(), current_actor(), json_body())


@blp.route("/frameworks/<code>")
class FrameworkByCode(MethodView):
    @public_read(services.GRAPH, anonymous_only=True)
    @blp.response(200, FrameworkSchema)
    def get(self, code):
        """One framework with its published versions, and its drafts (`drafts`) for those who
        may edit it (its ministry, admins)."""
        return services.framework_view(get_session(), current_actor(), code)


@blp.route("/frameworks/<code>/versions")
class Versions(MethodView):
    @blp.doc(requestBody=body_doc(editing.NewDraftSchema, required=False))
    @blp.response(201, VersionDetailSchema)
    @writes("framework.edit", audit="framework.version.create")
    def post(self, code):
        """Start the draft of the next version, a copy of the version in force (ministry)."""
        return editing.new_draft(get_session(), current_actor(), code, json_body(optional=True))


@blp.route("/frameworks/<code>/versions/<version>")
class VersionByLabel(MethodView):
    @public_read(services.GRAPH, anonymous_only=True)
    @blp.response(200, VersionDetailSchema)
    def get(self, code, version):
        """One version with its levels and links; a draft only for its authority."""
        return services.get_version(get_session(), current_actor(), code, version)

    @blp.doc(requestBody=body_doc(FrameworkFileSchema))
    @blp.response(200, LoadResultSchema)
    @writes("framework.edit", audit="framework.version.replace")
    def put(self, code, version):
        """Replace a draft's whole definition (levels and links) with a framework file."""
        return editing.replace_draft(get_session(), current_actor(), code, version, json_body())


@blp.route("/frameworks/<code>/versions/<version>/publish")
class Publish(MethodView):
    @blp.doc(requestBody=body_doc(editing.PublishSchema, required=False))
    @blp.response(200, VersionSchema)
    @writes("framework.publish")
    def post(self, code, version):
        """Publish a draft: it becomes the version in force; the previous one is closed."""
        return editing.publish(
            get_session(), current_actor(), code, version, json_body(optional=True)
        )


@blp.route("/frameworks/<code>/versions/<version>/correct")
class Correct(MethodView):
    @blp.doc(requestBody=body_doc(editing.CorrectionSchema))
    @blp.response(200, VersionSchema)
    @writes("framework.correct")
    def post(self, code, version):
        """Correct the day the version in force takes effect, with a reason (admin; audited)."""
        return editing.correct_publication(
            get_session(), current_actor(), code, version, json_body()
        )


@blp.route("/frameworks/<code>/versions/<version>/impact")
class Impact(MethodView):
    @blp.arguments(ImpactQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, ImpactSchema)
    @writes("framework.impact")
    def post(self, code, version, on):
        """Every equivalence the draft would change, old and new side by side."""
        return impact.impact(get_session(), current_actor(), code, version, on)


@blp.route("/frameworks/<code>/levels")
class Levels(MethodView):
    @public_read(services.GRAPH)
    @blp.arguments(FrameworkQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, LevelSchema(many=True))
    def get(self, code, on):
        """The levels of the version in force on a date (default: the current version)."""
        return services.list_levels(get_session(), code, on)


@blp.route("/frameworks/<code>/levels/<level>")
class LevelByCode(MethodView):
    @public_read(services.GRAPH)
    @blp.response(200, LevelSchema)
    def get(self, code, level):
        """One level of the current version, by code or alias."""
        return services.get_level(get_session(), code, level)

    @blp.doc(requestBody=body_doc(editing.LevelEditSchema))
    @blp.response(200, DraftLevelSchema, headers=DRAFT_HEADER)
    @writes("framework.edit", audit="framework.level.edit")
    def patch(self, code, level):
        """Edit a level's descriptive fields in the draft (started if there is none); the
        answer names the draft (`draft`, and the Content-Location header)."""
        edited = editing.edit_level(get_session(), current_actor(), code, level, json_body())
        return edited, 200, {"Content-Location": draft_url(edited.version)}


@blp.route("/frameworks/<code>/levels/<level>/links")
class LevelLinks(MethodView):
    @blp.doc(requestBody=body_doc(editing.LevelLinkEditSchema(many=True)))
    @blp.response(200, LinkSchema(many=True), headers=DRAFT_HEADER)
    @writes("link.edit", audit="framework.links.replace")
    def put(self, code, level):
        """Replace the links the framework files for one level, in the draft (started if there
        is none): how a level moves. The Content-Location header names the draft."""
        session = get_session()
        links = editing.replace_level_links(session, current_actor(), code, level, json_body())
        draft = services.drafts_of(services.get_framework(session, code))[0]
        return links, 200, {"Content-Location": draft_url(draft)}
