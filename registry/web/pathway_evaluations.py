"""Evaluations toward a programme: a learner's credentials (uploaded files, stored transcripts
the institution received, or both) evaluated against the programme's approved pathways as of a
day, then stored, each on its own page, private to the programme's institution.

The same services as POST /api/v1/pathway-evaluations: `evaluate_pathways` decides who may
evaluate for the programme's institution, and `get_pathway_evaluation` answers 404 to anyone
else. Files are read as `registry pathways evaluate` reads them (importers.batch.held_credentials),
or as JSON credentials in the shape the evaluation API takes.
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from werkzeug.datastructures import FileStorage, MultiDict

from importers.batch import held_credentials
from importers.runner import FileError
from importers.transcripts import READERS
from mappings.pathways import services as pathways
from mappings.transfer import services as transfer
from registry.auth import current_actor
from registry.catalogue import services as catalogue
from registry.core.errors import InvalidData
from registry.core.normalise import whole_number
from registry.core.permissions import authorize_role
from registry.errors import STATUS_BY_ERROR
from registry.institutions import services as institutions
from registry.web.base import blp, field_messages, get_session, task
from registry.web.desk import FORMATS as FILE_FORMATS
from registry.web.workspace import institution_of

FORMATS = {
    "json": lazy_gettext("JSON credentials (one, or a list, as the assessment API takes them)"),
    **FILE_FORMATS,
}
# The form's fields; a message of the service about another key lands on the form as a whole.
FIELDS = ("programme", "credentials", "transcripts", "on")

task(
    "evaluate_pathways",
    lazy_gettext("Evaluate toward a programme"),
    lazy_gettext("a learner's credentials against a programme's pathways, step by step."),
    roles=("institution",),
)


@blp.get("/pathways/evaluate")
def evaluate_pathways():
    actor = current_actor()
    authorize_role(actor, "assessment.create")
    return _form_page(institution_of(actor), MultiDict())


@blp.post("/pathways/evaluate")
def run_pathway_evaluation():
    actor = current_actor()
    authorize_role(actor, "assessment.create")
    institution_id = institution_of(actor)
    form = request.form
    try:
        held, unread = _held(request.files.getlist("file"), form.get("format", ""))
        programme = form.get("programme", "").strip()
        raw = {
            "programme": whole_number(programme, 18) or programme,
            "credentials": held,
            "transcripts": [whole_number(t, 18) or t for t in form.getlist("transcript")],
            "on": form.get("on") or None,
        }
        answer = pathways.evaluate_pathways(get_session(), actor, raw)
    except InvalidData as error:
        return _form_page(institution_id, form, error), STATUS_BY_ERROR[InvalidData]
    if unread:
        shown = "; ".join(f"{position}: {reason}" for position, reason in unread[:5])
        flash(
            ngettext(
                "%(num)d entry of the files was not read: %(entries)s",
                "%(num)d entries of the files were not read: %(entries)s",
                len(unread),
                entries=shown,
            )
        )
    flash(gettext("Evaluation %(id)s is stored.", id=answer["id"]))
    return redirect(url_for("web.pathway_evaluation", evaluation_id=answer["id"]))


@blp.get("/pathways/evaluations/<int:evaluation_id>")
def pathway_evaluation(evaluation_id: int):
    row = pathways.get_pathway_evaluation(get_session(), current_actor(), evaluation_id)
    return render_template("pathways/evaluation.html", evaluation=pathways.present(row))


def _held(uploads: list[FileStorage], fmt: str) -> tuple[list[dict[str, Any]], list[tuple]]:
    """The learner's credentials in the uploaded files, and the entries that could not be read
    (position, reason). InvalidData when a file cannot be read at all."""
    uploads = [upload for upload in uploads if upload.filename]
    if not uploads:
        return [], []
    if fmt not in FORMATS:
        raise InvalidData(
            gettext("Choose the format of the files."),
            errors={"format": [f"One of {', '.join(FORMATS)}."]},
        )
    held: list[dict[str, Any]] = []
    unread: list[tuple[str, str]] = []
    for upload in uploads:
        if fmt == "json":
            held.extend(_json_credentials(upload))
            continue
        try:
            for position, credential in held_credentials(READERS[fmt](upload.stream)):
                if isinstance(credential, str):
                    unread.append((f"{upload.filename} {position}", credential))
                else:
                    held.append(credential)
        except FileError as error:
            raise InvalidData(
                gettext(
                    "The file %(name)s cannot be read at %(position)s: %(reason)s",
                    name=upload.filename,
                    position=error.position,
                    reason=error.reason,
                ),
                errors={"file": [error.reason]},
            ) from error
    return held, unread


def _json_credentials(upload: FileStorage) -> list[dict[str, Any]]:
    try:
        data = json.load(upload.stream)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidData(
            gettext("The file %(name)s is not JSON.", name=upload.filename),
            errors={"file": [str(error)]},
        ) from error
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    raise InvalidData(
        gettext("The file %(name)s holds no credential.", name=upload.filename),
        errors={"file": [gettext("A credential (an object) or a list of them.")]},
    )


def _form_page(institution_id: int | None, form: MultiDict, error: InvalidData | None = None):
    session = get_session()
    actor = current_actor()
    institution, programmes, transcripts, evaluations = None, [], [], []
    if institution_id is not None:
        institution = institutions.get_institution(session, institution_id)
        programmes = catalogue.find_qualifications(session, institution_id=institution_id)
        transcripts = transfer.transcripts_received(session, actor, institution_id)
        evaluations = pathways.evaluations_for(session, actor, institution_id)
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    if error is not None:
        for key, message in field_messages(error.errors):
            name = key.split(".")[0]
            if name in (*FIELDS, "file", "format"):
                errors.setdefault(name, []).append(f"{key}: {message}" if "." in key else message)
            else:
                general.append(f"{key}: {message}")
    return render_template(
        "pathways/evaluate.html",
        institution=institution,
        programmes=programmes,
        transcripts=transcripts,
        evaluations=evaluations,
        formats=FORMATS,
        values=form,
        chosen=set(form.getlist("transcript")),
        errors=errors,
        general=general,
        problem=error.detail if error is not None else None,
    )
