"""`registry pathways where|toward|evaluate`: pathway queries both ways, and a learner's
credentials evaluated against a programme's pathways, as the API answers them."""

from __future__ import annotations

from pathlib import Path

import click

from registry.cli.base import (
    DATABASE_ID,
    date_argument,
    domain_command,
    emit,
    json_file,
    json_option,
    operator,
    session_scope,
)
from registry.cli.pathways import pathways
from registry.core.errors import InvalidData

FORMATS = ("json", "elmo", "elm", "open-badges")


def _line(pathway: dict) -> str:
    """One approved pathway: what it grants, toward what, where, and what it needs."""
    owner, programme = pathway["institution"], pathway["programme"]
    count, choose = len(pathway["credentials"]), pathway["choose"]
    converted = pathway.get("credits_converted")
    credits = f"{pathway['credits']} {pathway['credit_system']}"
    if converted and converted["unit"] != pathway["credit_system"]:
        credits += f" (= {converted['value']} {converted['unit']}, {converted['method']})"
    elif "credits_converted" in pathway and converted is None:
        credits += " (not convertible)"
    needs = (
        f"any {choose} of {count}" if choose else f"all {count}" if count > 1 else "1 credential"
    )
    more = pathway["still_needed"]["count"]
    return (
        f"#{pathway['id']} {pathway['rule_id']}: {credits} toward {programme['code']} "
        f"{programme['title']!r} at {owner['name']} ({owner['country']}); needs {needs}"
        + (f", {more} more" if more and more < count else "")
    )


@pathways.command("where")
@click.option("--qualification", type=DATABASE_ID, default=None, help="A qualification's id.")
@click.option("--course", type=DATABASE_ID, default=None, help="A course's id.")
@click.option("--unit", default=None, help="Convert the credits to this credit system.")
@click.option("--on", "on", default=None, help="As of this date (YYYY-MM-DD; default today).")
@json_option
@domain_command
def pathways_where(
    qualification: int | None, course: int | None, unit: str | None, on: str | None, as_json: bool
) -> None:
    """Where a credential counts: the approved pathways that accept it."""
    from mappings.pathways.services import where_it_counts

    with session_scope() as session:
        answer = where_it_counts(
            session,
            operator(),
            qualification_id=qualification,
            course_id=course,
            unit=unit,
            on=date_argument(on),
        )
    held = answer["credential"]
    lines = [f"{held['kind']} {held['code']} {held['title']!r} counts, on {answer['on']}:"]
    lines += [f"  {_line(pathway)}" for pathway in answer["pathways"]] or ["  nowhere."]
    emit(as_json, answer, None, "\n".join(lines))


@pathways.command("toward")
@click.argument("programme_id", type=DATABASE_ID)
@click.option("--unit", default=None, help="Convert the credits to this credit system.")
@click.option("--on", "on", default=None, help="As of this date (YYYY-MM-DD; default today).")
@json_option
@domain_command
def pathways_toward(programme_id: int, unit: str | None, on: str | None, as_json: bool) -> None:
    """What counts toward PROGRAMME_ID: its approved pathways."""
    from mappings.pathways.services import toward_programme

    with session_scope() as session:
        answer = toward_programme(
            session, operator(), programme_id, unit=unit, on=date_argument(on)
        )
    programme = answer["programme"]
    lines = [f"Toward {programme['code']} {programme['title']!r}, on {answer['on']}:"]
    lines += [f"  {_line(pathway)}" for pathway in answer["pathways"]] or ["  nothing."]
    emit(as_json, answer, None, "\n".join(lines))


def _credentials(files: tuple[Path, ...], fmt: str) -> list[dict]:
    """The credentials the files hold: a JSON credential (or a list of them) each, or every
    passed result of an ELMO, ELM or Open Badges file, read as `registry assess-batch` reads
    them; a result that is not a credential held is named on stderr."""
    from importers.batch import held_credentials
    from importers.runner import FileError
    from importers.transcripts import READERS

    found = []
    for path in files:
        if fmt == "json":
            content = json_file(path, "file")
            found.extend(content if isinstance(content, list) else [content])
            continue
        try:
            with path.open("rb") as stream:
                for position, credential in held_credentials(READERS[fmt](stream)):
                    if isinstance(credential, str):
                        click.echo(f"{path} {position}: {credential}", err=True)
                    else:
                        found.append(credential)
        except OSError as error:
            detail = f"{path} cannot be read: {error}"
            raise InvalidData(detail, errors={"file": [detail]}) from None
        except FileError as error:
            detail = f"{path} cannot be read at {error.position}: {error.reason}"
            raise InvalidData(detail, errors={"file": [detail]}) from None
    return found


@pathways.command("evaluate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--programme", "programme_id", required=True, type=DATABASE_ID)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="json",
    show_default=True,
    help="The files' format: JSON credentials, or transcripts and badges.",
)
@click.option(
    "--transcript",
    "transcripts",
    multiple=True,
    type=DATABASE_ID,
    help="A stored transcript's id (repeatable).",
)
@click.option("--on", "on", default=None, help="The day of evaluation (YYYY-MM-DD).")
@json_option
@domain_command
def pathways_evaluate(
    files: tuple[Path, ...],
    programme_id: int,
    fmt: str,
    transcripts: tuple[int, ...],
    on: str | None,
    as_json: bool,
) -> None:
    """Evaluate the credentials in FILES (and stored transcripts) against PROGRAMME's
    pathways, and store the evaluation."""
    from mappings.pathways.services import evaluate_pathways

    raw = {
        "programme": programme_id,
        "credentials": _credentials(files, fmt),
        "transcripts": list(transcripts),
        "on": on,
    }
    with session_scope() as session:
        answer = evaluate_pathways(session, operator(), raw)
    lines = [
        *answer["explanation"],
        f"Evaluation {answer['id']} stored ({answer['inputs_digest']}).",
    ]
    emit(as_json, answer, None, "\n".join(lines))
