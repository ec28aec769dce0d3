"""Transfer evaluations stored and read, and the decisions a person takes on pending results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mappings.case import digest
from mappings.transfer.evaluation import course_entry, plain_number, run
from mappings.transfer.inputs import inputs as read_inputs
from mappings.transfer.schemas import DecisionSchema, RejectionSchema, TransferRequestSchema
from registry.catalogue.articulations.models import Articulation, TransferEvaluation
from registry.catalogue.articulations.services import create_articulation
from registry.catalogue.models import Course, Transcript
from registry.core import audit
from registry.core.errors import Conflict, Hidden, InvalidData, NotFound
from registry.core.permissions import Actor, Target, authorize, institution_owner
from registry.institutions.models import Institution
from registry.institutions.private import readable
from registry.match_reviews.services import Sightings
from registry.verifications import services as verifications

# Who may evaluate for an institution: its own account or an admin (the scope check of
# assessment.create on a non-assessment target; registrars and ministries have no such scope).
EVALUATE = "assessment.create"


def _target(institution_id: int) -> Target:
    return Target("transfer", str(institution_id), institution=str(institution_id))


def _receiving(session: Session, actor: Actor, institution_id: Any, operation: str) -> Institution:
    if not isinstance(institution_id, int) or isinstance(institution_id, bool):
        raise InvalidData(
            "Name the receiving institution by its id.",
            errors={"institution": ["An institution id."]},
        )
    authorize(actor, EVALUATE, _target(institution_id), operation)
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise InvalidData(
            f"No institution {institution_id}.",
            errors={"institution": [f"No institution {institution_id}."]},
        )
    return institution


def evaluate_transcript(
    session: Session,
    actor: Actor,
    transcript: Any,
    receiving_institution_id: int,
    *,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Evaluate a transcript (a stored transcript's id, or a JSON transcript) for the receiving
    institution, store the evaluation and answer it.

    `on` is the day for results that state no end date (default: today); it is an input, so it
    is part of the digest. Raises PermissionDenied unless the actor is the receiving
    institution's account or an admin, InvalidData listing every problem of the transcript.
    """
    receiving = _receiving(session, actor, receiving_institution_id, "transfer.evaluate")
    inputs = read_inputs(session, actor, transcript, receiving.id, on or dt.date.today())
    result = {**run(session, inputs, receiving), "inputs_digest": digest(inputs)}
    if inputs["transcript_id"] is not None:
        # What the stored transcript's file was found to be when imported; not an input (the
        # digest is of the transcript's content), and absent when it was imported unverified.
        verification_id = session.get(Transcript, inputs["transcript_id"]).verification_id
        found = verifications.verdicts(session, [verification_id])
        if verification_id in found:
            result["verification"] = found[verification_id]
    row = TransferEvaluation(
        actor=actor.name,
        receiving_institution_id=receiving.id,
        transcript_id=inputs["transcript_id"],
        inputs=inputs,
        inputs_digest=result["inputs_digest"],
        result=result,
        decisions=[],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "transfer.evaluate",
        f"transfer_evaluation:{row.id}",
        after={"inputs_digest": row.inputs_digest, "summary": result["summary"]},
    )
    # An issuer found only ambiguously is queued for review (registry.match_reviews).
    sightings = Sightings()
    issuer = inputs["issuer"]
    sightings.met(
        issuer["name"],
        issuer["country"],
        result["source_institution"],
        "transfer_evaluation",
        row.id,
        institution_owner(receiving.id),
    )
    sightings.write(session)
    return present(row)


def evaluate_request(session: Session, actor: Actor, raw: Any) -> dict[str, Any]:
    """`evaluate_transcript` for a request body {"transcript", "institution", "on"}."""
    try:
        request = TransferRequestSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as error:
        raise InvalidData("The transfer request is invalid.", errors=error.messages) from error
    return evaluate_transcript(
        session, actor, request["transcript"], request["institution"], on=request["on"]
    )


def present(row: TransferEvaluation) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": audit.plain(row.created_at),
        "actor": row.actor,
        **row.result,
        "decisions": list(row.decisions or []),
    }


def get_evaluation(
    session: Session, actor: Actor, evaluation_id: int, operation: str = "transfer.read"
) -> TransferEvaluation:
    """A stored evaluation, for the receiving institution's accounts and admins (and the
    ministry the law lets read them); to anyone else, anonymous included, it answers as an
    unknown id does (NotFound; Hidden, audited when `operation` is a write)."""
    row = session.get(TransferEvaluation, evaluation_id)
    detail = f"No transfer evaluation {evaluation_id}."
    if row is None:
        raise NotFound(detail, id=evaluation_id)
    if not readable(session, actor, institution_owner(row.receiving_institution_id)):
        raise Hidden(
            detail,
            action=operation,
            target=f"transfer_evaluation:{evaluation_id}",
            id=evaluation_id,
        )
    return row


