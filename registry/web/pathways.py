"""Pathways for everyone: "Where does this count?" (a credential of the registry's catalogues,
found by a search over all of them, and every approved pathway valid today that accepts it, in
any institution and country) and "What counts toward this programme?" (a programme's approved
pathways).

Both read through the same queries as GET /api/v1/pathways/where and /toward, which show only
approved pathways, with their credits converted to the unit the reader picks (ECTS unless
another is asked for; the service refuses a unit the registry does not know).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import gettext, lazy_gettext

from frameworks import services as frameworks
from mappings.pathways import services as pathways
from registry.auth import current_actor
from registry.catalogue import services as catalogue
from registry.core.errors import InvalidData
from registry.core.normalise import whole_number
from registry.web.base import blp, get_session, task
from registry.web.workspace import page_number

PER_PAGE = 25
KINDS = ("qualifications", "courses")
DEFAULT_UNIT = "ECTS"
# Searching every catalogue for one letter reads them all: a search needs this much text.
MIN_SEARCH = 2

task(
    "where_it_counts",
    lazy_gettext("Where does this count?"),
    lazy_gettext(
        "find a qualification or a course and every programme, in any country, it counts toward."
    ),
)
task(
    "toward_programme",
    lazy_gettext("What counts toward a programme?"),
    lazy_gettext(
        "a programme's approved pathways: what counts, for how many credits, on what terms."
    ),
)


@blp.get("/pathways/where")
def where_it_counts():
    session = get_session()
    unit = request.args.get("unit", "").strip()[:20] or DEFAULT_UNIT
    qualification_id = _id_of("qualification")
    course_id = _id_of("course")
    if qualification_id is None and course_id is None:
        return render_template(
            "pathways/where.html", unit=unit, credential=None, search=_search(session, KINDS)
        )
    answer = pathways.where_it_counts(
        session, current_actor(), qualification_id=qualification_id, course_id=course_id, unit=unit
    )
    kind = answer["credential"]["kind"]
    read = catalogue.get_qualification if kind == "qualification" else catalogue.get_course
    credential = read(session, answer["credential"]["id"])
    return render_template(
        "pathways/where.html",
        unit=answer["unit"],
        units=frameworks.list_credit_systems(session),
        credential=credential,
        kind=kind,
        issuer=answer["credential"]["institution"],
        found=answer["pathways"],
    )


@blp.get("/pathways/toward")
def toward_programme():
    session = get_session()
    unit = request.args.get("unit", "").strip()[:20] or DEFAULT_UNIT
    programme_id = _id_of("programme")
    if programme_id is None:
        return render_template(
            "pathways/toward.html",
            unit=unit,
            programme=None,
            search=_search(session, ("qualifications",)),
        )
    answer = pathways.toward_programme(session, current_actor(), programme_id, unit=unit)
    programme = catalogue.get_qualification(session, answer["programme"]["id"])
    return render_template(
        "pathways/toward.html",
        unit=answer["unit"],
        units=frameworks.list_credit_systems(session),
        programme=programme,
        issuer=catalogue.issuers_of(session, [programme]).get(programme.institution_id),
        found=answer["pathways"],
    )


def _id_of(name: str) -> int | None:
    """The record named by `?name=`: None when absent, refused when not a number."""
    asked = request.args.get(name, "").strip()
    if not asked:
        return None
    number = whole_number(asked, 18)
    if number is None:
        raise InvalidData(
            gettext("%(what)s: a record is named by its number.", what=name),
            errors={name: [gettext("A whole number, the record's id.")]},
        )
    return number


def _search(session, kinds: tuple[str, ...]) -> dict[str, Any]:
    """One page of every catalogue's entries of a kind whose code or title holds the text, with
    their issuers; nothing before a search is asked for."""
    kind = request.args.get("kind") if request.args.get("kind") in kinds else kinds[0]
    text = request.args.get("q", "").strip()[:200]
    page = page_number()
    items, total, issuers = [], 0, {}
    if len(text) >= MIN_SEARCH:
        items, total = catalogue.search_catalogue(
            session, None, kind, text, PER_PAGE, (page - 1) * PER_PAGE
        )
        issuers = catalogue.issuers_of(session, items)
    return {
        "kind": kind,
        "kinds": kinds,
        "text": text,
        "too_short": 0 < len(text) < MIN_SEARCH,
        "entries": items,
        "total": total,
        "issuers": issuers,
        "page": page,
        "more": page * PER_PAGE < total,
        "first": (page - 1) * PER_PAGE + 1,
    }
