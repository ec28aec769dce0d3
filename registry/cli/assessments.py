"""Assessing credentials and evaluating transfers."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import click

from registry.cli.base import (
    DATABASE_ID,
    EXIT_BAD_INPUT,
    date_argument,
    domain_command,
    emit,
    json_file,
    json_option,
    main,
    operator,
    session_scope,
)
from registry.config import load_config
from registry.core import csvout
from registry.core.normalise import whole_number
from registry.issuing import trust_source


@main.command()
@click.argument("transcript")
@click.option(
    "--institution",
    "institution_id",
    required=True,
    type=DATABASE_ID,
    help="The receiving institution's id.",
)
@click.option("--on", "on", default=None, help="Evaluate as of this date (YYYY-MM-DD).")
@json_option
@domain_command
def transfer(transcript: str, institution_id: int, on: str | None, as_json: bool) -> None:
    """Evaluate TRANSCRIPT (a stored transcript id, or a JSON file) course by course."""
    from mappings.transfer.services import evaluate_transcript

    source: object = whole_number(transcript)
    if source is None:
        source = json_file(Path(transcript), "transcript")
    with session_scope() as session:
        answer = evaluate_transcript(
            session, operator(), source, institution_id, on=date_argument(on)
        )
    lines = []
    for index, item in enumerate(answer["results"]):
        best = (item.get("suggestions") or [None])[0]
        if item["status"] == "granted":
            detail = f"granted {item['credits_granted']}"
        elif best:
            detail = f"suggest {best.get('code')} {best.get('title')!r} (score {best['score']})"
        else:
            detail = item.get("reason") or ""
        lines.append(
            f"{index:3} {item.get('code') or '-':10} {item['title'][:40]!r:42} "
            f"{item['status']:14} {detail}"
        )
    lines.append(f"summary: {json.dumps(answer['summary'], default=str)}")
    emit(as_json, answer, None, "\n".join(lines))


@main.command("assess-batch")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(["elmo", "elm", "open-badges"]))
@click.option("--target", required=True, help="A country code (DE) or a framework code (GB-SCQF).")
@click.option("--target-type", default=None, help="The qualification type asked for (bachelor...).")
@click.option("--output", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@domain_command
def assess_batch(file: Path, fmt: str, target: str, target_type: str | None, output: str) -> None:
    """Assess every credential or transcript in FILE; one line each, then a summary line."""
    from importers.batch import CSV_COLUMNS, assess_records, check_batch_target, csv_row
    from importers.transcripts import READERS
    from importers.verification import stored

    failure = None
    with session_scope() as session, file.open("rb") as stream:
        check_batch_target(
            session, target, target_type
        )  # before the header: a refusal prints nothing
        data = stream.read()
        # Verified once; every credential of the file names the verification.
        verification = stored.summary(
            *stored.verify_upload(
                session,
                operator(),
                data,
                filename=file.name,
                trust_source=trust_source(load_config()),
                fmt=fmt,
            )
        )
        # Titles and names come from the file: no cell may be a spreadsheet formula (csvout).
        writer = None
        if output == "csv":
            writer = csvout.DictWriter(sys.stdout, CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
        records = READERS[fmt](io.BytesIO(data))
        for line in assess_records(session, operator(), records, target, target_type, verification):
            if "summary" in line:
                failure = line["summary"].get("failure")
            if writer is None:
                click.echo(json.dumps(line, ensure_ascii=False, default=str))
            else:
                writer.writerow(csv_row(line))
    if failure:
        click.echo(f"error: {failure}", err=True)
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", required=True, help="A country code (DE) or a framework code (GB-SCQF).")
@click.option("--target-type", default=None, help="The qualification type asked for (bachelor...).")
@click.option(
    "--verification",
    "verification_id",
    default=None,
    help="The id of the stored verification of the credential's file (POST /verifications).",
)
@json_option
@domain_command
def assess(
    file: Path, target: str, target_type: str | None, verification_id: str | None, as_json: bool
) -> None:
    """Assess the credential in FILE (JSON) for TARGET and store the decision."""
    from mappings.recognition import assess as run_assessment

    raw = json_file(file, "file")
    with session_scope() as session:
        answer = run_assessment(
            session, operator(), raw, target, target_type, verification_id=verification_id
        )
    text = "\n".join(
        [
            f"Assessment {answer['id']}: {answer['decision']} (confidence {answer['confidence']})",
            *_alternative_lines(answer["alternative"]),
            *answer["explanation"],
        ]
    )
    emit(as_json, answer, None, text)


def _alternative_lines(alternative: dict | None) -> list[str]:
    """What a refusal or a partial recognition offers instead, right under the decision."""
    if alternative is None:
        return []
    form = alternative["form"]
    lines = [f"Alternative: {form}" + (f" ({alternative['rule']})" if alternative["rule"] else "")]
    reached = alternative["recognised_as"]
    if reached:
        kind = reached["qualification_type"]
        lines.append(
            f"  recognised as: {reached['level'] or 'no level of the target'} "
            f"(EQF {reached['eqf_level']}" + (f", {kind.replace('_', ' ')}" if kind else "") + ")"
        )
    if alternative["ects_counted"] is not None:
        lines.append(f"  ECTS that count: {alternative['ects_counted']}")
    if alternative["bridging_ects"] is not None:
        lines.append(f"  bridging needed: {alternative['bridging_ects']} ECTS")
    lines.append(f"  {'why none' if form == 'none' else 'detail'}: {alternative['detail']}")
    if alternative["basis"]:
        lines.append(f"  basis: {alternative['basis']}")
    return lines