# Enough for a page of an office's recent work; older ones stay readable by id.
MAX_LISTED = 200


def _readable_institution(session: Session, actor: Actor, institution_id: int, what: str) -> None:
    """The records an institution received are for its accounts, admins and the ministry the
    law lets read them; to anyone else the institution has none (NotFound)."""
    if not readable(session, actor, institution_owner(institution_id)):
        raise NotFound(f"No {what} of institution {institution_id}.", id=institution_id)


def evaluations_for(
    session: Session, actor: Actor, institution_id: int
) -> list[TransferEvaluation]:
    """The latest MAX_LISTED evaluations made for a receiving institution, newest first, for
    those who may read them; NotFound to anyone else."""
    _readable_institution(session, actor, institution_id, "transfer evaluations")
    return list(
        session.scalars(
            select(TransferEvaluation)
            .where(TransferEvaluation.receiving_institution_id == institution_id)
            .order_by(TransferEvaluation.id.desc())
            .limit(MAX_LISTED)
        )
    )


def transcripts_received(session: Session, actor: Actor, institution_id: int) -> list[Transcript]:
    """The latest MAX_LISTED transcripts an institution received (those it may evaluate),
    newest first, for those who may read them; NotFound to anyone else."""
    _readable_institution(session, actor, institution_id, "transcripts")
    return list(
        session.scalars(
            select(Transcript)
            .where(Transcript.received_by_institution_id == institution_id)
            .order_by(Transcript.id.desc())
            .limit(MAX_LISTED)
        )
    )


def authorise_decision(session: Session, actor: Actor, evaluation_id: int) -> None:
    """Whether the actor may decide on this evaluation: checked before its body is read, so
    that others learn nothing from a validation error (404 as for an unknown id; audited)."""
    row = get_evaluation(session, actor, evaluation_id, "transfer.decide")
    authorize(actor, "catalogue.edit", _target(row.receiving_institution_id), "transfer.decide")


def decision_request(session: Session, actor: Actor, evaluation_id: int, raw: Any) -> Articulation:
    """`save_decision` for a request body (DecisionSchema)."""
    authorise_decision(session, actor, evaluation_id)
    try:
        data = DecisionSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as error:
        raise InvalidData(
            "The decision is invalid; nothing was written.", errors=error.messages
        ) from error
    return save_decision(
        session,
        actor,
        evaluation_id,
        data["result_index"],
        data["target_course_ids"],
        data["credits_granted"],
        valid_from=data["valid_from"],
        valid_to=data["valid_to"],
        reason=data["reason"],
    )


