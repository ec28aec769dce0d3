"""A transcript, stored or given as JSON, read as the canonical inputs of one evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from mappings.transfer.schemas import TranscriptSchema
from registry.catalogue.models import Transcript
from registry.core import audit
from registry.core.db import MAX_ID
from registry.core.errors import InvalidData, NotFound, PermissionDenied
from registry.core.permissions import Actor, institution_owner
from registry.institutions.models import SCHEMES
from registry.institutions.private import readable


def _stored(
    session: Session, actor: Actor, transcript_id: int, receiving_id: int
) -> dict[str, Any]:
    """A stored transcript in the JSON shape; only its leaves (programmes and modules that hold
    other results are not courses).

    A transcript is private to the institution that received it (and admins): to anyone else it
    does not exist, so another's answers exactly as an unknown id does. It is evaluated only for
    the institution that received it; one received by none (the registry's own: an admin
    imported it for no institution) only by an admin."""
    transcript = session.get(Transcript, transcript_id)
    if transcript is None or not readable(
        session, actor, institution_owner(transcript.received_by_institution_id)
    ):
        raise InvalidData(
            f"No transcript {transcript_id}.",
            errors={"transcript": [f"No transcript {transcript_id}."]},
        )
    if transcript.received_by_institution_id not in (None, receiving_id):
        raise PermissionDenied(
            f"Transcript {transcript_id} was received by institution "
            f"{transcript.received_by_institution_id}, not by {receiving_id}.",
            action="transfer.evaluate",
            target=f"transcript:{transcript_id}",
        )
    parents = {result.parent_local_id for result in transcript.results if result.parent_local_id}
    results = []
    for row in transcript.results:
        if row.local_id in parents:
            continue
        results.append(
            {
                "code": row.code,
                "title": row.title,
                "language": row.language,
                "credits": None if row.credits is None else str(row.credits),
                "credit_system": row.credit_system,
                "grade": row.grade,
                "grading_scheme": row.grading_scheme,
                "grade_distribution": row.grade_distribution,
                "status": row.status,
                "level": row.level or (f"EQF:{row.eqf_level}" if row.eqf_level else None),
                "isced_f": row.isced_f,
                "ended_on": row.ended_on.isoformat() if row.ended_on else None,
            }
        )
    issuer = {
        "name": transcript.issuer_name,
        "country": transcript.issuer_country,
        "identifiers": {
            scheme: value
            for scheme, value in (transcript.issuer_identifiers or {}).items()
            if scheme in SCHEMES
        },
    }
    learner = (
        {"given_names": None, "family_name": transcript.learner_name}
        if transcript.learner_name
        else None
    )
    return {
        "issuer": issuer,
        "learner": learner,
        "results": results,
        "issuer_institution_id": transcript.issuer_institution_id,
    }


def inputs(
    session: Session, actor: Actor, transcript: Any, receiving_id: int, on: dt.date
) -> dict[str, Any]:
    """The validated, canonical inputs of one evaluation: what the digest is taken of."""
    known_issuer = None
    transcript_id = None
    if isinstance(transcript, int) and not isinstance(transcript, bool):
        if not 1 <= transcript <= MAX_ID:
            raise NotFound(f"No transcript {transcript}.", id=transcript)
        transcript_id = transcript
        raw = _stored(session, actor, transcript, receiving_id)
        known_issuer = raw.pop("issuer_institution_id")
    elif isinstance(transcript, dict):
        raw = transcript
    else:
        raise InvalidData(
            "Give a stored transcript's id or a transcript object.",
            errors={"transcript": ["An id or an object."]},
        )
    try:
        data = TranscriptSchema().load(raw)
    except ValidationError as error:
        raise InvalidData(
            "The transcript cannot be evaluated as given.", errors={"transcript": error.messages}
        ) from error
    issuer = data["issuer"]
    if not issuer["name"] and not issuer["identifiers"] and known_issuer is None:
        raise InvalidData(
            "The transcript does not say who issued it.",
            errors={"transcript": {"issuer": ["Give a name or identifiers."]}},
        )
    return audit.plain(
        {
            "transcript_id": transcript_id,
            "issuer": issuer,
            "issuer_institution_id": known_issuer,
            "learner": data["learner"],
            "results": data["results"],
            "receiving_institution_id": receiving_id,
            "on": on,
        }
    )
