"""Server-rendered pages: the frameworks, and a session login for their authorities to draft,
check the impact of and publish a new version.

Views call the same services as the API with the same actor (`current_actor()`, here from the
login session); the request owns the transaction, as for the API. Every form carries a CSRF
token; domain errors render an HTML page with the status the API would answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import flask
from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from frameworks import editing, services
from frameworks.models import Framework, FrameworkVersion, Level, LevelLink
from mappings import impact
from registry import errors, limits
from registry.auth import actor_or_anonymous, current_actor, request_id
from registry.core import accounts, audit
from registry.core.errors import DomainError, PermissionDenied, Unauthenticated
from registry.core.permissions import Actor, authorize
from registry.sessions import get_session

EQF = "EQF"

blp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web/static",
)


@blp.context_processor
def _page_context() -> dict[str, Any]:
    # Error pages render this too, so a bad bearer header must not raise again here.
    return {"actor": actor_or_anonymous()}


@blp.after_request
def _security_headers(response: flask.Response) -> flask.Response:
    # The pages run no script, so an injected one would not run either; and no other site may
    # frame them, so nobody can be tricked into clicking "Publish" through an invisible frame.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'",
    )
    return response


@blp.get("/")
def index():
    rows = [
        (framework, services.version_on(framework))
        for framework in services.list_frameworks(get_session())
    ]
    return render_template("index.html", rows=rows)


@blp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html")
    name = request.form.get("name", "")[:200]
    wait = limits.login_wait(name)
    if wait:
        # Locked out for a while, right password or not: guessing gets nowhere.
        errors.record_outcome(
            "refused", "account.login", f"account:{name}", "Too many failed sign-ins."
        )
        minutes = (wait + 59) // 60
        failure = (
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' * (minutes != 1)}."
        )
        response = flask.make_response(
            render_template("login.html", name=name, failure=failure), 429
        )
        response.headers["Retry-After"] = str(wait)
        return response
    session = get_session()
    try:
        account = accounts.check_password(session, name, request.form.get("password", ""))
    except Unauthenticated as error:
        limits.login_failed(name)
        errors.record_outcome("refused", "account.login", f"account:{name}", error.detail)
        return render_template("login.html", name=name, failure=error.detail), 401
    # A fresh session at login: nothing set before it (by anyone) carries over into the login.
    flask.session.clear()
    flask.session["sid"] = accounts.start_session(session, account)
    signed_in = dataclasses.replace(account.actor(), request_id=request_id())
    audit.record(session, signed_in, "account.login", f"account:{account.name}")
    flash(f"Signed in as {account.name}.")
    return redirect(url_for("web.index"))


@blp.post("/logout")
def logout():
    # Ended on the server too: a copy of the cookie signs nobody in any more.
    if flask.session.get("sid"):
        accounts.end_session(get_session(), str(flask.session["sid"]))
    flask.session.clear()
    flash("Signed out.")
    return redirect(url_for("web.index"))


@blp.get("/frameworks/<code>")
def framework(code: str):
    found = services.get_framework(get_session(), code)
    editable = may_edit(current_actor(), found)
    current = services.version_on(found)
    # A draft is shown only to those who may edit it, as the API's get_version does.
    draft = next((v for v in found.versions if v.status == "draft"), None) if editable else None
    return render_template(
        "framework.html",
        framework=found,
        editable=editable,
        current=current,
        draft=draft,
        versions=[v for v in found.versions if editable or v.status != "draft"],
        eqf_links={**eqf_links(current), **eqf_links(draft)},
        today=dt.date.today(),
    )


@blp.post("/frameworks/<code>/drafts")
def start_draft(code: str):
    draft = editing.new_draft(get_session(), current_actor(), code, None)
    flash(f"Draft {draft.version} started as a copy of the version in force.")
    return redirect(url_for("web.framework", code=code))


@blp.get("/frameworks/<code>/versions/<version>/impact")
def impact_report(code: str, version: str):
    report = impact.impact(get_session(), current_actor(), code, version)
    return render_template("impact.html", report=report, today=dt.date.today())


@blp.post("/frameworks/<code>/versions/<version>/publish")
def publish(code: str, version: str):
    published = editing.publish(
        get_session(), current_actor(), code, version, form_fields("valid_from")
    )
    flash(
        f"Version {published.version} of {code} is published, in force from {published.valid_from}."
    )
    return redirect(url_for("web.framework", code=code))


@blp.errorhandler(DomainError)
def domain_error_page(error: DomainError):
    status = next(code for kind, code in errors.STATUS_BY_ERROR.items() if isinstance(error, kind))
    if request.method in errors.WRITE_METHODS and isinstance(
        error, (*errors.REFUSALS, errors.Hidden)
    ):
        # A refused write is audited, exactly as when it comes through the API.
        errors.record_refusal(error)
    return render_template(
        "error.html",
        status=status,
        title=error.title,
        detail=error.detail,
        messages=list(field_messages(error.errors)),
    ), status


@blp.errorhandler(CSRFError)
def csrf_error_page(error: CSRFError):
    detail = (
        f"The form was not accepted: {error.description} Go back, reload the page and "
        "send the form again."
    )
    return render_template(
        "error.html", status=400, title="Form not accepted", detail=detail, messages=[]
    ), 400


@blp.errorhandler(HTTPException)
def http_error_page(error: HTTPException):
    status = error.code or 500
    return render_template(
        "error.html", status=status, title=error.name, detail=error.description, messages=[]
    ), status


def may_edit(actor: Actor, framework: Framework) -> bool:
    """Whether to offer the editing forms; the services check again on every write."""
    try:
        authorize(actor, "framework.edit", services.target_of(framework))
    except (Unauthenticated, PermissionDenied):
        return False
    return True


def eqf_links(version: FrameworkVersion | None) -> dict[int, list[tuple[Level, LevelLink]]]:
    """The EQF level(s) each level of `version` is linked to, by level id, as the version
    files its links (in either direction)."""
    found: dict[int, list[tuple[Level, LevelLink]]] = defaultdict(list)
    for link in version.links if version else ():
        for mine, other in ((link.source, link.target), (link.target, link.source)):
            if mine.version_id == version.id and other.version.framework.code == EQF:
                found[mine.id].append((other, link))
    return found


def form_fields(*names: str) -> dict[str, str]:
    """The named form fields that were filled in; an empty field leaves the service's default."""
    return {name: request.form[name] for name in names if request.form.get(name)}


def field_messages(messages: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(field, message) pairs from marshmallow's nested messages (`{"0": {"to": [...]}}`)."""
    for field, value in messages.items():
        if isinstance(value, dict):
            yield from field_messages(value, f"{prefix}{field}.")
        else:
            for message in value if isinstance(value, list) else [value]:
                yield f"{prefix}{field}", str(message)


def init_app(app: Flask) -> None:
    # Flask's session cookie is HttpOnly by default but has no SameSite attribute; Lax keeps
    # the login cookie off cross-site posts. (A setdefault would do nothing: Flask's defaults
    # already hold the key, with None.)
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.register_blueprint(blp)
    csrf = CSRFProtect()
    csrf.init_app(app)
    # The API is for clients with bearer tokens, which a browser never attaches on its own, so
    # its blueprints are exempt; create_app registers them before this step. Blueprints added
    # later are protected unless exempted: the safe default.
    for blueprint in app.blueprints.values():
        if blueprint.name != blp.name:
            csrf.exempt(blueprint)