def save_decision(
    session: Session,
    actor: Actor,
    evaluation_id: int,
    result_index: int,
    target_course_ids: list[int],
    credits_granted: Decimal | str,
    *,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    reason: str | None = None,
) -> Articulation:
    """A person's approval of a pending result, stored as an approved articulation of the
    receiving institution (its account, or an admin), so the same course on the next transcript
    is granted automatically. The rule holds from the day the course was completed (or
    `valid_from`), open-ended unless `valid_to`; credits are in the receiving credit system.

    InvalidData when the result is not pending or its source course is not in the registry
    (an articulation needs it); Conflict when the result was decided already, or when the rule
    would overlap another approved one.
    """
    row = get_evaluation(session, actor, evaluation_id, "transfer.decide")
    authorize(actor, "catalogue.edit", _target(row.receiving_institution_id), "transfer.decide")
    try:
        data = DecisionSchema().load(
            {
                "result_index": result_index,
                "target_course_ids": target_course_ids,
                "credits_granted": str(credits_granted),
                "valid_from": audit.plain(valid_from),
                "valid_to": audit.plain(valid_to),
                "reason": reason,
            }
        )
    except ValidationError as error:
        raise InvalidData(
            "The decision is invalid; nothing was written.", errors=error.messages
        ) from error
    results = row.result["results"]
    index = data["result_index"]
    if index >= len(results):
        raise InvalidData(
            f"Evaluation {row.id} has no result #{index}.",
            errors={"result_index": [f"0 to {len(results) - 1}."]},
        )
    entry = results[index]
    if entry["status"] != "pending":
        raise InvalidData(
            f"Result #{index} is {entry['status']}, not pending: {entry['reason']}",
            errors={"result_index": [f"Result #{index} is {entry['status']}."]},
        )
    if any(decision["result_index"] == index for decision in row.decisions or []):
        raise Conflict(
            f"Result #{index} of evaluation {row.id} was decided already.",
            action="transfer.decide",
            target=f"transfer_evaluation:{row.id}",
        )
    source = row.result["source_institution"]
    if entry["source_course"] is None:
        raise InvalidData(
            "An articulation needs the source course in the registry: "
            + (
                "the issuing institution is not identified."
                if source["verdict"] != "matched"
                else f"import {source['name']}'s course {entry['code'] or entry['title']!r} first."
            ),
            errors={"result_index": ["The source course is not in the registry."]},
        )
    system = row.result["receiving_institution"]["credit_system"]
    if system is None:
        raise InvalidData(
            "The receiving institution's courses state no credit system.",
            errors={"credits_granted": ["No credit system to count them in."]},
        )
    ended = row.inputs["results"][index]["ended_on"] or row.inputs["on"]
    articulation = create_articulation(
        session,
        actor,
        {
            "rule_id": f"transfer-{row.id}-{index}",
            "source_institution_id": source["id"],
            "target_institution_id": row.receiving_institution_id,
            "source_course_ids": [entry["source_course"]["id"]],
            "target_course_ids": data["target_course_ids"],
            "credits_granted": data["credits_granted"],
            "credit_system": system,
            "valid_from": audit.plain(data["valid_from"]) or ended,
            "valid_to": audit.plain(data["valid_to"]),
            "status": "approved",
            "reason": data["reason"]
            or f"Decided on transfer evaluation {row.id}, result #{index}.",
        },
    )
    decision = {
        "result_index": index,
        "outcome": "approved",
        "articulation_id": articulation.id,
        "target_courses": [
            course_entry(session.get(Course, course_id))
            for course_id in articulation.target_course_ids
        ],
        "credits_granted": plain_number(articulation.credits_granted),
        "credit_system": system,
        "decided_by": actor.name,
        "decided_on": dt.date.today().isoformat(),
    }
    row.decisions = [*(row.decisions or []), decision]
    session.flush()
    audit.record(session, actor, "transfer.decide", f"transfer_evaluation:{row.id}", after=decision)
    return articulation


def reject_result(
    session: Session, actor: Actor, evaluation_id: int, result_index: int, reason: str
) -> dict[str, Any]:
    """A person's refusal of a pending result (none of its suggestions counts for it), with the
    reason, required: appended to the evaluation's decisions (the receiving institution's
    account, or an admin); nothing becomes an articulation, so the next learner with the same
    course is pending again. Answers the decision.

    InvalidData without a reason or when the result is not pending; Conflict when it was
    decided already."""
    row = get_evaluation(session, actor, evaluation_id, "transfer.decide")
    authorize(actor, "catalogue.edit", _target(row.receiving_institution_id), "transfer.decide")
    try:
        data = RejectionSchema().load(
            {
                "result_index": result_index,
                "reason": reason.strip() if isinstance(reason, str) else reason,
            }
        )
    except ValidationError as error:
        raise InvalidData(
            "The decision is invalid; nothing was written.", errors=error.messages
        ) from error
    results = row.result["results"]
    index = data["result_index"]
    if index >= len(results) or results[index]["status"] != "pending":
        raise InvalidData(
            f"Evaluation {row.id} has no pending result #{index}.",
            errors={"result_index": ["Not a pending result."]},
        )
    if any(decision["result_index"] == index for decision in row.decisions or []):
        raise Conflict(
            f"Result #{index} of evaluation {row.id} was decided already.",
            action="transfer.decide",
            target=f"transfer_evaluation:{row.id}",
        )
    decision = {
        "result_index": index,
        "outcome": "rejected",
        "reason": data["reason"],
        "decided_by": actor.name,
        "decided_on": dt.date.today().isoformat(),
    }
    row.decisions = [*(row.decisions or []), decision]
    session.flush()
    audit.record(session, actor, "transfer.decide", f"transfer_evaluation:{row.id}", after=decision)
    return decision


def rejection_request(
    session: Session, actor: Actor, evaluation_id: int, raw: Any
) -> dict[str, Any]:
    """`reject_result` for a request body {"result_index", "reason"}; who may decide is checked
    before the body is read (authorise_decision)."""
    authorise_decision(session, actor, evaluation_id)
    body = raw if isinstance(raw, dict) else {}
    unknown = set(body) - {"result_index", "reason"}
    if unknown:
        raise InvalidData(
            "The decision is invalid; nothing was written.",
            errors={name: ["Unknown field."] for name in sorted(unknown)},
        )
    return reject_result(
        session, actor, evaluation_id, body.get("result_index"), body.get("reason")
    )
