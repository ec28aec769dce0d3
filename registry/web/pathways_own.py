"""An institution's own pathways: all of them (proposed and rejected ones too, which only it and
admins see), a form to propose one, and the decision on each (approve, or reject with the
reason).

The same services as the API's /pathways: `create_pathway` and `decide` authorise on the
institution that owns the pathway really written (`catalogue.edit`), whatever the form names, and
validate the record; their messages come back beside the fields they are about. The form works
without scripts: the credentials are found by a search posted with the form, which keeps what
was typed and the credentials already chosen.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import MultiDict

from frameworks import services as frameworks
from registry.auth import current_actor
from registry.catalogue import services as catalogue
from registry.catalogue.pathways import services as pathways
from registry.core.errors import InvalidData, NotFound
from registry.core.normalise import whole_number
from registry.core.permissions import Actor, authorize_role
from registry.errors import STATUS_BY_ERROR
from registry.institutions import services as institutions
from registry.web.base import blp, field_messages, get_session, task
from registry.web.workspace import institution_of

# The record's fields as the form names them; `credential` (repeated) holds "kind:id".
TEXTS = ("rule_id", "title", "description", "credits", "credit_system", "min_grade")
TEXTS += ("min_grade_scale", "supervision", "max_total_credits", "valid_from", "valid_to")
TEXTS += ("source",)
NUMBERS = ("programme_id", "choose", "max_age_months")
SUPERVISION = {
    "supervised_no_identity_check": lazy_gettext("supervised, without an identity check"),
    "supervised_identity_verified": lazy_gettext("supervised, with the identity verified"),
}
LABELS = {
    "rule_id": lazy_gettext("Your reference"),
    "title": lazy_gettext("Title"),
    "description": lazy_gettext("Description"),
    "programme_id": lazy_gettext("Programme it counts toward"),
    "credential": lazy_gettext("Credentials that count"),
    "choose": lazy_gettext("How many of them are needed"),
    "credits": lazy_gettext("Credits"),
    "credit_system": lazy_gettext("Credit system"),
    "min_grade": lazy_gettext("Minimum grade"),
    "min_grade_scale": lazy_gettext("Grading scale of the minimum"),
    "supervision": lazy_gettext("Least supervision of the assessment"),
    "quality_assured": lazy_gettext("The issuer must be quality assured"),
    "max_age_months": lazy_gettext("Awarded at most this many months before"),
    "max_total_credits": lazy_gettext("At most this many credits from pathways in all"),
    "valid_from": lazy_gettext("Valid from"),
    "valid_to": lazy_gettext("Valid until"),
    "source": lazy_gettext("Source of the agreement"),
}
CREDENTIAL_KINDS = {"qualification": "qualification_id", "course": "course_id"}
# A search in the form offers this many entries; a narrower text finds the rest.
OFFERED = 20
# The service's keys that are about another field of the form than their own name.
FIELD_OF = {"programme_code": "programme_id", "credentials": "credential"}

task(
    "our_pathways",
    lazy_gettext("Our pathways"),
    lazy_gettext("what counts toward your programmes: propose pathways, approve or reject them."),
    roles=("institution",),
)


def _editor() -> tuple[Actor, int | None]:
    """The signed-in actor, if its role may edit a catalogue, and the institution the page is
    about (the service decides on the pathway itself whether the actor may write it)."""
    actor = current_actor()
    authorize_role(actor, "catalogue.edit")
    return actor, institution_of(actor)


@blp.get("/pathways")
def our_pathways():
    actor, institution_id = _editor()
    institution, rows, editable = None, [], False
    if institution_id is not None:
        editable = pathways.may_see_drafts(actor, institution_id)
        session = get_session()
        institution = institutions.get_institution(session, institution_id)
        rows = [
            pathways.present(pathway)
            for pathway in pathways.list_pathways(session, actor, institution_id=institution_id)
        ]
    return render_template(
        "pathways/own.html", institution=institution, rows=rows, editable=editable
    )


@blp.route("/pathways/new", methods=["GET", "POST"])
def propose_pathway():
    actor, institution_id = _editor()
    if institution_id is None:
        return redirect(url_for("web.our_pathways"))
    form = request.form if request.method == "POST" else MultiDict({"credit_system": "ECTS"})
    if request.method == "GET" or form.get("step") == "search":
        return _form_page(institution_id, form)
    try:
        pathway = pathways.create_pathway(get_session(), actor, _record(institution_id, form))
    except InvalidData as error:
        return _form_page(institution_id, form, error), STATUS_BY_ERROR[InvalidData]
    flash(gettext("Pathway %(rule)s proposed: it counts once approved.", rule=pathway.rule_id))
    return redirect(_back(actor, institution_id, pathway.id))


@blp.post("/pathways/<int:pathway_id>/decision")
def decide_pathway(pathway_id: int):
    actor = current_actor()
    status = request.form.get("status", "")
    pathway = pathways.decide(
        get_session(),
        actor,
        pathway_id,
        {"status": status, "reason": request.form.get("reason", "").strip() or None},
    )
    if pathway.status == "approved":
        flash(gettext("Pathway %(rule)s approved: it counts from now on.", rule=pathway.rule_id))
    elif pathway.status == "rejected":
        flash(gettext("Pathway %(rule)s rejected.", rule=pathway.rule_id))
    else:
        flash(gettext("Pathway %(rule)s is proposed again.", rule=pathway.rule_id))
    return redirect(_back(actor, pathway.institution_id, pathway.id))


def _back(actor: Actor, institution_id: int, pathway_id: int) -> str:
    """The institution's list, at the pathway; an admin's names the institution."""
    named = {} if actor.role == "institution" else {"institution": institution_id}
    return url_for("web.our_pathways", _anchor=f"pathway-{pathway_id}", **named)


def _record(institution_id: int, form: MultiDict) -> dict[str, Any]:
    """The pathway as the API takes it, from the form's filled fields: an empty field is left
    out, so that the service's default (or its message about what is missing) applies."""
    raw: dict[str, Any] = {"institution_id": institution_id, "credentials": []}
    for name in TEXTS:
        if form.get(name, "").strip():
            raw[name] = form[name].strip()
    for name in NUMBERS:
        value = form.get(name, "").strip()
        if value:
            raw[name] = whole_number(value, 18) or value
    raw["quality_assured"] = form.get("quality_assured") == "true"
    for kind, number in _chosen(form):
        raw["credentials"].append({CREDENTIAL_KINDS[kind]: number})
    return raw


