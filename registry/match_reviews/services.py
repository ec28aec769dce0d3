"""The review queue of ambiguous institution matches: recording what assessments and transfer
evaluations meet, listing it for the people who decide, and their decisions.

Recording is a side effect of work that must not suffer from it: sightings are kept in memory
(`Sightings`) for a whole unit of work (one assessment, a stack, a batch file) and written when
it ends, in a savepoint: one look-up of the decided entries, one insert-or-update per distinct
spelling, one insert of the places. A database error there drops the sightings (logged), never
the assessment. Only spellings stated with a country are queued: the queue is decided per
country, and the matcher looks within the country it is given. Searches are not queued (they
are questions, not credentials, and anyone may ask them).

Who: an admin, or the ministry of the entry's country, reads and decides; nobody else. A
reader sees the spelling, its candidates and how often it was met, and of the records it was
met in only those it may read itself (registry.institutions.private): another office's
assessment stays its own. Every decision is audited, and a confirmation that adds the spelling
as an alias of the institution leaves that institution's own event too.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from registry.core import audit, changes
from registry.core.countries import is_country
from registry.core.errors import Conflict, InvalidData, NotFound
from registry.core.normalise import name_key
from registry.core.permissions import Actor, Target, authorize, authorize_role
from registry.institutions import services as institutions
from registry.institutions.models import Institution, InstitutionName
from registry.institutions.private import readable
from registry.match_reviews.models import MatchReview, MatchReviewSighting
from registry.match_reviews.schemas import ConfirmSchema, RejectSchema

log = logging.getLogger(__name__)

# A spelling longer than an institution's name may be (InstitutionName.value) could never
# become an alias: it is not queued.
MAX_QUERY = 400
# Candidates kept per entry: an assessment is offered three.
MAX_CANDIDATES = 10
# Places shown per entry in a listing, from how many of its latest sightings; one entry's own
# page reads more of them.
LISTED_PLACES, LISTED_SCAN = 10, 100
SHOWN_PLACES = 1000


# --- recording --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Met:
    query: str
    key: str
    country: str
    candidates: tuple[dict[str, Any], ...]
    place: str
    place_id: int
    owner: dict[str, Any] | None


class Sightings:
    """Ambiguous matches met during one unit of work, written together by `write`."""

    def __init__(self) -> None:
        self._met: list[_Met] = []

    def met(
        self,
        query: str | None,
        country: str | None,
        found: dict[str, Any],
        place: str,
        place_id: int,
        owner: dict[str, Any] | None,
    ) -> None:
        """Note the matcher's answer `found` ({"verdict", "candidates"}, as assessments and
        evaluations store it) for `query` in `country`, met in the record `place` `place_id`
        of `owner`; only an ambiguous one with a country is kept."""
        if found.get("verdict") != "ambiguous" or not found.get("candidates"):
            return
        country = (country or "").strip().upper()
        key = name_key(query or "")
        if not is_country(country) or not key or len(key) > MAX_QUERY or len(query) > MAX_QUERY:
            return
        candidates = tuple(
            {k: c[k] for k in ("id", "name", "country", "score", "matched_on")}
            for c in found["candidates"][:MAX_CANDIDATES]
        )
        self._met.append(_Met(query.strip(), key, country, candidates, place, place_id, owner))

    def write(self, session: Session) -> None:
        """Queue what was noted, and forget it. Never raises for the database: what cannot be
        written is logged and dropped, and the work that met it goes on."""
        met, self._met = self._met, []
        if not met:
            return
        try:
            with session.begin_nested():
                _write(session, met)
        except SQLAlchemyError:
            log.exception("%d ambiguous match(es) could not be queued for review", len(met))


def _write(session: Session, met: list[_Met]) -> None:
    now = dt.datetime.now(dt.UTC)
    groups: dict[tuple[str, str, str], list[_Met]] = {}
    for item in met:
        ids = ",".join(str(i) for i in sorted(c["id"] for c in item.candidates))
        groups.setdefault((item.country, item.key, ids), []).append(item)
    decided = _decided(session, groups)
    dialect = session.get_bind().dialect.name
    places = []
    # In one order for every writer, so that two batches meeting the same spellings never wait
    # for each other crosswise (a deadlock on PostgreSQL).
    for (country, key, ids), items in sorted(groups.items()):
        review_id = decided.get((country, key, ids))
        if review_id is None:
            first = items[-1]
            review_id = session.execute(
                _upsert_open(dialect),
                {
                    "query": first.query,
                    "query_key": key,
                    "country": country,
                    "state": "open",
                    "candidates": list(first.candidates),
                    "candidate_ids": ids,
                    "times": len(items),
                    "first_seen_at": now,
                    "last_seen_at": now,
                },
            ).scalar_one()
        else:
            # That question was answered: counted on its decision, not asked again.
            session.execute(_COUNT_DECIDED, {"review": review_id, "more": len(items), "now": now})
        seen = {(item.place, item.place_id): item.owner for item in items}
        places += [
            {"review_id": review_id, "place": p, "place_id": i, "owner": owner, "at": now}
            for (p, i), owner in seen.items()
        ]
    session.execute(_SIGHTINGS, places)


# The statements, built once: building them costs more than running them.
_review = MatchReview.__table__
_SIGHTINGS = MatchReviewSighting.__table__.insert()
_COUNT_DECIDED = (
    _review.update()
    .where(_review.c.id == bindparam("review"))
    .values(times=_review.c.times + bindparam("more"), last_seen_at=bindparam("now"))
)
_DECIDED = (
    select(_review.c.id, _review.c.country, _review.c.query_key, _review.c.candidate_ids)
    .where(
        _review.c.country.in_(bindparam("countries", expanding=True)),
        _review.c.query_key.in_(bindparam("keys", expanding=True)),
        _review.c.state != "open",
    )
    .order_by(_review.c.id)
)


def _decided(
    session: Session, groups: dict[tuple[str, str, str], list[_Met]]
) -> dict[tuple[str, str, str], int]:
    """(country, spelling, candidate ids) -> the latest decided entry offered those candidates:
    that question was answered."""
    found: dict[tuple[str, str, str], int] = {}
    spellings = sorted(groups)
    for start in range(0, len(spellings), 400):
        chunk = spellings[start : start + 400]
        rows = session.execute(
            _DECIDED,
            {
                "countries": sorted({c for c, _, _ in chunk}),
                "keys": sorted({k for _, k, _ in chunk}),
            },
        )
        found.update({(r.country, r.query_key, r.candidate_ids): r.id for r in rows})
    return found


@functools.cache
def _upsert_open(dialect: str):
    """Add to the open entry of the spelling, or open one; the candidates become the latest."""
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(_review)
    return statement.on_conflict_do_update(
        index_elements=[_review.c.country, _review.c.query_key],
        # A literal, not a parameter: PostgreSQL matches the partial index by its predicate when
        # it plans, and a prepared statement (psycopg prepares one after five runs on a
        # connection) plans without the parameter's value, so it would find no index.
        index_where=_review.c.state == literal_column("'open'"),
        set_={
            "times": _review.c.times + statement.excluded.times,
            "last_seen_at": statement.excluded.last_seen_at,
            "candidates": statement.excluded.candidates,
            "candidate_ids": statement.excluded.candidate_ids,
        },
    ).returning(_review.c.id)


# --- reading ----------------------------------------------------------------------------------


def target_of(review: MatchReview) -> Target:
    """An entry belongs to the ministry of its country (and to admins)."""
    return Target("match_review", str(review.id), country=review.country)


def _countries(actor: Actor, country: str | None) -> list[str] | None:
    """The countries whose entries the actor asks for and may read; None: every country."""
    if country is not None:
        authorize(actor, "match_review.read", Target("match_review", country, country=country))
        return [country]
    authorize_role(actor, "match_review.read")
    if actor.role == "admin":
        return None
    return sorted(scope for scope in actor.scopes if is_country(scope))


def list_reviews(
    session: Session,
    actor: Actor,
    state: str = "open",
    country: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Entries in `state` of the countries the actor decides for (an admin: all; a ministry:
    its own; anyone else PermissionDenied, a country outside its scope too). Open entries
    most met first; decided ones latest decision first. Values as ReviewQuerySchema loads them."""
    countries = _countries(actor, country)
    query = select(MatchReview).where(MatchReview.state == state)
    if countries is not None:
        query = query.where(MatchReview.country.in_(countries))
    if state == "open":
        query = query.order_by(MatchReview.times.desc(), MatchReview.last_seen_at.desc())
    else:
        query = query.order_by(MatchReview.decided_at.desc())
    rows = session.scalars(
        query.order_by(MatchReview.id)
        .limit(limit)
        .offset(offset)
        .execution_options(populate_existing=True)
    ).all()
    places = _places(session, actor, [row.id for row in rows], LISTED_SCAN, LISTED_PLACES)
    return [shown(row, places.get(row.id, [])) for row in rows]


