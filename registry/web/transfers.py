"""Transfer evaluations in the institution's workspace: evaluate a transcript it received,
review each evaluation, and decide on its pending results: approve a suggested course (the
approval becomes an approved articulation, so the next learner with that course is granted
automatically) or reject them with the reason.

The same services as the API's /transfers: `transfer.evaluate_transcript`,
`transfer.decision_request` and `transfer.rejection_request` (each checks who may decide before
it reads the form); every evaluation answers 404 to anyone but its institution.
"""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from mappings.transfer import services as transfer
from registry.auth import current_actor
from registry.core.errors import InvalidData
from registry.core.normalise import whole_number
from registry.institutions import services as institutions
from registry.web.base import blp, get_session, task
from registry.web.workspace import institution_of

task(
    "transfers",
    lazy_gettext("Transfer evaluations"),
    lazy_gettext("evaluate received transcripts course by course; approve or reject suggestions."),
    roles=("institution",),
)


@blp.get("/transfers")
def transfers():
    actor = current_actor()
    institution_id = institution_of(actor)
    institution, evaluations, transcripts = None, [], []
    if institution_id is not None:
        session = get_session()
        evaluations = transfer.evaluations_for(session, actor, institution_id)
        transcripts = transfer.transcripts_received(session, actor, institution_id)
        institution = institutions.get_institution(session, institution_id)
    return render_template(
        "workspace/transfers.html",
        institution=institution,
        evaluations=evaluations,
        transcripts=transcripts,
        listed_max=transfer.MAX_LISTED,
    )


@blp.post("/transfers")
def evaluate():
    actor = current_actor()
    # A number typed in reaches a transcript older than those the list offers.
    transcript = request.form.get("transcript_number", "").strip() or request.form.get(
        "transcript", ""
    )
    on = request.form.get("on") or None
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError as error:
        raise InvalidData(
            gettext("The day is not a date."), errors={"on": ["YYYY-MM-DD."]}
        ) from error
    answer = transfer.evaluate_transcript(
        get_session(),
        actor,
        whole_number(transcript, 18) or transcript,
        institution_of(actor),
        on=day,
    )
    flash(gettext("Transcript evaluated: evaluation %(id)s.", id=answer["id"]))
    return redirect(url_for("web.transfer_evaluation", evaluation_id=answer["id"]))


@blp.get("/transfers/<int:evaluation_id>")
def transfer_evaluation(evaluation_id: int):
    row = transfer.get_evaluation(get_session(), current_actor(), evaluation_id)
    shown = transfer.present(row)
    return render_template(
        "workspace/transfer.html",
        evaluation=shown,
        decided={decision["result_index"]: decision for decision in shown["decisions"]},
    )


@blp.post("/transfers/<int:evaluation_id>/results/<int:index>/approve")
def approve_result(evaluation_id: int, index: int):
    course = request.form.get("target_course_id", "")
    articulation = transfer.decision_request(
        get_session(),
        current_actor(),
        evaluation_id,
        {
            "result_index": index,
            "target_course_ids": [whole_number(course, 18) or course],
            "credits_granted": request.form.get("credits_granted", ""),
            "reason": request.form.get("reason", "").strip() or None,
        },
    )
    flash(
        gettext(
            "Result #%(index)s approved: articulation %(rule)s now grants it automatically.",
            index=index,
            rule=articulation.rule_id,
        )
    )
    return redirect(url_for("web.transfer_evaluation", evaluation_id=evaluation_id))


@blp.post("/transfers/<int:evaluation_id>/results/<int:index>/reject")
def reject_result(evaluation_id: int, index: int):
    transfer.rejection_request(
        get_session(),
        current_actor(),
        evaluation_id,
        {"result_index": index, "reason": request.form.get("reason", "")},
    )
    flash(gettext("Result #%(index)s rejected.", index=index))
    return redirect(url_for("web.transfer_evaluation", evaluation_id=evaluation_id))