def _chosen(form: MultiDict) -> list[tuple[str, int]]:
    """The credentials ticked in the form, in their order, each once; what is not "kind:id"
    is passed over (the form never offers it)."""
    chosen: list[tuple[str, int]] = []
    for value in form.getlist("credential"):
        kind, _, number = value.partition(":")
        entry = (kind, whole_number(number, 18))
        if kind in CREDENTIAL_KINDS and entry[1] is not None and entry not in chosen:
            chosen.append(entry)
    return chosen


def _form_page(institution_id: int, form: MultiDict, error: InvalidData | None = None) -> str:
    session = get_session()
    institution = institutions.get_institution(session, institution_id)
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    if error is not None:
        for key, message in field_messages(error.errors):
            name = key.split(".")[0]
            name = FIELD_OF.get(name, name)
            if name in (*TEXTS, *NUMBERS, "credential", "quality_assured"):
                errors.setdefault(name, []).append(message)
            else:
                general.append(f"{key}: {message}")
    picked = []
    for kind, number in _chosen(form):
        read = catalogue.get_qualification if kind == "qualification" else catalogue.get_course
        try:
            entry = read(session, number)
        except NotFound:
            entry = None  # shown as chosen; the service names it as unknown
        picked.append((f"{kind}:{number}", kind, entry))
    kind = form.get("search_kind")
    kind = kind if kind in ("qualifications", "courses") else "courses"
    text = form.get("search", "").strip()[:200]
    found, total = [], 0
    if form.get("step") == "search" and text:
        found, total = catalogue.search_catalogue(session, None, kind, text, OFFERED)
    held = {value for value, *_ in picked}
    offered = [(f"{kind[:-1]}:{e.id}", e) for e in found if f"{kind[:-1]}:{e.id}" not in held]
    return render_template(
        "pathways/new.html",
        institution=institution,
        values=form,
        errors=errors,
        problem=error.detail if error is not None else None,
        general=general,
        labels=LABELS,
        programmes=[
            (str(q.id), f"{q.code} · {q.title}")
            for q in catalogue.find_qualifications(session, institution_id=institution_id)
        ],
        credit_systems=[
            (s.code, f"{s.code} · {s.name}") for s in frameworks.list_credit_systems(session)
        ],
        grading_scales=[(s.code, s.code) for s in frameworks.list_grading_scales(session)],
        supervision=[(value, SUPERVISION[value]) for value in SUPERVISION],
        picked=picked,
        offered=offered,
        issuers=catalogue.issuers_of(
            session, [entry for *_, entry in picked] + [entry for _, entry in offered]
        ),
        searched=form.get("step") == "search",
        search_kind=kind,
        search_text=text,
        total=total,
    )
