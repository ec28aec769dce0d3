"""Batch assessment: every credential of an uploaded file of transcripts or credentials (ELMO,
ELM, Open Badges) assessed for a target and stored, shown as a table or downloaded as the CSV
of `registry assess-batch --output csv` (the same lines, the same columns)."""

from __future__ import annotations

import io

from flask import Response, current_app, render_template, request
from flask_babel import gettext, lazy_gettext

from importers.batch import CSV_COLUMNS, assess_records, csv_row
from importers.transcripts import READERS
from importers.verification import stored
from registry.auth import current_actor
from registry.catalogue.models import QUALIFICATION_TYPES
from registry.core import csvout
from registry.core.errors import InvalidData
from registry.core.permissions import authorize_role
from registry.issuing import trust_source
from registry.web.base import blp, field_messages, get_session, task

ACTION = "assessment.create"
FORMAT_LABELS = {
    "elmo": lazy_gettext("Transcripts: EMREX ELMO (XML)"),
    "elm": lazy_gettext("Credentials: Europass ELM (XML or JSON-LD)"),
    "open-badges": lazy_gettext("Badges: Open Badges 2.0 or 3.0 (JSON)"),
}

task(
    "batch",
    lazy_gettext("Batch assessment"),
    lazy_gettext("assess every credential of a file for a country or framework; download the CSV."),
    roles=("institution",),
)


@blp.get("/batch")
def batch():
    authorize_role(current_actor(), ACTION)  # as the API's door does for POST /assessments
    return render_template(
        "workspace/batch.html", labels=FORMAT_LABELS, types=QUALIFICATION_TYPES, form={}
    )


@blp.post("/batch")
def run_batch():
    actor = current_actor()
    authorize_role(actor, ACTION)
    fmt = request.form.get("format", "")
    upload = request.files.get("file")
    errors = {}
    if fmt not in READERS:
        errors["format"] = [f"One of {', '.join(READERS)}."]
    if upload is None or not upload.filename:
        errors["file"] = ["Missing."]
    if errors:
        raise InvalidData(gettext("Choose the file and what it holds."), errors=errors)
    target = request.form.get("target", "").strip()
    target_type = request.form.get("target_type") or None
    data = upload.stream.read()
    session = get_session()
    # Verified once; every credential of the file names the verification.
    verification = stored.summary(
        *stored.verify_upload(
            session,
            actor,
            data,
            filename=upload.filename,
            trust_source=trust_source(current_app.config),
            fmt=fmt,
        )
    )
    lines = list(
        assess_records(
            session, actor, READERS[fmt](io.BytesIO(data)), target, target_type, verification
        )
    )
    if request.form.get("output") == "csv":
        return csv_download(as_csv(lines))
    return render_template(
        "workspace/batch.html",
        labels=FORMAT_LABELS,
        types=QUALIFICATION_TYPES,
        form=request.form,
        source=upload.filename,
        lines=lines[:-1],
        summary=lines[-1]["summary"],
        field_messages=field_messages,
        csv=as_csv(lines),
    )


@blp.post("/batch/results.csv")
def batch_results_csv():
    """The CSV of the results page, sent back by its form: the decisions already stored are
    downloaded, not made a second time (the page holds the CSV the run wrote)."""
    authorize_role(current_actor(), ACTION)
    return csv_download(request.form.get("csv", ""))


def as_csv(lines: list[dict]) -> str:
    out = io.StringIO()
    # Titles and names come from the file: no cell may be a spreadsheet formula (csvout).
    writer = csvout.DictWriter(out, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for line in lines:  # writerow, which escapes; csv's writerows would not
        writer.writerow(csv_row(line))
    return out.getvalue()


def csv_download(text: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=batch-assessment.csv"},
    )
