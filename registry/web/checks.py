"""Checking a statement: anyone holding a statement's check code learns here whether the
registry issued it, with its decision, date and inputs digest (what the statement itself shows
its holder, nothing more), and downloads it signed. The registry's DID document is here too.

A code that names no issued statement (mistyped, guessed, or another record's) is one 404
page, the same for each: nothing tells a close guess from a wild one.
"""

from __future__ import annotations

from flask import current_app, json, redirect, render_template, request, url_for
from flask_babel import lazy_gettext

from registry import errors
from registry.core.errors import NotFound
from registry.issuing import issuing
from registry.statements import keys, services
from registry.web.base import blp, get_session, task
from registry.web.desk import DECISIONS

# The longest code typed: the kind, a number of up to 12 digits, 16 letters, and separators.
MAX_CODE = 64
DOWNLOADS = {"jwt": "statement.jwt", "di": "statement.json"}
KIND_NAMES = {
    "assessment": lazy_gettext("Statement of comparability"),
    "transfer": lazy_gettext("Transfer credit evaluation"),
    "pathway": lazy_gettext("Pathway evaluation"),
}

task(
    "check",
    lazy_gettext("Check a statement"),
    lazy_gettext("type the code printed on a statement to learn whether the registry issued it."),
)


def _issuing():
    return issuing(current_app.config)


@blp.app_template_global()
def statement_check(kind: str, record: dict) -> dict[str, str]:
    """A stored record's check code and the public URL it is checked at, for its pages."""
    issued = _issuing()
    code = services.check_code(issued, kind, record)
    # `url` is what a statement prints and signs (PUBLIC_URL); `path` is this site's own link
    # to the check page, for the pages that are read here.
    return {
        "code": code,
        "url": issued.check_url(code),
        "path": url_for("web.checked", code=code),
    }


@blp.get("/check")
def check():
    code = request.args.get("code", "").strip()[:MAX_CODE]
    if code:
        return redirect(url_for("web.checked", code=code))
    return render_template("check/form.html", code="")


@blp.get("/check/<code>")
def checked(code: str):
    try:
        found = services.check(get_session(), _issuing(), code[:MAX_CODE])
    except NotFound:
        return _unknown(code)
    return render_template(
        "check/statement.html",
        found=found,
        kind_name=KIND_NAMES[found["kind"]],
        decision_text=DECISIONS.get(found["decision"], found["decision"]),
        formats=list(DOWNLOADS),
        signing=_issuing().key is not None,
    )


def _unknown(code: str):
    """The one answer to a code that names no issued statement: the form again, with it."""
    return render_template("check/form.html", code=code[:MAX_CODE], unknown=True), 404


@blp.get("/check/<code>/statement.jwt")
def checked_jwt(code: str):
    return _download(code, "jwt")


@blp.get("/check/<code>/statement.json")
def checked_di(code: str):
    return _download(code, "di")


def _download(code: str, fmt: str):
    """The statement the code names, signed, as a file to keep: its holder passes it on."""
    try:
        media, body = services.signed_by_code(get_session(), _issuing(), code[:MAX_CODE], fmt)
    except NotFound:
        return _unknown(code)
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=2)
    response = current_app.response_class(text, mimetype=media)
    response.headers["Content-Disposition"] = f'attachment; filename="{DOWNLOADS[fmt]}"'
    return response


@blp.get("/.well-known/did.json")
def did_document():
    """The issuer's DID document, for an ISSUER_ID did:web naming this host; public keys only."""
    config = current_app.config
    try:
        key = keys.required(config["SIGNING_KEY"], config["ISSUER_ID"])
    except keys.NoSigningKey as error:
        return errors.problem(503, error.title, error.detail)
    response = current_app.response_class(json.dumps(key.did_document()))
    response.mimetype = "application/did+json"
    return response
