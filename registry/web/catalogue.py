"""An institution's catalogue, browsed and searched: its qualifications and its courses, a page
at a time. A catalogue is public (DESIGN: everyone reads it); the workspace opens on the
visitor's own institution."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext

from registry.auth import current_actor
from registry.catalogue import services
from registry.institutions import services as institutions
from registry.web.base import blp, get_session, task
from registry.web.workspace import institution_of, page_number

PER_PAGE = 25
KINDS = ("courses", "qualifications")

task(
    "catalogue",
    lazy_gettext("Catalogue"),
    lazy_gettext("browse and search your institution's courses and qualifications."),
    roles=("institution",),
)


@blp.get("/catalogue")
def catalogue():
    institution_id = institution_of(current_actor())
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else KINDS[0]
    text = request.args.get("q", "").strip()[:200]
    page = page_number()
    institution, items, total = None, [], 0
    if institution_id is not None:
        session = get_session()
        institution = institutions.get_institution(session, institution_id)
        items, total = services.search_catalogue(
            session, institution.id, kind, text, PER_PAGE, (page - 1) * PER_PAGE
        )
    return render_template(
        "workspace/catalogue.html",
        institution=institution,
        kind=kind,
        kinds=KINDS,
        text=text,
        items=items,
        total=total,
        page=page,
        more=page * PER_PAGE < total,
        first=(page - 1) * PER_PAGE + 1,
    )
