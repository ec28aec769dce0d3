"""Bulk imports as background jobs."""

from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from importers import jobs
from registry.api import Blueprint, writes
from registry.auth import current_actor
from registry.core import inputs
from registry.core.errors import InvalidData
from registry.issuing import trust_source
from registry.sessions import get_session

blp = Blueprint("imports", __name__, description="Bulk imports, run as background jobs")


class JobSchema(Schema):
    id = fields.Integer()
    format = fields.String()
    source = fields.String()
    options = fields.Dict()
    state = fields.String(metadata={"description": " | ".join(jobs.STATES)})
    read = fields.Integer()
    inserted = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    failure = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    verification = fields.Method(
        "file_verification",
        metadata={
            "description": "ELMO, ELM, Open Badges: the verification of the uploaded file (id, "
            "verdict, reason, issuer, verified_on), or {error} when it could not be verified. "
            "An invalid file is imported all the same, and its transcripts name it."
        },
    )
    errors = fields.Method(
        "first_errors",
        metadata={
            "description": "The first 100 rejections; all of them at /imports/{id}/errors.csv."
        },
    )

    def file_verification(self, job):
        return jobs.job_verification(get_session(), job)

    def first_errors(self, job):
        return [
            {"position": e.position, "reason": e.reason}
            for e in jobs.job_errors(get_session(), job.id, 100)
        ]


UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["format", "file"],
                "properties": {
                    "format": {"type": "string", "enum": list(jobs.FORMATS)},
                    "file": {"type": "string", "format": "binary"},
                    "options": {
                        "type": "string",
                        "description": "JSON object: atomic, status, "
                        "status_source, institution_id, received_by (by format; transcripts "
                        "belong to received_by, an institution's own id by default)",
                    },
                },
            }
        }
    },
}


@blp.route("/imports")
class Imports(MethodView):
    @blp.doc(requestBody=UPLOAD)
    @blp.response(202, JobSchema)
    @writes("import.run", "institution.import", "catalogue.edit")
    def post(self):
        """Upload a file to import; the job runs in the background (poll GET /imports/{id})."""
        upload = request.files.get("file")
        if upload is None:
            raise InvalidData(
                "Send the file as multipart/form-data field 'file'.", errors={"file": ["Missing."]}
            )
        options = jobs_options(request.form.get("options"))
        session = get_session()
        actor = current_actor()
        job = jobs.create_job(
            session,
            actor,
            request.form.get("format", ""),
            upload.stream,
            upload.filename or "upload",
            options,
            current_app.config["IMPORTS_DIR"],
            current_app.config["MAX_CONTENT_LENGTH"],
            trust_source=trust_source(current_app.config),
        )
        session.commit()  # the worker must see the job
        dispatch(job.id)
        return jobs.get_job(get_session(), actor, job.id)


@blp.route("/imports/<int:job_id>")
class ImportById(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id):
        """Where a job stands: state, counts, the first rejections (for whoever started it, its
        institution or ministry, and admins; 404 to anyone else)."""
        return jobs.get_job(get_session(), current_actor(), job_id)


@blp.route("/imports/<int:job_id>/errors.csv")
class ImportErrors(MethodView):
    @blp.response(200, content_type="text/csv")
    def get(self, job_id):
        """Every rejected record of a job, with its position and reason (who may read the job)."""
        session = get_session()
        jobs.get_job(session, current_actor(), job_id)
        return Response(
            jobs.errors_csv(session, job_id),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=import-{job_id}-errors.csv"},
        )


def jobs_options(text: str | None) -> dict:
    if not text:
        return {}
    options = inputs.load_json(text, "options")
    if not isinstance(options, dict):
        raise InvalidData("options must be a JSON object.", errors={"options": ["Not an object."]})
    return options


def dispatch(job_id: int) -> None:
    """Run the job inline (tests) or hand it to the queue."""
    if current_app.config.get("IMPORTS_INLINE"):
        jobs.run_job(lambda: get_session(), job_id)
    else:
        jobs.import_task(job_id, current_app.config["DATABASE_URL"])