def get_review(session: Session, actor: Actor, review_id: int) -> dict[str, Any]:
    """One entry with the places it was met in that the actor may read. NotFound for an unknown
    id; PermissionDenied for anyone but an admin or the ministry of its country."""
    authorize_role(actor, "match_review.read")
    review = get_entry(session, review_id)
    authorize(actor, "match_review.read", target_of(review))
    places = _places(session, actor, [review.id], SHOWN_PLACES, SHOWN_PLACES)
    return shown(review, places.get(review.id, []))


def get_entry(session: Session, review_id: int, lock: bool = False) -> MatchReview:
    """The entry as stored, unchecked (callers authorise on it); NotFound for an unknown id."""
    query = select(MatchReview).where(MatchReview.id == review_id)
    review = session.scalar(
        (query.with_for_update() if lock else query).execution_options(populate_existing=True)
    )
    if review is None:
        raise NotFound(f"No match review {review_id}.", id=review_id)
    return review


def _places(
    session: Session, actor: Actor, review_ids: list[int], scan: int, keep: int
) -> dict[int, list[dict[str, Any]]]:
    """For each entry, the records it was met in that `actor` may read, latest first: at most
    `keep` of its `scan` latest sightings."""
    if not review_ids:
        return {}
    latest = (
        select(
            MatchReviewSighting,
            func.row_number()
            .over(
                partition_by=MatchReviewSighting.review_id,
                order_by=MatchReviewSighting.id.desc(),
            )
            .label("rank"),
        )
        .where(MatchReviewSighting.review_id.in_(review_ids))
        .subquery()
    )
    rows = session.execute(
        select(latest).where(latest.c.rank <= scan).order_by(latest.c.review_id, latest.c.rank)
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        mine = out.setdefault(row.review_id, [])
        if len(mine) < keep and readable(session, actor, row.owner):
            mine.append({"place": row.place, "id": row.place_id, "at": audit.plain(row.at)})
    return out


def shown(review: MatchReview, places: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": review.id,
        "query": review.query,
        "country": review.country,
        "state": review.state,
        "candidates": review.candidates,
        "times": review.times,
        "first_seen_at": audit.plain(review.first_seen_at),
        "last_seen_at": audit.plain(review.last_seen_at),
        "seen_in": places,
        "decided_at": audit.plain(review.decided_at),
        "decided_by": review.decided_by,
        "reason": review.reason,
        "institution_id": review.institution_id,
        "alias_added": review.alias_added,
    }


def _decision(review: MatchReview) -> dict[str, Any]:
    """What an audit event keeps of an entry."""
    return {
        key: value
        for key, value in shown(review, []).items()
        if key not in ("seen_in", "first_seen_at", "last_seen_at")
    }


# --- deciding ---------------------------------------------------------------------------------


def _validated(schema: Schema, raw: Any, what: str) -> dict[str, Any]:
    try:
        return schema.load(raw if raw is not None else {})
    except ValidationError as error:
        raise InvalidData(
            f"The {what} is invalid; nothing was written.", errors=error.messages
        ) from error


def _to_decide(session: Session, actor: Actor, review_id: int, action: str) -> MatchReview:
    """The entry, locked, once the actor may decide it: PermissionDenied for anyone but an admin
    or the ministry of its country, NotFound for an unknown id."""
    authorize_role(actor, "match_review.decide")
    review = get_entry(session, review_id, lock=True)
    authorize(actor, "match_review.decide", target_of(review), action)
    return review


def _still_open(review: MatchReview, action: str) -> None:
    """A decision stands, with who, when and why: Conflict once the entry is decided."""
    if review.state != "open":
        raise Conflict(
            f"Match review {review.id} was {review.state} already, by {review.decided_by} on "
            f"{audit.plain(review.decided_at)}.",
            action=action,
            target=f"match_review:{review.id}",
            existing={"id": review.id, "state": review.state},
        )


def confirm(session: Session, actor: Actor, review_id: int, raw: Any) -> dict[str, Any]:
    """The spelling names `institution_id` (an institution of the entry's country, whether
    offered or not): it becomes that institution's alias, so the next credential spelt so
    matches it outright. InvalidData for an institution that does not exist or is of another
    country; Conflict when another institution of the country has that spelling as its name
    or alias (it would stay ambiguous: the names are to be settled first), or when the entry
    was decided already."""
    review = _to_decide(session, actor, review_id, "match_review.confirm")
    data = _validated(ConfirmSchema(), raw, "confirmation")
    _still_open(review, "match_review.confirm")
    institution = session.get(Institution, data["institution_id"])
    if institution is None or institution.country != review.country:
        problem = (
            f"No institution {data['institution_id']}."
            if institution is None
            else f"Institution {institution.id} is of {institution.country}, not "
            f"{review.country}: the spelling was met for {review.country}, and the matcher "
            "looks for it there."
        )
        raise InvalidData(problem, errors={"institution_id": [problem]})
    other = _spelt_so(session, review, exclude=institution.id)
    if other is not None:
        raise Conflict(
            f"{review.query!r} is a name of institution {other.id} ({other.name}) of "
            f"{review.country} as well: as an alias of institution {institution.id} it would "
            "not decide the next credential. Settle the two institutions' names first, or "
            "reject this entry.",
            action="match_review.confirm",
            target=f"match_review:{review.id}",
            existing={"id": other.id, "name": other.name},
        )
    before = _decision(review)
    review.alias_added = _spelt_so(session, review, only=institution.id) is None
    if review.alias_added:
        _add_alias(session, actor, review, institution)
    _decide(review, actor, "confirmed", data["reason"])
    review.institution_id = institution.id
    session.flush()
    audit.record(
        session,
        actor,
        "match_review.confirm",
        f"match_review:{review.id}",
        before=before,
        after=_decision(review),
    )
    return shown(review, [])


def reject(session: Session, actor: Actor, review_id: int, raw: Any) -> dict[str, Any]:
    """None of the candidates is meant. The entry stays, with who, when and why; the spelling is
    not queued again while the matcher offers the same candidates for it."""
    review = _to_decide(session, actor, review_id, "match_review.reject")
    data = _validated(RejectSchema(), raw, "rejection")
    _still_open(review, "match_review.reject")
    before = _decision(review)
    _decide(review, actor, "rejected", data["reason"])
    session.flush()
    audit.record(
        session,
        actor,
        "match_review.reject",
        f"match_review:{review.id}",
        before=before,
        after=_decision(review),
    )
    return shown(review, [])


def _decide(review: MatchReview, actor: Actor, state: str, reason: str | None) -> None:
    review.state = state
    review.decided_at = dt.datetime.now(dt.UTC)
    review.decided_by = actor.name[:200]
    review.reason = reason


def _spelt_so(
    session: Session, review: MatchReview, *, exclude: int | None = None, only: int | None = None
) -> Institution | None:
    """An institution of the entry's country with the entry's spelling as its name or one of
    its names (acronyms aside: the matcher reads those apart), other than `exclude`, or `only`
    that one."""
    query = (
        select(Institution)
        .outerjoin(
            InstitutionName,
            (InstitutionName.institution_id == Institution.id)
            & (InstitutionName.kind != "acronym"),
        )
        .where(
            Institution.country == review.country,
            (Institution.name_key == review.query_key) | (InstitutionName.key == review.query_key),
        )
        .order_by(Institution.id)
        .limit(1)
    )
    if exclude is not None:
        query = query.where(Institution.id != exclude)
    if only is not None:
        query = query.where(Institution.id == only)
    return session.scalar(query)


def _add_alias(session: Session, actor: Actor, review: MatchReview, institution: Institution):
    before = institutions.snapshot(institution)
    institution.names.append(
        InstitutionName(value=review.query, key=review.query_key, kind="alias")
    )
    institution.updated_at = func.now()
    session.flush()
    # The name index of every process picks the alias up (mappings.institutions).
    changes.renew(session, institutions.CHANGES)
    session.refresh(institution)
    audit.record(
        session,
        actor,
        "institution.alias",
        f"institution:{institution.id}",
        before=before,
        after=institutions.snapshot(institution),
        detail=f"Confirmed in match review {review.id}: {review.query!r} names this institution.",
    )
