"""Credit and grade calculators: the API's conversions as GET forms, so that every answer has a
shareable address with the API's own parameters (/credits?value=240&from=GB-CATS&to=ECTS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext
from marshmallow import Schema, ValidationError

from frameworks import services as frameworks
from mappings import services as mappings
from mappings.schemas import CreditsQuerySchema, GradesQuerySchema
from registry.core.errors import InvalidData
from registry.web.base import blp, field_messages, get_session, task

task(
    "credits",
    lazy_gettext("Credit calculator"),
    lazy_gettext("convert a credit volume between credit systems, with the method in words."),
)
task(
    "grades",
    lazy_gettext("Grade calculator"),
    lazy_gettext("convert a grade between grading scales, with the method in words."),
)

CREDIT_METHODS = {
    "annual_load": lazy_gettext(
        "By annual load: a full-time year of study in one system equals a full-time year in "
        "the other, as recognition practice converts."
    ),
    "notional_hours": lazy_gettext(
        "By notional hours: the hours of study behind the credits. A system that gives a "
        "range of hours per credit gives a range of credits, shown with its midpoint."
    ),
    "rule": lazy_gettext(
        "By an explicit conversion rule of an institution or an agreement, which overrides "
        "both methods."
    ),
}
GRADE_METHODS = {
    "linear": lazy_gettext(
        "By the two-anchor linear formula (the modified Bavarian formula): the best grade and "
        "the pass mark of one scale are set against those of the other, and the grade is "
        "placed between them in proportion."
    ),
    "distribution": lazy_gettext(
        "By grade distribution tables: the grade's place among the grades actually given (its "
        "percentile) is found on the other scale's table."
    ),
    "table": lazy_gettext(
        "By a conversion table that a ministry or an institution set for the two scales, which "
        "overrides the methods."
    ),
}


def asked(schema: Schema) -> dict[str, str]:
    """The query parameters the API's schema reads (by their names in the URL), filled in."""
    names = {field.data_key or name for name, field in schema.fields.items()}
    return {name: value for name, value in request.args.items() if name in names and value}


def convert(
    schema: Schema, service: Callable[[dict[str, Any]], Any], query: dict[str, str]
) -> tuple[Any, list[tuple[str, str]]]:
    """The service's answer for the query loaded by the API's schema, or the messages saying
    why there is none, by field as the URL names it ("" for the whole query)."""
    try:
        return service(schema.load(query)), []
    except ValidationError as error:
        return None, list(field_messages(error.normalized_messages()))
    except InvalidData as error:
        return None, list(field_messages(error.errors)) or [("", error.detail)]


def _credits(args: dict[str, Any]):
    # As the API calls it (registry/api/conversions.py).
    return mappings.credits(
        get_session(), args["value"], args["source"], args["target"], args["method"], args["rule"]
    )


def _grades(args: dict[str, Any]):
    return mappings.grades(
        get_session(),
        args["value"],
        args["source"],
        args["target"],
        args["method"],
        args["pass_mark"],
        args["table"],
        args["group"],
        args["institution"],
        args["country"],
    )


@blp.get("/credits")
def credits():
    query = asked(CreditsQuerySchema())
    result, problems = convert(CreditsQuerySchema(), _credits, query) if query else (None, [])
    return render_template(
        "search/credits.html",
        query=query,
        result=result.as_dict() if result else None,
        problems=problems,
        systems=frameworks.list_credit_systems(get_session()),
        methods=CREDIT_METHODS,
    ), 400 if problems else 200


@blp.get("/grades")
def grades():
    query = asked(GradesQuerySchema())
    result, problems = convert(GradesQuerySchema(), _grades, query) if query else (None, [])
    return render_template(
        "search/grades.html",
        query=query,
        result=result.as_dict() if result else None,
        problems=problems,
        scales=frameworks.list_grading_scales(get_session()),
        methods=GRADE_METHODS,
    ), 400 if problems else 200
