"""Pathway queries both ways, and evaluations stored like transfer evaluations.

"Where does this credential count?" and "what counts toward this programme?" read approved
pathways only (public). An evaluation judges a learner's credentials against a programme's
approved pathways (mappings.pathways.evaluation), is stored with the digest of its canonical
inputs, and is private to the programme's institution, as transfer evaluations are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from frameworks import services as frameworks
from mappings import services as conversions
from mappings.case import digest
from mappings.pathways.decide import still_needed
from mappings.pathways.evaluation import run, terms_of
from mappings.pathways.schemas import (
    PathwayEvaluationRequestSchema,
    TowardQuerySchema,
    WhereQuerySchema,
)
from mappings.transfer.inputs import inputs as transcript_inputs
from registry.catalogue.models import Course, Qualification, Transcript
from registry.catalogue.pathways import services as pathways_store
from registry.catalogue.pathways.models import Pathway, PathwayEvaluation
from registry.core import audit
from registry.core.errors import Hidden, InvalidData, NotFound
from registry.core.permissions import Actor, Target, authorize, institution_owner
from registry.institutions.models import Institution
from registry.institutions.private import readable
from registry.match_reviews.services import Sightings
from registry.verifications import services as verifications

# Who may evaluate toward a programme: its institution's account or an admin (the scope check
# of assessment.create on a non-assessment target, as transfer evaluations take it).
EVALUATE = "assessment.create"


# --- queries ----------------------------------------------------------------------------------


def _query(schema: Any, raw: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(raw)
    except ValidationError as error:
        raise InvalidData("The query is invalid.", errors=error.messages) from error


def _unit(session: Session, unit: str | None) -> str | None:
    """A credit system the registry knows (InvalidData on "unit" otherwise), or None."""
    if unit is None:
        return None
    return frameworks.get_credit_system(session, unit.strip().upper(), "unit").code


def _converted(session: Session, pathway: Pathway, unit: str | None) -> dict[str, Any] | None:
    """The pathway's credits in `unit` with the method and basis; None when they cannot be."""
    try:
        return conversions.credits(session, pathway.credits, pathway.credit_system, unit).as_dict()
    except InvalidData:
        return None


def _entry(session: Session, pathway: Pathway, unit: str | None, held: set) -> dict[str, Any]:
    shown = pathways_store.present(pathway)
    needed = still_needed(terms_of(pathway), held)
    shown["still_needed"] = {
        "count": needed["count"],
        "from": [shown["credentials"][position] for position in needed["from"]],
    }
    if unit is not None:
        shown["credits_converted"] = _converted(session, pathway, unit)
    return shown


