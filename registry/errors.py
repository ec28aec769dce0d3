"""The one table from domain errors to HTTP, and the problem+json (RFC 9457) response shape."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, got_request_exception, json, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from importers.verification.trust import TrustListError
from registry import limits
from registry.auth import actor_or_anonymous
from registry.core import audit
from registry.core.db import unique_violation
from registry.core.errors import (
    Conflict,
    DomainError,
    Hidden,
    InvalidData,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from registry.sessions import get_session
from registry.statements.keys import NoSigningKey

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    InvalidData: 400,
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    NoSigningKey: 503,
}

PROBLEM_TYPE = "https://registry.invalid/problems/"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {
        "type": PROBLEM_TYPE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({key: value for key, value in extra.items() if value})
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REFUSALS = (Unauthenticated, PermissionDenied, Conflict)


def handle_domain_error(error: DomainError) -> Response:
    if isinstance(error, TrustListError):
        # The operator's configuration, not the caller's request: a 503 that names no file of
        # the server's, the file and its fault in the log.
        current_app.logger.error("The trust list cannot be read: %s", error.detail)
        return problem(
            503,
            "Service Unavailable",
            "The registry's trust list cannot be read, so nothing can be verified until its "
            "operator mends it.",
        )
    status = next(code for kind, code in STATUS_BY_ERROR.items() if isinstance(error, kind))
    if request.method in WRITE_METHODS and isinstance(error, (*REFUSALS, Hidden)):
        record_refusal(error)
    response = problem(status, error.title, error.detail, errors=error.errors, **error.data)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="registry"'
    return response


def record_refusal(error: DomainError) -> None:
    """A refused write leaves an audit event too, committed on its own: the write is dropped."""
    about = getattr(error, "refused", None) or error.data
    record_outcome(
        "refused",
        about.get("action", f"{request.method} {request.path}"),
        about.get("target", request.path),
        error.detail,
    )


def record_outcome(outcome: str, action: str, entity: str, detail: str | None) -> None:
    """Write a refused or failed request to the audit trail, in a transaction of its own.

    Per client, AUDIT_REFUSALS a window are written one by one; then one summary event, and
    the rest are only counted (by the limiter), so that a flood cannot grow the table without
    bound. Recording never turns the answer into another error: a failure to record is logged.
    """
    verdict = limits.refusal_to_audit()
    if verdict == "skip":
        return
    session = get_session()
    actor = actor_or_anonymous()
    try:
        session.rollback()
        if verdict == "summary":
            audit.record(
                session,
                actor,
                "audit.refusals_throttled",
                f"client:{limits.rate_key()}",
                outcome=outcome,
                detail=(
                    f"More than {current_app.config['AUDIT_REFUSALS']} refused requests from "
                    "this client: the rest of this window's are counted by the rate limiter, "
                    f"not written one by one. The last: {action} {entity}: {detail}"
                ),
            )
        else:
            audit.record(session, actor, action[:60], entity, outcome=outcome, detail=detail)
        session.commit()
    except Exception:
        session.rollback()
        current_app.logger.exception("Could not record a %s request in the audit trail", outcome)


def record_failure(_sender=None, exception: BaseException | None = None, **_extra) -> None:
    """A write that ended in a server error is in the trail too (outcome "failed"): it may be
    an attack that found a crack, and the trail must show it was tried."""
    if request.method in WRITE_METHODS:
        name = type(exception).__name__ if exception is not None else "error"
        record_outcome(
            "failed", f"{request.method} {request.path}", request.path, f"Server error ({name})."
        )


def handle_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    status = error.code or 500
    errors = data.get("errors") or _flatten_locations(data.get("messages"))
    if status == 422:
        # webargs reports unparseable parameters as 422; to a client they are a bad request.
        status = 400
    detail = data.get("message") or error.description or error.name
    if errors and status == 400:
        detail = "Invalid " + ", ".join(sorted(errors)) + "."
    response = problem(
        status, error.name if status != 400 else "Bad Request", detail, errors=errors
    )
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def handle_unexpected(error: Exception) -> Response:
    # Never a stack trace to the client; the log keeps it.
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    record_failure(exception=error)
    return handle_http_exception(InternalServerError())


# Seconds a client is asked to wait before it tries again a write the database was too busy for.
RETRY_AFTER = 2


def database_busy(error: OperationalError) -> bool:
    """SQLite's answer when a writer waited its whole busy timeout for the write lock."""
    return "database is locked" in str(error.orig) or "database is busy" in str(error.orig)


def handle_operational_error(error: OperationalError) -> Response:
    """The database too busy to take this write within its busy timeout: 503, try again later.
    Nothing was written (the request's transaction is rolled back) and nothing is recorded in
    the trail, which would wait for the same lock; the log keeps it. Any other operational
    error is a server error like any other."""
    if not database_busy(error):
        if current_app.testing:
            raise error
        return handle_unexpected(error)
    current_app.logger.warning(
        "Database busy past its timeout on %s %s: answered 503", request.method, request.path
    )
    response = problem(
        503,
        "Service Unavailable",
        "The database is busy with other writes; nothing was changed. Try again shortly.",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def handle_integrity_error(error: IntegrityError) -> Response:
    """A unique key taken by a concurrent request between this one's check and its write: 409,
    nothing changed, the same request again sees the other's row. Any other integrity error is
    a server error like any other."""
    if not unique_violation(error):
        if current_app.testing:
            raise error
        return handle_unexpected(error)
    current_app.logger.warning(
        "Concurrent write on %s %s: answered 409", request.method, request.path
    )
    return problem(
        409,
        "Conflict",
        "Another request stored the same record at the same time; nothing was changed. "
        "Send the request again to see the record as it now is.",
    )


def _flatten_locations(errors: dict | None) -> dict:
    """webargs nests messages by location ({"query": {"value": [...]}}); clients want the field."""
    flat: dict = {}
    for location, fields in (errors or {}).items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_operational_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    if not app.testing:  # tests want the real exception
        app.register_error_handler(Exception, handle_unexpected)
    else:  # ... and the failure recorded all the same
        got_request_exception.connect(record_failure, app)
