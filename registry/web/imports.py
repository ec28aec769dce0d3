"""An institution's imports: upload a file of any format the importers read, follow the job
live, read and download its rejections; the list of the jobs the visitor may read.

The same services as the API's /imports: `jobs.create_job` checks the role, the options and
the owner before anything is stored, `jobs.get_job` answers 404 to anyone but the job's office.
"""

from __future__ import annotations

from flask import Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from importers import jobs
from registry.api.imports import dispatch
from registry.auth import current_actor
from registry.core.errors import InvalidData, PermissionDenied, Unauthenticated
from registry.core.permissions import Actor, authorize_role
from registry.issuing import trust_source
from registry.web.base import blp, get_session, task
from registry.web.workspace import institution_of, page_number

PER_PAGE = 25
# The rejections shown on the job's page; every one of them is in the CSV download.
SHOWN_ERRORS = 200
# What each format is, in words (the select's labels); the keys are importers.jobs.FORMATS.
FORMAT_LABELS = {
    "elmo": lazy_gettext("Transcripts: EMREX ELMO (XML)"),
    "elm": lazy_gettext("Credentials: Europass ELM (XML or JSON-LD)"),
    "open-badges": lazy_gettext("Badges: Open Badges 2.0 or 3.0 (JSON)"),
    "courses-csv": lazy_gettext("Courses of the catalogue (CSV)"),
    "qualifications-csv": lazy_gettext("Qualifications of the catalogue (CSV)"),
    "qdr": lazy_gettext("Qualifications: Europass QDR (XML)"),
    "articulations-csv": lazy_gettext("Articulations (CSV)"),
    "pathways-csv": lazy_gettext("Pathways (CSV)"),
    "pathways-ctdl": lazy_gettext("Pathways: CTDL Transfer Value Profiles (JSON-LD)"),
    "institutions-json": lazy_gettext("Institutions: list of universities (JSON)"),
    "ror": lazy_gettext("Institutions: ROR data dump (JSON)"),
}
# Form fields -> the import option they fill, for the formats whose options schema has it.
OPTION_FIELDS = ("atomic", "status", "status_source", "credit_system", "credits_per_badge")
RUNNING = ("queued", "running")

task(
    "imports",
    lazy_gettext("Imports"),
    lazy_gettext("upload transcripts, catalogue and institution files; follow each import."),
    roles=("institution",),
)


def formats_for(actor: Actor) -> list[str]:
    """The formats whose import the actor's role may start (the role check of create_job);
    raises that check's refusal when there is none."""
    offered, refusal = [], None
    for fmt, (action, _, _) in jobs.FORMATS.items():
        try:
            authorize_role(actor, action)
        except (Unauthenticated, PermissionDenied) as error:
            refusal = refusal or error
        else:
            offered.append(fmt)
    if not offered and refusal is not None:
        raise refusal
    # The labelled formats in the labels' order; one without a label (yet) last, by its name.
    return sorted(offered, key=lambda fmt: (list(FORMAT_LABELS) + [fmt]).index(fmt))


@blp.get("/imports")
def imports():
    actor = current_actor()
    formats_for(actor)  # a visitor who may import nothing is refused here, not shown a void
    page = page_number()
    rows = jobs.list_jobs(get_session(), actor, PER_PAGE + 1, (page - 1) * PER_PAGE)
    return render_template(
        "workspace/imports.html",
        rows=rows[:PER_PAGE],
        page=page,
        more=len(rows) > PER_PAGE,
        labels=FORMAT_LABELS,
    )


@blp.route("/imports/new", methods=["GET", "POST"])
def new_import():
    actor = current_actor()
    offered = formats_for(actor)
    if request.method == "GET":
        return render_template("workspace/import_new.html", formats=offered, labels=FORMAT_LABELS)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData(gettext("Choose the file to import."), errors={"file": ["Missing."]})
    fmt = request.form.get("format", "")
    session = get_session()
    job = jobs.create_job(
        session,
        actor,
        fmt,
        upload.stream,
        upload.filename,
        options_for(fmt, actor),
        current_app.config["IMPORTS_DIR"],
        current_app.config["MAX_CONTENT_LENGTH"],
        trust_source=trust_source(current_app.config),
    )
    session.commit()  # the worker must see the job
    dispatch(job.id)
    flash(gettext("File %(name)s received: import %(id)s.", name=job.source, id=job.id))
    return redirect(url_for("web.import_job", job_id=job.id))


def options_for(fmt: str, actor: Actor) -> dict[str, object]:
    """The options the form filled in that the format takes, the workspace's institution as
    the catalogue's or the transcripts' owner; the format's schema validates them, the import
    checks the institution is the actor's."""
    if fmt not in jobs.FORMATS:
        return {}  # create_job names the formats
    schema = jobs.FORMATS[fmt][1]()
    options: dict[str, object] = {
        name: request.form[name]
        for name in OPTION_FIELDS
        if request.form.get(name) and name in schema.fields
    }
    institution = institution_of(actor)
    for name in ("institution_id", "received_by"):
        if institution is not None and name in schema.fields:
            options[name] = institution
    return options


@blp.get("/imports/<int:job_id>")
def import_job(job_id: int):
    session = get_session()
    job = jobs.get_job(session, current_actor(), job_id)
    return render_template(
        "workspace/import_job.html",
        job=job,
        verification=jobs.job_verification(session, job),
        errors=jobs.job_errors(session, job_id, SHOWN_ERRORS),
        running=job.state in RUNNING,
        labels=FORMAT_LABELS,
        shown=SHOWN_ERRORS,
    )


@blp.get("/imports/<int:job_id>/status.json")
def import_status(job_id: int):
    """Where the job stands, for the page's progress script (the same reading rule)."""
    job = jobs.get_job(get_session(), current_actor(), job_id)
    return jsonify(
        {
            "state": job.state,
            "running": job.state in RUNNING,
            **{name: getattr(job, name) for name in jobs.COUNTS},
        }
    )


@blp.get("/imports/<int:job_id>/errors.csv")
def import_errors(job_id: int):
    session = get_session()
    jobs.get_job(session, current_actor(), job_id)
    return Response(
        jobs.errors_csv(session, job_id),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=import-{job_id}-errors.csv"},
    )
