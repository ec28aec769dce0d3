"""Queue entries (one per spelling and country while open) and where each was met."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Base

STATES = ("open", "confirmed", "rejected")
# Records an ambiguous match is met in; a sighting names one by its kind and id.
PLACES = ("assessment", "transfer_evaluation", "pathway_evaluation")


class MatchReview(Base):
    """A spelling of an institution's name, in a country, that the matcher could not decide.

    `query_key` is the spelling's matching form (registry.core.normalise.name_key): spellings
    the matcher cannot tell apart are one entry. While open, an entry takes every new sighting
    and shows the candidates of the latest; decided, it keeps the candidates the person saw,
    and only a sighting with those same candidates (`candidate_ids`) is counted on it: the
    same question is not asked twice, a changed one is asked anew.
    """

    __tablename__ = "match_review"
    __table_args__ = (Index("ix_match_review_country_query_key", "country", "query_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The spelling as first met; a confirmed one becomes the institution's alias as written.
    query: Mapped[str] = mapped_column(String(400))
    query_key: Mapped[str] = mapped_column(String(400))
    country: Mapped[str] = mapped_column(String(2), index=True)
    state: Mapped[str] = mapped_column(String(10), default="open")
    # [{"id", "name", "country", "score", "matched_on"}], best first, as the matcher offered.
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The candidates' ids, sorted and comma-separated: which question this entry answers.
    candidate_ids: Mapped[str] = mapped_column(String(200))
    # How many credentials named it (a sighting may stand for several of one record).
    times: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    # Confirmed: the institution meant, and whether the spelling was added as its alias (it is
    # not when the institution had that spelling already).
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id", ondelete="SET NULL")
    )
    alias_added: Mapped[bool | None] = mapped_column()


# One open entry per spelling and country, however many transactions meet it at once: new
# sightings are written with INSERT ... ON CONFLICT on this index.
_open = MatchReview.state == "open"
Index(
    "uq_match_review_open",
    MatchReview.country,
    MatchReview.query_key,
    unique=True,
    sqlite_where=_open,
    postgresql_where=_open,
)


class MatchReviewSighting(Base):
    """A record the spelling was met in, with that record's owner (as private records store
    it), so that a reader is shown only the places it may read."""

    __tablename__ = "match_review_sighting"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("match_review.id", ondelete="CASCADE"), index=True
    )
    place: Mapped[str] = mapped_column(String(30))
    place_id: Mapped[int] = mapped_column(Integer)
    owner: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
