"""The registrar's decisions: one decision with its explanation, the statement of comparability
for the applicant (a printable page and a PDF), and the registrar's own history, searchable.

A decision is read through the same service as GET /api/v1/assessments/<id>, so it is shown
only to whoever the API would show it to; to anyone else it does not exist (404).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from flask import make_response, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from mappings import recognition
from registry.auth import current_actor
from registry.core.errors import Unauthenticated
from registry.statements import credentials
from registry.web.base import blp, get_session, task
from registry.web.checks import statement_check
from registry.web.desk import ASSESSORS, DECISIONS

PER_PAGE = 20
STATEMENT_CSS = Path(__file__).with_name("static") / "desk-statement.css"
ALTERNATIVES = {
    "conditional": lazy_gettext("Conditional recognition, after bridging credits"),
    "partial": lazy_gettext("Partial recognition: the credits earned count as exemptions"),
    "alternative": lazy_gettext("Alternative recognition, at the level the qualification reaches"),
    "none": lazy_gettext("No alternative"),
}

task(
    "assessments",
    lazy_gettext("My assessments"),
    lazy_gettext("the decisions you made, searchable, each with its statement for the applicant."),
    roles=ASSESSORS,
)


def signed_in_decision(assessment_id: int) -> dict[str, Any]:
    """The stored decision, as the API's GET answers it. A visitor who is not signed in is asked
    to sign in, whatever the number: that says nothing of which decisions exist."""
    actor = current_actor()
    if actor.anonymous:
        raise Unauthenticated(gettext("Sign in to read an assessment."))
    return recognition.get_assessment(get_session(), actor, assessment_id)


def shown(assessment: dict[str, Any]) -> dict[str, Any]:
    """What the pages draw besides the stored answer: the credentials assessed (one, or each of
    a stack), the institution as identified, the sources cited, each once, and the check code
    and URL anyone holding the statement may check it with."""
    inputs = assessment.get("inputs") or {}
    institution = (assessment.get("source") or {}).get("institution") or {}
    alternative = assessment.get("alternative") or {}
    check = statement_check("assessment", assessment)
    return {
        "credentials": inputs.get("stack") or [inputs],
        "institution": institution if institution.get("verdict") == "matched" else None,
        "citations": credentials.citations(assessment),
        "decision_text": DECISIONS.get(assessment["decision"], assessment["decision"]),
        "alternative_text": ALTERNATIVES.get(alternative.get("form"), alternative.get("form")),
        "office_url": url_for("web.assessment", assessment_id=assessment["id"], _external=True),
        "check_code": check["code"],
        "check_url": check["url"],
    }


@blp.get("/assessments/<int:assessment_id>")
def assessment(assessment_id: int):
    found = signed_in_decision(assessment_id)
    return render_template("desk/decision.html", assessment=found, **shown(found))


@blp.get("/assessments/<int:assessment_id>/statement")
def statement(assessment_id: int):
    found = signed_in_decision(assessment_id)
    return render_template("desk/statement.html", assessment=found, **shown(found))


@blp.get("/assessments/<int:assessment_id>/statement.pdf")
def statement_pdf(assessment_id: int):
    # Imported here: WeasyPrint loads Pango on import, which only this page needs.
    import weasyprint

    found = signed_in_decision(assessment_id)
    page = render_template("desk/statement_pdf.html", assessment=found, **shown(found))
    document = weasyprint.HTML(
        string=page, base_url=request.url_root, url_fetcher=refuse_fetch
    ).write_pdf(stylesheets=[weasyprint.CSS(filename=str(STATEMENT_CSS))])
    response = make_response(document)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="statement-of-comparability-{assessment_id}.pdf"'
    )
    return response


def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The statement needs nothing from outside (its stylesheet is given as a file): the PDF
    renderer fetches no URL, whatever a credential's text might name."""
    raise ValueError(f"The statement fetches nothing: {url}")


@blp.get("/assessments")
def assessments():
    actor = current_actor()
    text = request.args.get("q", "").strip()
    problems, days = {}, {}
    for name in ("from", "to"):
        given = request.args.get(name, "").strip()
        try:
            days[name] = dt.date.fromisoformat(given) if given else None
        except ValueError:
            problems[name] = gettext("Not a date: write it as YYYY-MM-DD.")
            days[name] = None
    found = recognition.list_assessments(get_session(), actor, text, days["from"], days["to"])
    pages = max(1, math.ceil(len(found) / PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    query = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "desk/history.html",
        rows=found[(page - 1) * PER_PAGE : page * PER_PAGE],
        total=len(found),
        page=page,
        pages=pages,
        query=query,
        problems=problems,
        decisions=DECISIONS,
    )