def where_it_counts(
    session: Session,
    actor: Actor,
    *,
    qualification_id: int | None = None,
    course_id: int | None = None,
    unit: str | None = None,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Every approved pathway valid on `on` (default today) that accepts the qualification or
    course, across institutions and countries, with its credits in `unit` when asked and what
    else it needs besides this credential. Public: drafts are never read.

    NotFound for an unknown credential; InvalidData for an unknown unit or neither/both ids."""
    query = _query(
        WhereQuerySchema(),
        {"qualification": qualification_id, "course": course_id, "unit": unit, "on": on},
    )
    kind = "qualification" if query["qualification"] is not None else "course"
    record_id = query["qualification"] or query["course"]
    record = session.get(Qualification if kind == "qualification" else Course, record_id)
    if record is None:
        raise NotFound(f"No {kind} {record_id}.", id=record_id)
    unit = _unit(session, query["unit"])
    day = query["on"] or dt.date.today()
    found = pathways_store.approved_on(
        session,
        day,
        qualification_ids=(record.id,) if kind == "qualification" else (),
        course_ids=(record.id,) if kind == "course" else (),
    )
    issuer = session.get(Institution, record.institution_id) if record.institution_id else None
    return {
        "credential": {
            "kind": kind,
            "id": record.id,
            "code": record.code,
            "title": record.title,
            "institution": {"id": issuer.id, "name": issuer.name, "country": issuer.country}
            if issuer
            else None,
        },
        "on": day.isoformat(),
        "unit": unit,
        "pathways": [_entry(session, p, unit, {(kind, record.id)}) for p in found],
    }


def toward_programme(
    session: Session,
    actor: Actor,
    programme_id: int,
    *,
    unit: str | None = None,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Every approved pathway valid on `on` (default today) toward the programme, with its
    credits in `unit` when asked and what it needs (all, or any k of n). Public.

    NotFound for an unknown programme; InvalidData for an unknown unit."""
    query = _query(TowardQuerySchema(), {"programme": programme_id, "unit": unit, "on": on})
    programme = session.get(Qualification, query["programme"])
    if programme is None:
        raise NotFound(f"No programme {query['programme']}.", id=query["programme"])
    unit = _unit(session, query["unit"])
    day = query["on"] or dt.date.today()
    found = pathways_store.approved_on(session, day, programme_id=programme.id)
    return {
        "programme": {
            "id": programme.id,
            "code": programme.code,
            "title": programme.title,
            "institution_id": programme.institution_id,
            "credits": audit.plain(programme.credits),
            "credit_system": programme.credit_system,
        },
        "on": day.isoformat(),
        "unit": unit,
        "pathways": [_entry(session, p, unit, set()) for p in found],
    }


# --- evaluations ------------------------------------------------------------------------------


def _target(programme: Qualification) -> Target:
    """An evaluation is made for the programme's institution: its scope decides, and a refusal
    is recorded against the programme it was asked for."""
    return Target("qualification", str(programme.id), institution=str(programme.institution_id))


def _programme(session: Session, actor: Actor, programme_id: int) -> Qualification:
    """The programme, once the actor may evaluate for its institution."""
    programme = session.get(Qualification, programme_id)
    if programme is None or programme.institution_id is None:
        detail = (
            f"No programme {programme_id}."
            if programme is None
            else f"Qualification {programme_id} is in no institution's catalogue: no pathway "
            "leads toward it."
        )
        raise InvalidData(detail, errors={"programme": [detail]})
    authorize(actor, EVALUATE, _target(programme), "pathway.evaluate")
    return programme


def _inputs(
    session: Session, actor: Actor, request: dict[str, Any], programme: Qualification
) -> dict[str, Any]:
    """The canonical inputs: what the digest is taken of. A stored transcript is read as
    transfer credit reads it (private to the institution that received it, and evaluated only
    for it); its learner is left out: the evaluation needs only the results."""
    on = request["on"] or dt.date.today()
    transcripts = []
    for transcript_id in request["transcripts"]:
        read = transcript_inputs(session, actor, transcript_id, programme.institution_id, on)
        transcripts.append(
            {
                key: read[key]
                for key in ("transcript_id", "issuer", "issuer_institution_id", "results")
            }
        )
    return audit.plain(
        {
            "programme_id": programme.id,
            "on": on,
            "credentials": request["credentials"],
            "transcripts": transcripts,
        }
    )


def evaluate_pathways(session: Session, actor: Actor, raw: Any) -> dict[str, Any]:
    """Evaluate a learner's credentials against every approved pathway toward a programme,
    store the evaluation (owned by the programme's institution) and answer it.

    raw: {"programme": id, "credentials": [HeldCredentialSchema], "transcripts": [ids],
    "on": date}. PermissionDenied unless the actor is the programme institution's account or an
    admin; InvalidData listing every problem of the request."""
    try:
        request = PathwayEvaluationRequestSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as error:
        raise InvalidData(
            "The pathway evaluation request is invalid.", errors=error.messages
        ) from error
    programme = _programme(session, actor, request["programme"])
    inputs = _inputs(session, actor, request, programme)
    pathways = list(
        session.scalars(
            select(Pathway)
            .where(Pathway.programme_id == programme.id, Pathway.status == "approved")
            .order_by(Pathway.id)
        )
    )
    result = {**run(session, inputs, programme, pathways), "inputs_digest": digest(inputs)}
    named = [t["transcript_id"] for t in inputs["transcripts"]]
    if named:
        # What each stored transcript's file was found to be when imported (not an input).
        ids = {
            row.id: row.verification_id
            for row in session.scalars(select(Transcript).where(Transcript.id.in_(named)))
        }
        found = verifications.verdicts(session, list(ids.values()))
        shown = {t: found[v] for t, v in ids.items() if v in found}
        if shown:
            result["verifications"] = [
                {"transcript_id": t, **verdict} for t, verdict in sorted(shown.items())
            ]
    row = PathwayEvaluation(
        actor=actor.name,
        institution_id=programme.institution_id,
        programme_id=programme.id,
        inputs=inputs,
        inputs_digest=result["inputs_digest"],
        result=result,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "pathway.evaluate",
        f"pathway_evaluation:{row.id}",
        after={"inputs_digest": row.inputs_digest, "summary": result["summary"]},
    )
    # An issuer found only ambiguously is queued for review, as assessments and transfer
    # evaluations queue theirs; each issuer once.
    sightings = Sightings()
    issuers = {
        (c["issuer"]["name"], c["issuer"]["country"]): c["issuer"] for c in result["credentials"]
    }
    for issuer in issuers.values():
        sightings.met(
            issuer["name"],
            issuer["country"],
            issuer,
            "pathway_evaluation",
            row.id,
            institution_owner(programme.institution_id),
        )
    sightings.write(session)
    return present(row)


def present(row: PathwayEvaluation) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": audit.plain(row.created_at),
        "actor": row.actor,
        **row.result,
    }


def get_pathway_evaluation(session: Session, actor: Actor, evaluation_id: int) -> PathwayEvaluation:
    """A stored evaluation, for the programme institution's accounts and admins (and the
    ministry the law lets read them); to anyone else, anonymous included, it answers as an
    unknown id does (NotFound; Hidden, which the boundary answers as NotFound)."""
    row = session.get(PathwayEvaluation, evaluation_id)
    detail = f"No pathway evaluation {evaluation_id}."
    if row is None:
        raise NotFound(detail, id=evaluation_id)
    if not readable(session, actor, institution_owner(row.institution_id)):
        raise Hidden(
            detail,
            action="pathway.read",
            target=f"pathway_evaluation:{evaluation_id}",
            id=evaluation_id,
        )
    return row


# Enough for a page of an office's recent work; older ones stay readable by id.
MAX_LISTED = 200


def evaluations_for(session: Session, actor: Actor, institution_id: int) -> list[PathwayEvaluation]:
    """The latest MAX_LISTED evaluations toward the institution's programmes, newest first, for
    those who may read them (as `get_pathway_evaluation`); NotFound to anyone else."""
    if not readable(session, actor, institution_owner(institution_id)):
        raise NotFound(
            f"No pathway evaluations of institution {institution_id}.", id=institution_id
        )
    return list(
        session.scalars(
            select(PathwayEvaluation)
            .where(PathwayEvaluation.institution_id == institution_id)
            .order_by(PathwayEvaluation.id.desc())
            .limit(MAX_LISTED)
        )
    )
