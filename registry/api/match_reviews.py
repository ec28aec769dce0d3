"""The review queue of ambiguous institution matches: listed for an admin or the ministry of the
country, confirmed (the spelling becomes the institution's alias) or rejected."""

from flask.views import MethodView

from registry.api import Blueprint, body_doc, json_body, writes
from registry.auth import current_actor
from registry.match_reviews import services
from registry.match_reviews.schemas import (
    ConfirmSchema,
    MatchReviewSchema,
    RejectSchema,
    ReviewQuerySchema,
)
from registry.sessions import get_session

blp = Blueprint(
    "match_reviews",
    __name__,
    description="Ambiguous institution matches, for an admin or the country's ministry to decide",
)


@blp.route("/match-reviews")
class MatchReviews(MethodView):
    @blp.arguments(ReviewQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, MatchReviewSchema(many=True))
    def get(self, state, country, limit, offset):
        """Entries of the queue (open ones by default, most met first): all for an admin, its
        countries' for a ministry; 403 to anyone else."""
        return services.list_reviews(get_session(), current_actor(), state, country, limit, offset)


@blp.route("/match-reviews/<int:review_id>")
class MatchReviewById(MethodView):
    @blp.response(200, MatchReviewSchema)
    def get(self, review_id):
        """One entry, with the records it was met in that the caller may read."""
        return services.get_review(get_session(), current_actor(), review_id)


@blp.route("/match-reviews/<int:review_id>/confirm")
class MatchReviewConfirmation(MethodView):
    @blp.doc(requestBody=body_doc(ConfirmSchema))
    @blp.response(200, MatchReviewSchema)
    @writes("match_review.decide", audit="match_review.confirm")
    def post(self, review_id):
        """Confirm the institution the spelling names (a candidate or another of the country):
        it becomes the institution's alias, so the next credential spelt so matches it."""
        return services.confirm(get_session(), current_actor(), review_id, json_body())


@blp.route("/match-reviews/<int:review_id>/reject")
class MatchReviewRejection(MethodView):
    @blp.doc(requestBody=body_doc(RejectSchema))
    @blp.response(200, MatchReviewSchema)
    @writes("match_review.decide", audit="match_review.reject")
    def post(self, review_id):
        """Reject the candidates, with a reason: the spelling is not queued again while the
        matcher offers the same ones."""
        return services.reject(get_session(), current_actor(), review_id, json_body())
