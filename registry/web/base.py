"""What every page shares: the blueprint, the page context (actor, tasks, language), the
security headers, sign-in and sign-out, and the error pages.

Views call the same services as the API with the same actor (`current_actor()`, here from the
login session); the request owns the transaction, as for the API. Every form carries a CSRF
token; domain errors render an HTML page with the status the API would answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import flask
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from registry import errors, limits
from registry.auth import actor_or_anonymous, request_id
from registry.core import accounts, audit
from registry.core.errors import DomainError, Unauthenticated
from registry.core.permissions import Actor
from registry.sessions import get_session

LANGUAGES = ("en", "de")

blp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web/static",
)


@dataclasses.dataclass(frozen=True)
class Task:
    """A page the navigation and the home page offer, to the roles that may use it."""

    endpoint: str
    label: Any  # a lazy string, translated when rendered
    description: Any
    # None: everyone, signed in or not; otherwise the roles it is offered to (admins see all).
    roles: frozenset[str] | None = None

    def offered_to(self, actor: Actor) -> bool:
        return self.roles is None or actor.role == "admin" or actor.role in self.roles


TASKS: list[Task] = []

# The error pages' titles in the reader's language: the domain errors' and Werkzeug's (English
# stays as it was), and Werkzeug's stock explanations of the statuses a page can meet.
TITLES = {
    "Error": lazy_gettext("Error"),
    "Not found": lazy_gettext("Not found"),
    "Conflict": lazy_gettext("Conflict"),
    "Invalid data": lazy_gettext("Invalid data"),
    "Permission denied": lazy_gettext("Permission denied"),
    "Unauthenticated": lazy_gettext("Unauthenticated"),
    "Bad Request": lazy_gettext("Bad Request"),
    "Not Found": lazy_gettext("Not Found"),
    "Method Not Allowed": lazy_gettext("Method Not Allowed"),
    "Request Entity Too Large": lazy_gettext("Request Entity Too Large"),
    "Too Many Requests": lazy_gettext("Too Many Requests"),
    "Internal Server Error": lazy_gettext("Internal Server Error"),
    "Service Unavailable": lazy_gettext("Service Unavailable"),
}
DETAILS = {
    404: lazy_gettext(
        "There is no page at this address. Check it, or start again from the home page."
    ),
    405: lazy_gettext("This address does not take that kind of request."),
    500: lazy_gettext(
        "Something went wrong on the server; nothing you sent was stored half-way. Try again, "
        "and tell the registry's operator if it happens again."
    ),
}


def task(endpoint: str, label: Any, description: Any, roles: tuple[str, ...] | None = None):
    """Offer a page in the navigation; `label` and `description` are lazy_gettext strings, so
    they are translated when the page is drawn, in the reader's language."""
    TASKS.append(
        Task(f"web.{endpoint}", label, description, frozenset(roles) if roles is not None else None)
    )


def select_locale() -> str:
    """`?lang=` when asked, then the language chosen before (a cookie), then the browser's; a
    language without a catalogue is passed over."""
    for asked in (request.args.get("lang"), request.cookies.get("lang")):
        if asked in LANGUAGES:
            return asked
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


@blp.app_context_processor
def _page_context() -> dict[str, Any]:
    # Error pages render this too, so a bad bearer header must not raise again here.
    actor = actor_or_anonymous()
    return {
        "actor": actor,
        "tasks": [t for t in TASKS if t.offered_to(actor)],
        "locale": str(get_locale() or LANGUAGES[0]),
        "languages": LANGUAGES,
    }


@blp.app_template_global()
def today_iso() -> str:
    """Today, for date fields whose earliest choice is today (a version takes effect today or
    later): the field says so before the service refuses."""
    return dt.date.today().isoformat()


@blp.after_request
def _page_headers(response: flask.Response) -> flask.Response:
    # Only the pages' own scripts run, so an injected one would not; and no other site may
    # frame them, so nobody can be tricked into clicking "Publish" through an invisible frame.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
        "base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        response.set_cookie("lang", chosen, max_age=365 * 24 * 3600, samesite="Lax")
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


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
        failure = gettext(
            "Too many failed sign-ins. Try again in %(minutes)d minute(s).", minutes=minutes
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
        return render_template(
            "login.html", name=name, failure=gettext("Unknown account or wrong password.")
        ), 401
    # A fresh session at login: nothing set before it (by anyone) carries over into the login.
    flask.session.clear()
    flask.session["sid"] = accounts.start_session(session, account)
    signed_in = dataclasses.replace(account.actor(), request_id=request_id())
    audit.record(session, signed_in, "account.login", f"account:{account.name}")
    flash(gettext("Signed in as %(name)s.", name=account.name))
    return redirect(safe_next(request.form.get("next")) or url_for("web.index"))


@blp.post("/logout")
def logout():
    # Ended on the server too: a copy of the cookie signs nobody in any more.
    if flask.session.get("sid"):
        accounts.end_session(get_session(), str(flask.session["sid"]))
    flask.session.clear()
    flash(gettext("Signed out."))
    return redirect(url_for("web.index"))


def safe_next(target: str | None) -> str | None:
    """A page of this site to return to after signing in; never another site. Browsers drop
    tabs and line breaks from an address and read a backslash as a slash, so `/<tab>/evil` and
    `/\\evil` would lead away: a path with any of those, or with a scheme or a host, is refused."""
    if not target or not target.isprintable() or any(c.isspace() or c == "\\" for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


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
        title=TITLES.get(error.title, error.title),
        detail=error.detail,
        messages=list(field_messages(error.errors)),
    ), status


@blp.errorhandler(CSRFError)
def csrf_error_page(error: CSRFError):
    detail = gettext(
        "The form was not accepted: %(reason)s Go back, reload the page and send the form again.",
        reason=error.description,
    )
    return render_template(
        "error.html", status=400, title=gettext("Form not accepted"), detail=detail, messages=[]
    ), 400


@blp.errorhandler(HTTPException)
def http_error_page(error: HTTPException):
    status = error.code or 500
    detail = error.description
    if status == 413:
        limit = flask.current_app.config.get("MAX_CONTENT_LENGTH") or 0
        detail = gettext(
            "The file is larger than %(mb)s MB, the most one upload may be. An XML file (ELMO, "
            "ELM) compressed with gzip (.gz) is read as well: compress it and send it again.",
            mb=f"{limit / (1024 * 1024):g}",
        )
    elif detail == type(error).description and status in DETAILS:
        detail = DETAILS[status]
    return render_template(
        "error.html",
        status=status,
        title=TITLES.get(error.name, error.name),
        detail=detail,
        messages=[],
    ), status


def for_the_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def http_error_anywhere(error: HTTPException):
    """Outside any view (an unknown address, a method not allowed): a page for a person, a
    problem document for the API's clients."""
    return errors.handle_http_exception(error) if for_the_api() else http_error_page(error)


def unexpected_error_anywhere(error: Exception):
    """A server error: never a stack trace; a page for a person, logged and recorded as the
    API's are."""
    if for_the_api():
        return errors.handle_unexpected(error)
    flask.current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    errors.record_failure(exception=error)
    return http_error_page(InternalServerError())


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
