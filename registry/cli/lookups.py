"""Look-ups and conversions: equivalents, credits, grades, institution names, a draft's impact."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from mappings import services as mappings
from mappings.impact import impact as impact_report
from mappings.schemas import (
    CreditConversionSchema,
    CreditsQuerySchema,
    EquivalentsQuerySchema,
    EquivalentsSchema,
    GradeConversionSchema,
    GradesQuerySchema,
    ImpactQuerySchema,
    ImpactSchema,
)
from registry.cli.base import (
    DATABASE_ID,
    decimal_argument,
    domain_command,
    emit,
    json_option,
    loaded_query,
    main,
    operator,
    session_scope,
)
from registry.core.errors import InvalidData


@main.command()
@click.argument("level")
@click.option("--target", required=True, help="Target framework code, e.g. DE-DQR.")
@click.option("--on", "on", default=None, help="Date the answer is valid on (YYYY-MM-DD).")
@json_option
@domain_command
def equivalents(level: str, target: str, on: str | None, as_json: bool) -> None:
    """Equivalent levels of LEVEL (FRAMEWORK:LEVEL) in the target framework."""
    query = loaded_query(EquivalentsQuerySchema(), {"level": level, "target": target, "on": on})
    with session_scope() as session:
        answer = EquivalentsSchema().dump(
            mappings.equivalents(session, query["level"], query["target"], query["on"])
        )
    emit(as_json, answer, None, "\n".join(_equivalents_text(answer)))


def _equivalents_text(answer: dict[str, Any]) -> list[str]:
    """The answer as lines: each match with its path, what rests on a secondary source and a
    superseded source level said where they apply."""
    superseded = [f"  {answer['superseded']['note']}"] if answer.get("superseded") else []
    if not answer["matches"]:
        return [
            f"{answer['source']} has no counterpart in {answer['target_framework']} on "
            f"{answer['on']} ({answer['reason']}).",
            *superseded,
        ]
    lines = [f"{answer['source']} in {answer['target_framework']} on {answer['on']}:", *superseded]
    for match in answer["matches"]:
        flag = "  (rests on a secondary source)" if match["secondary"] else ""
        lines.append(
            f"  {match['level']}  {match['relation']}  confidence {match['confidence']}{flag}"
        )
        for step in match["path"]:
            kind = ", succession" if step.get("succession") else ""
            lines.append(
                f"    {step['from']} -> {step['to']} {step['relation']} ({step['basis']}{kind}): "
                f"{step['citation']}"
            )
            if step.get("secondary_source"):
                lines.append(f"      read only in a secondary source: {step['secondary_source']}")
    return lines


@main.command("convert-credits")
@click.argument("value")
@click.argument("source")
@click.option("--to", "target", required=True, help="Target credit system, e.g. ECTS.")
@click.option(
    "--method",
    default="annual_load",
    show_default=True,
    type=click.Choice(["annual_load", "notional_hours"]),
)
@click.option(
    "--rule", default=None, help="An explicit conversion rule code; overrides the method."
)
@json_option
@domain_command
def convert_credits(
    value: str, source: str, target: str, method: str, rule: str | None, as_json: bool
) -> None:
    """Convert VALUE credits of system SOURCE."""
    amount = decimal_argument(value, "value")
    if amount < 0:
        raise InvalidData("Credits cannot be negative.", errors={"value": ["Must be 0 or more."]})
    loaded_query(
        CreditsQuerySchema(),
        {"value": value, "from": source, "to": target, "method": method, "rule": rule},
    )
    with session_scope() as session:
        answer = mappings.credits(session, amount, source, target, method, rule).as_dict()
    # The basis names its method ("annual load: ...", "rule CODE: ...").
    text = f"{value} {source} = {answer['value']} {answer['unit']} ({answer['basis']})"
    if "range" in answer:
        text += f"; range {answer['range']['low']}..{answer['range']['high']}"
    emit(as_json, answer, CreditConversionSchema(), text)


@main.command("convert-grade")
@click.argument("value")
@click.argument("source")
@click.option("--to", "target", required=True, help="Target grading scale, e.g. FR-0-20.")
@click.option(
    "--method", default="linear", show_default=True, type=click.Choice(["linear", "distribution"])
)
@click.option(
    "--pass", "pass_mark", default=None, help="The source scale's pass mark, when it differs."
)
@click.option(
    "--table", default=None, help="An explicit conversion table code; overrides the method."
)
@click.option(
    "--group",
    default="default",
    show_default=True,
    help="Reference group of the distribution tables.",
)
@click.option(
    "--institution",
    type=DATABASE_ID,
    default=None,
    help="Convert as this institution does: its own conversion table applies, if it set one.",
)
@click.option(
    "--country",
    default=None,
    help="Convert for this country: its ministry's conversion table applies, if it set one.",
)
@json_option
@domain_command
def convert_grade(
    value: str,
    source: str,
    target: str,
    method: str,
    pass_mark: str | None,
    table: str | None,
    group: str,
    institution: int | None,
    country: str | None,
    as_json: bool,
) -> None:
    """Convert grade VALUE of scale SOURCE; the answer says what it rests on."""
    mark = decimal_argument(pass_mark, "pass") if pass_mark is not None else None
    query = loaded_query(
        GradesQuerySchema(),
        {
            "value": value,
            "from": source,
            "to": target,
            "method": method,
            "pass": pass_mark,
            "table": table,
            "group": group,
            "institution": institution,
            "country": country,
        },
    )
    with session_scope() as session:
        answer = mappings.grades(
            session,
            value,
            source,
            target,
            method,
            mark,
            table,
            group,
            institution,
            query["country"],
        ).as_dict()
    verdict = "pass" if answer["passed"] else "fail"
    text = f"{value} {source} = {answer['value']} {answer['scale']} ({verdict}, {answer['method']})"
    lines = [text, f"basis: {answer['basis']}", *answer.get("steps", [])]
    emit(as_json, answer, GradeConversionSchema(), "\n".join(lines))


@main.command("match-institution")
@click.argument("name")
@click.option("--country", default=None, help="ISO 3166-1 alpha-2 code, when known.")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 20))
@json_option
@domain_command
def match_institution_command(name: str, country: str | None, limit: int, as_json: bool) -> None:
    """Find the institution NAME (or an identifier or web domain) stands for."""
    from mappings.institutions import match_institution

    with session_scope() as session:
        result = match_institution(session, name, country, limit)
        answer = {
            "query": result.query,
            "verdict": result.verdict,
            "candidates": [dataclasses.asdict(c) for c in result.candidates],
        }
    lines = [f"{answer['verdict']}: {name!r}" + (f" in {country}" if country else "")]
    lines += [
        f"  {c['score']:5.1f}  #{c['id']} {c['name']} ({c['country']}) [{c['matched_on']}]"
        for c in answer["candidates"]
    ]
    emit(as_json, answer, None, "\n".join(lines))


@main.command()
@click.argument("code")
@click.argument("version")
@click.option("--on", "on", default=None, help="Day the draft would take effect (YYYY-MM-DD).")
@json_option
@domain_command
def impact(code: str, version: str, on: str | None, as_json: bool) -> None:
    """What publishing draft VERSION of framework CODE would change, old and new side by side."""
    query = loaded_query(ImpactQuerySchema(), {"on": on})
    with session_scope() as session:
        report = ImpactSchema().dump(impact_report(session, operator(), code, version, query["on"]))
    lines = [
        f"{code} draft {version} against {report['compared_with']}, on {report['on']}: "
        f"{len(report['changes'])} changed answers ({report['levels']} levels x "
        f"{report['frameworks']} frameworks compared)"
    ]
    for change in report["changes"]:
        lines.append(
            f"  {change['level']} in {change['target_framework']}: "
            f"{_levels(change['old'])} -> {_levels(change['new'])}"
        )
    if report["assessments"]:
        lines.append(f"{len(report['assessments'])} stored assessments would change:")
        lines += [
            f"  #{a['id']} {a['title']!r} for {a['target']}: {a['old']} -> {a['new']}"
            for a in report["assessments"]
        ]
    emit(as_json, report, None, "\n".join(lines))


def _levels(answer: dict | None) -> str:
    if answer is None:
        return "(no such level)"
    if not answer["matches"]:
        return f"none ({answer.get('reason')})"
    return ", ".join(f"{m['level']} {m['relation']} {m['confidence']}" for m in answer["matches"])
