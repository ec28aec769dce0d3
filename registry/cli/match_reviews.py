"""`registry match-review ...`: the queue of ambiguous institution matches."""

from __future__ import annotations

import json

import click

from registry.cli.base import (
    DATABASE_ID,
    domain_command,
    emit,
    json_option,
    loaded_query,
    main,
    operator,
    session_scope,
)
from registry.match_reviews import services as match_reviews
from registry.match_reviews.schemas import MatchReviewSchema, ReviewQuerySchema


@main.group("match-review")
def match_review() -> None:
    """Ambiguous institution matches met in assessments and transfer evaluations, to decide."""


def _review_lines(review: dict) -> list[str]:
    lines = [
        f"#{review['id']} {review['state']}: {review['query']!r} ({review['country']}), "
        f"met {review['times']} time(s), last {review['last_seen_at'][:10]}"
    ]
    lines += [
        f"  {c['score']:5.1f}  #{c['id']} {c['name']} [{c['matched_on']}]"
        for c in review["candidates"]
    ]
    if review["seen_in"]:
        places = ", ".join(f"{p['place']} {p['id']}" for p in review["seen_in"])
        lines.append(f"  seen in: {places}")
    if review["state"] != "open":
        chosen = f" institution #{review['institution_id']}" if review["institution_id"] else ""
        alias = " (alias added)" if review["alias_added"] else ""
        why = f": {review['reason']}" if review["reason"] else ""
        lines.append(
            f"  {review['state']}{chosen}{alias} by {review['decided_by']} on "
            f"{review['decided_at'][:10]}{why}"
        )
    return lines


@match_review.command("list")
@click.option("--state", default=None, help="open (the default), confirmed or rejected.")
@click.option("--country", default=None, help="Only this country's entries (ISO 3166-1 alpha-2).")
@click.option("--limit", default=None, type=int, help="At most this many (1-500, default 100).")
@click.option("--offset", default=None, type=int, help="Skip this many first.")
@json_option
@domain_command
def match_review_list(
    state: str | None, country: str | None, limit: int | None, offset: int | None, as_json: bool
) -> None:
    """The queue, open entries most met first, with their candidates as offered."""
    query = loaded_query(
        ReviewQuerySchema(),
        {"state": state, "country": country, "limit": limit, "offset": offset},
    )
    with session_scope() as session:
        found = match_reviews.list_reviews(session, operator(), **query)
    if as_json:
        click.echo(
            json.dumps(MatchReviewSchema(many=True).dump(found), ensure_ascii=False, indent=2)
        )
    else:
        lines = [line for review in found for line in _review_lines(review)]
        click.echo("\n".join(lines) or f"No {query['state']} entries.")


@match_review.command("confirm")
@click.argument("review_id", type=DATABASE_ID)
@click.option(
    "--institution",
    "institution_id",
    required=True,
    type=DATABASE_ID,
    help="The institution meant: a candidate, or another of the entry's country.",
)
@click.option("--reason", default=None, help="Why, if useful; kept and audited.")
@json_option
@domain_command
def match_review_confirm(
    review_id: int, institution_id: int, reason: str | None, as_json: bool
) -> None:
    """Confirm entry REVIEW_ID: its spelling names the institution, and becomes its alias."""
    body = {"institution_id": institution_id, "reason": reason}
    with session_scope() as session:
        review = match_reviews.confirm(session, operator(), review_id, body)
    emit(as_json, review, MatchReviewSchema(), "\n".join(_review_lines(review)))


@match_review.command("reject")
@click.argument("review_id", type=DATABASE_ID)
@click.option("--reason", required=True, help="Why; kept and audited.")
@json_option
@domain_command
def match_review_reject(review_id: int, reason: str, as_json: bool) -> None:
    """Reject entry REVIEW_ID: none of its candidates is meant."""
    with session_scope() as session:
        review = match_reviews.reject(session, operator(), review_id, {"reason": reason})
    emit(as_json, review, MatchReviewSchema(), "\n".join(_review_lines(review)))
