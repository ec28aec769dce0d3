"""The registrar's desk: the credential form (typed in, or pre-filled from a credential file),
live institution suggestions, and the assessment it submits.

The form's fields are named as the credential's schema names them (`institution.name`,
`credits.system`), so that the service's messages, keyed the same way, land beside the field
they are about. The view only unpacks the form: the assessment service validates and decides,
exactly as for POST /api/v1/assessments.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from frameworks import services as frameworks
from importers.batch import credentials
from importers.runner import FileError
from importers.transcripts import READERS
from importers.verification import services as verifier
from importers.verification import stored
from mappings import recognition
from mappings.institutions import match_institution
from registry.auth import current_actor
from registry.catalogue.models import QUALIFICATION_TYPES
from registry.core.errors import InvalidData, NotFound
from registry.core.permissions import ACTIONS, Actor, authorize_role
from registry.errors import STATUS_BY_ERROR
from registry.issuing import trust_list
from registry.sessions import release
from registry.verifications import services as verifications
from registry.web.base import blp, field_messages, get_session, task

ASSESSORS = tuple(sorted(ACTIONS["assessment.create"] - {"admin"}))
# The identifiers a credential file gives for its issuer, as the batch assessment keeps them.
IDENTIFIERS = ("schac", "erasmus", "pic", "ror", "domain")
CREDENTIAL_FIELDS = (
    "title",
    "institution.name",
    "institution.country",
    *(f"institution.identifiers.{scheme}" for scheme in IDENTIFIERS),
    "level",
    "qualification_type",
    "field",
    "credits.value",
    "credits.system",
    "grade.value",
    "grade.scale",
    "awarded_on",
)
TARGET_FIELDS = ("target", "target_qualification_type")
# The stored verification of the file the form was filled from, carried as a hidden field: the
# server looks it up again (and checks it is the office's own) when the decision is asked for.
VERIFICATION = "verification_id"
FORMATS = {
    "elmo": lazy_gettext("ELMO (EMREX, Erasmus Without Paper)"),
    "elm": lazy_gettext("ELM / Europass digital credential (XML or JSON-LD)"),
    "open-badges": lazy_gettext("Open Badges (2.0 or 3.0)"),
}
# More credentials than this in one file: the first ones are offered, with the count.
OFFERED = 50
SUGGESTIONS = 8

task(
    "new_assessment",
    lazy_gettext("Assess a credential"),
    lazy_gettext("type in or upload a credential and get a decision with its explanation."),
    roles=ASSESSORS,
)


def assessor() -> Actor:
    """The signed-in actor, if its role may assess (401 for anonymous, 403 otherwise)."""
    actor = current_actor()
    authorize_role(actor, "assessment.create")
    return actor


@blp.get("/assessments/new")
def new_assessment():
    assessor()
    # Query parameters pre-fill the form: a credential of an uploaded file links here.
    values = {
        name: request.args[name]
        for name in (*CREDENTIAL_FIELDS, *TARGET_FIELDS, "learning_outcomes", VERIFICATION)
        if request.args.get(name)
    }
    return form_page(values)


@blp.post("/assessments/new")
def create_assessment():
    actor = current_actor()
    values = {
        name: request.form.get(name, "").strip()
        for name in (*CREDENTIAL_FIELDS, *TARGET_FIELDS, VERIFICATION)
    }
    values["learning_outcomes"] = request.form.get("learning_outcomes", "")
    try:
        answer = recognition.assess(
            get_session(),
            actor,
            credential_of(values),
            values["target"],
            values["target_qualification_type"] or None,
            verification_id=values[VERIFICATION] or None,
        )
    except (InvalidData, NotFound) as error:
        if isinstance(error, NotFound):
            values.pop(VERIFICATION)
        page = form_page(values, problem=error.detail, messages=list(field_messages(error.errors)))
        return page, STATUS_BY_ERROR[type(error)]
    flash(
        gettext(
            "Assessment %(id)s is stored: %(decision)s.",
            id=answer["id"],
            decision=DECISIONS.get(answer["decision"], answer["decision"]),
        )
    )
    return redirect(url_for("web.assessment", assessment_id=answer["id"]))


@blp.post("/assessments/new/file")
def assessment_from_file():
    """Read a credential file, verify it and store the verification, and show the form filled
    in from it with the verification's id; no credential is stored. A file that cannot be
    verified (too large, unreadable) is still read, and the form says why it is not verified."""
    actor = assessor()
    fmt = request.form.get("format", "")
    upload = request.files.get("file")
    if fmt not in READERS or upload is None or not upload.filename:
        failure = gettext("Choose a credential file and its format.")
        return form_page({}, file_problem=failure), 400
    verify_on = request.form.get("verify_on", "").strip()
    try:
        on = dt.date.fromisoformat(verify_on) if verify_on else None
    except ValueError:
        failure = gettext("The day to verify as of is not a date (YYYY-MM-DD).")
        return form_page({}, file_problem=failure, fmt=fmt, verify_on=verify_on), 400
    data = upload.stream.read(verifier.MAX_BYTES + 1)
    verification, unverified = None, None
    try:
        trust = trust_list(current_app.config)
        release()
        examined = stored.examine(data, trust=trust, fmt=fmt, on=on)
        verification = stored.keep(get_session(), actor, examined, filename=upload.filename)
    except InvalidData as error:
        unverified = error.detail
    found, refused, readable = [], [], 0
    try:
        for position, credential in credentials(READERS[fmt](io.BytesIO(data))):
            if isinstance(credential, str):
                refused.append((position, credential))
                continue
            readable += 1
            if len(found) < OFFERED:
                found.append((position, credential))
    except FileError as error:
        failure = gettext(
            "The file cannot be read at %(position)s: %(reason)s",
            position=error.position,
            reason=error.reason,
        )
        return form_page({}, file_problem=failure, fmt=fmt), 400
    if not found:
        failure = gettext("The file holds no credential that can be assessed.")
        return form_page({}, file_problem=failure, refused=refused, fmt=fmt), 400
    carried = {VERIFICATION: str(verification.id)} if verification else {}
    options = [(position, form_values(credential) | carried) for position, credential in found]
    return form_page(
        dict(options[0][1]),
        from_file=upload.filename,
        unverified=unverified,
        options=options,
        readable=readable,
        refused=refused,
        stated=stated_units(found[0][1]),
        fmt=fmt,
        verify_on=verify_on,
    )


@blp.get("/institutions/suggest")
def institution_suggestions():
    """The matcher's candidates for what is typed, for the form's suggestions (as GET
    /api/v1/institutions answers, names and countries only)."""
    query = request.args.get("q", "").strip()
    if len(query) < 2:
        return jsonify({"query": query, "candidates": []})
    try:
        result = match_institution(
            get_session(), query, request.args.get("country") or None, SUGGESTIONS
        )
    except InvalidData as error:
        return jsonify({"query": query, "candidates": [], "detail": error.detail}), 400
    return jsonify(
        {
            "query": query,
            "verdict": result.verdict,
            "candidates": [
                {"name": c.name, "country": c.country, "score": c.score} for c in result.candidates
            ],
        }
    )


def form_page(values: dict[str, str], **shown: Any) -> str:
    session = get_session()
    messages = [(field_of(key), key, message) for key, message in shown.pop("messages", [])]
    errors: dict[str, list[str]] = {}
    for name, _key, message in messages:
        if name:
            errors.setdefault(name, []).append(message)
    known = frameworks.list_frameworks(session)
    in_force = [(f, frameworks.version_on(f)) for f in known]
    verification = None
    if values.get(VERIFICATION):
        try:
            verification = verifications.get_verification(
                session, current_actor(), int(values[VERIFICATION])
            )
        except (NotFound, ValueError):
            # Not the office's own, or not an id: no verification is carried.
            values = {key: value for key, value in values.items() if key != VERIFICATION}
    return render_template(
        "desk/new.html",
        values=values,
        verification=verification,
        verdicts=VERDICTS,
        errors=errors,
        messages=messages,
        formats=FORMATS,
        qualification_types=[(kind, kind.replace("_", " ")) for kind in QUALIFICATION_TYPES],
        identifiers=IDENTIFIERS,
        identifiers_given=any(values.get(f"institution.identifiers.{s}") for s in IDENTIFIERS),
        levels=[level.ref for _, version in in_force if version for level in version.levels],
        targets=[
            *(f.code for f, version in in_force if version),
            *sorted({f.country for f, version in in_force if version and f.country}),
        ],
        credit_systems=frameworks.list_credit_systems(session),
        grading_scales=frameworks.list_grading_scales(session),
        **shown,
    )


FIELD_OF = {"institution": "institution.name", "credits": "credits.value", "grade": "grade.value"}


def field_of(key: str) -> str | None:
    """The form field a message of the service is about (`institution.identifiers.ror.value`
    is about `institution.identifiers.ror`; `credits` as a whole, about its value)."""
    fields = (*CREDENTIAL_FIELDS, *TARGET_FIELDS, "learning_outcomes")
    return next((f for f in fields if key == f or key.startswith(f + ".")), FIELD_OF.get(key))


def credential_of(values: dict[str, str]) -> dict[str, Any]:
    """The credential as the API takes it, from the form's filled fields; an empty field is
    left out, so that the schema names what is missing."""
    raw: dict[str, Any] = {}
    for name in CREDENTIAL_FIELDS:
        if values.get(name):
            *parents, last = name.split(".")
            node = raw
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = values[name]
    outcomes = [line.strip() for line in values.get("learning_outcomes", "").splitlines()]
    if any(outcomes):
        raw["learning_outcomes"] = [line for line in outcomes if line]
    return raw


def form_values(credential: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The form's fields filled from a credential read from a file (the reverse of
    `credential_of`); what the file states only in words stays out (see `stated_units`)."""
    values: dict[str, str] = {}
    for key, value in credential.items():
        name = prefix + key
        if isinstance(value, dict):
            values.update(form_values(value, name + "."))
        elif name in CREDENTIAL_FIELDS and value not in (None, ""):
            values[name] = str(value)
    if credential.get("credits_stated"):
        values["credits.value"] = str(credential["credits_stated"]["value"])
    if credential.get("grade_stated"):
        values["grade.value"] = str(credential["grade_stated"]["value"])
    return values


def stated_units(credential: dict[str, Any]) -> dict[str, str | None]:
    """What the file says of the credits' unit and the grade's scale in its own words, for the
    registrar to pick the registry's unit and scale that stand for them."""
    grade = credential.get("grade_stated")
    return {
        "credits": "" if credential.get("credits_stated") else None,
        "grade": (grade.get("scheme") or "") if grade else None,
    }


VERDICTS = {
    "verified": lazy_gettext("verified"),
    "invalid": lazy_gettext("invalid signature"),
    "unsigned": lazy_gettext("not signed"),
    "unknown_issuer": lazy_gettext("signed by an issuer the trust list does not hold"),
}
DECISIONS = {
    "recognised": lazy_gettext("recognised"),
    "partially_recognised": lazy_gettext("partially recognised"),
    "not_recognised": lazy_gettext("not recognised"),
    "needs_review": lazy_gettext("needs review"),
}
