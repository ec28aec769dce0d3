"""The review queue of ambiguous institution matches: the entries an admin or a ministry decides,
one entry with the matcher's candidates and the evidence behind each, and the decision (confirm
a candidate, or reject them all, with a note).

The same services as registry/api/match_reviews.py, with the same permissions: they refuse
anyone but an admin or the ministry of the entry's country.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from marshmallow import ValidationError

from registry.auth import current_actor
from registry.core.errors import InvalidData
from registry.core.normalise import whole_number
from registry.match_reviews import services
from registry.match_reviews.models import STATES
from registry.match_reviews.schemas import ReviewQuerySchema
from registry.web.base import blp, field_messages, get_session, task

# Entries on one page of the queue.
PAGE = 25

task(
    "match_reviews",
    lazy_gettext("Match reviews"),
    lazy_gettext(
        "decide which institution an ambiguous spelling on a credential names, so the next "
        "one spelt so matches it."
    ),
    roles=("ministry",),
)


@blp.get("/match-reviews")
def match_reviews():
    query = listing_query()
    # One more than a page: whether a next page exists, without counting the queue.
    rows = services.list_reviews(
        get_session(),
        current_actor(),
        query["state"],
        query["country"],
        PAGE + 1,
        query["offset"],
    )
    return render_template(
        "reviews/list.html",
        reviews=rows[:PAGE],
        query=query,
        states=STATES,
        previous=max(query["offset"] - PAGE, 0) if query["offset"] else None,
        next=query["offset"] + PAGE if len(rows) > PAGE else None,
    )


@blp.get("/match-reviews/<int:review_id>")
def match_review(review_id: int):
    return detail_page(review_id)


@blp.post("/match-reviews/<int:review_id>/confirm")
def confirm_match(review_id: int):
    body: dict[str, Any] = {"reason": request.form.get("reason") or None}
    chosen = request.form.get("institution_id")
    if chosen:
        # The schema takes a JSON number; a form sends text. Anything but a database-sized
        # number goes as it came, for the schema to refuse.
        body["institution_id"] = whole_number(chosen) or chosen
    try:
        decided = services.confirm(get_session(), current_actor(), review_id, body)
    except InvalidData as error:
        return detail_page(review_id, error, "confirm"), 400
    name = next(
        (c["name"] for c in decided["candidates"] if c["id"] == decided["institution_id"]),
        str(decided["institution_id"]),
    )
    if decided["alias_added"]:
        message = gettext(
            "“%(spelling)s” is confirmed as %(name)s and is now one of its names: the next "
            "credential spelt so matches it.",
            spelling=decided["query"],
            name=name,
        )
    else:
        message = gettext(
            "“%(spelling)s” is confirmed as %(name)s, which had that name already.",
            spelling=decided["query"],
            name=name,
        )
    flash(message)
    return redirect(url_for("web.match_reviews", country=decided["country"]))


@blp.post("/match-reviews/<int:review_id>/reject")
def reject_match(review_id: int):
    body = {"reason": request.form.get("reason", "")}
    try:
        decided = services.reject(get_session(), current_actor(), review_id, body)
    except InvalidData as error:
        return detail_page(review_id, error, "reject"), 400
    flash(
        gettext(
            "The candidates for “%(spelling)s” are rejected: it is not asked again while the "
            "matcher offers the same ones.",
            spelling=decided["query"],
        )
    )
    return redirect(url_for("web.match_reviews", country=decided["country"]))


def listing_query() -> dict[str, Any]:
    """The queue's filters from the query string, loaded as the API loads them; a field left
    empty in the filter form is the default."""
    asked = {k: request.args[k] for k in ("state", "country", "offset") if request.args.get(k)}
    try:
        return ReviewQuerySchema().load(asked)
    except ValidationError as error:
        raise InvalidData("The filter is invalid.", errors=error.messages) from error


def detail_page(review_id: int, problem: InvalidData | None = None, sent: str = "") -> str:
    """One entry; when a decision was refused as invalid, its problem beside the form `sent`
    ("confirm" or "reject"), filled in again as it was sent."""
    review = services.get_review(get_session(), current_actor(), review_id)
    problems: dict[str, list[str]] = {}
    for field, message in field_messages(problem.errors if problem else {}):
        problems.setdefault(field, []).append(message)
    return render_template(
        "reviews/detail.html",
        review=review,
        problem=problem,
        problems=problems,
        sent=sent,
        form=request.form if sent else {},
    )
