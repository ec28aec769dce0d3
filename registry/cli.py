"""The `registry` command: thin wrappers over the same services the API calls.

Every command takes `--json` for machine output. Bad input (a domain error) prints one clear
line on stderr and exits with code 2; each command is one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sys
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from frameworks import reference
from frameworks import services as frameworks
from mappings import grade_tables
from mappings import services as mappings
from mappings.grades import authority_name
from mappings.impact import impact as impact_report
from mappings.schemas import (
    CreditConversionSchema,
    CreditsQuerySchema,
    EquivalentsQuerySchema,
    EquivalentsSchema,
    GradeConversionSchema,
    GradesQuerySchema,
    GradeTableOutSchema,
    ImpactQuerySchema,
    ImpactSchema,
)
from registry.config import load_config
from registry.core import accounts, audit, csvout, inputs
from registry.core.db import MAX_ID, make_engine, make_session_factory
from registry.core.errors import DomainError, InvalidData
from registry.core.normalise import whole_number
from registry.core.permissions import OPERATOR, ROLES, Actor, Target, authorize
from registry.match_reviews import services as match_reviews
from registry.match_reviews.schemas import MatchReviewSchema, ReviewQuerySchema

EXIT_BAD_INPUT = 2


def _database_url() -> str:
    return load_config()["DATABASE_URL"]


def _engine(url: str):
    """The command's engine; on SQLite a write waits DATABASE_BUSY_TIMEOUT seconds for another
    to end, then the command stops with one `error:` line (domain_command)."""
    return make_engine(url, busy_timeout=load_config()["DATABASE_BUSY_TIMEOUT"])


@contextmanager
def session_scope():
    """One session per command: committed when the command succeeds, rolled back otherwise."""
    url = _database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(url)
    session = make_session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


def domain_command(func: Callable) -> Callable:
    """Turn domain errors, and errors of the database (busy past its timeout, a conflict with
    a concurrent writer, unreachable), into one line on stderr and exit code 2: never a
    traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DomainError as error:
            fields = "; ".join(
                f"{name}: {' '.join(map(str, messages)) if isinstance(messages, list) else messages}"
                for name, messages in _flat(error.errors)
            )
            click.echo(f"error: {error.detail}" + (f" ({fields})" if fields else ""), err=True)
            sys.exit(EXIT_BAD_INPUT)
        except SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            reason = " ".join(str(cause).split())[:300]
            click.echo(
                f"error: the database refused the command; what it had not committed is undone "
                f"({type(cause).__name__}: {reason})",
                err=True,
            )
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


def _flat(errors: dict, prefix: str = ""):
    for name, messages in errors.items():
        if isinstance(messages, dict):
            yield from _flat(messages, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", messages


def _emit(as_json: bool, data: dict, schema: Schema | None, text: str) -> None:
    if as_json:
        click.echo(json.dumps(schema.dump(data) if schema else data, ensure_ascii=False, indent=2))
    else:
        click.echo(text)


def _decimal(value: str, field: str) -> Decimal:
    try:
        return inputs.parse_decimal(value)
    except ValueError as error:
        raise InvalidData(
            f"{value!r} is not a number here: {error}", errors={field: [str(error)]}
        ) from None


def _date(value: str | None, field: str = "on") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidData(
            f"{value!r} is not a date (YYYY-MM-DD).", errors={field: ["Not a valid date."]}
        ) from None


def _query(schema: Schema, values: dict[str, Any]) -> dict[str, Any]:
    """Options checked with the schema of the API's query for the same answer: what the API
    refuses (400), the command refuses (exit 2), with the same messages."""
    try:
        return schema.load({key: value for key, value in values.items() if value is not None})
    except ValidationError as error:
        raise InvalidData(
            "The options cannot be used as given.", errors=dict(error.messages)
        ) from None


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def operator() -> Actor:
    """The person at the server's command line, acting as admin; one request id per command."""
    return dataclasses.replace(OPERATOR, request_id=f"cli-{uuid.uuid4().hex}")


@click.group()
def main() -> None:
    """Cross-border credential recognition and transfer registry."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_option
def db_upgrade(as_json: bool) -> None:
    """Create or migrate the database to the latest schema."""
    from registry.migrations import upgrade

    url = _database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    _emit(as_json, {"database": url, "revision": "head"}, None, f"Database at head: {url}")


@main.command("load-reference")
@json_option
@domain_command
def load_reference(as_json: bool) -> None:
    """Load the bundled frameworks, credit systems and grading scales (idempotent)."""
    with session_scope() as session:
        summary = reference.load_reference(session, operator())
    outcomes = [
        f"{r['code']} {r['version']}: {r['outcome']}" for r in summary["frameworks"]
    ]
    text = "\n".join(
        [
            *outcomes,
            f"credit systems: {summary['credit_systems']}",
            f"grading scales: {summary['grading_scales']}",
        ]
    )
    _emit(as_json, summary, None, text)


@main.group("import")
def import_group() -> None:
    """Load files into the registry."""


@import_group.command("framework")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@domain_command
def import_framework(file: Path, as_json: bool) -> None:
    """Load one framework-definition file (see frameworks/data/README.md)."""
    raw = _json_file(file, "file")
    with session_scope() as session:
        result = reference.import_definition(session, operator(), raw)
    _emit(
        as_json,
        result.as_dict(),
        None,
        f"{result.code} {result.version}: {result.outcome} "
        f"({result.levels} levels, {result.links} links)",
    )


def _json_file(path: Path, argument: str) -> Any:
    """A JSON file's content; a file that cannot be read as UTF-8 JSON is InvalidData naming
    the command's argument."""
    try:
        # The same checks as a request body's: not too deep, text a database can store.
        return inputs.load_json(path.read_text(encoding="utf-8"), argument)
    except (OSError, UnicodeDecodeError, inputs.NotJSON) as error:
        reason = error.__cause__ if isinstance(error, inputs.NotJSON) else error
        raise InvalidData(
            f"{path} is not a readable JSON file (missing, or not UTF-8 JSON): {reason}",
            errors={argument: [str(reason)]},
        ) from error


@contextmanager
def progress_file(path: Path, enabled: bool):
    """The file opened for reading, with a progress bar on stderr that follows the bytes read."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with path.open("rb") as raw:
        if not enabled:
            yield raw, None
            return
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[counts]}"),
        )
        with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(path.name, total=path.stat().st_size, counts="")
            with bar.wrap_file(raw, total=path.stat().st_size, task_id=task) as stream:

                def update(report) -> None:
                    bar.update(task, counts=f"{report.read} read, {report.rejected} rejected")

                yield stream, update


def _print_report(report, as_json: bool, errors_file: Path | None) -> None:
    data = report.as_dict()
    if errors_file:
        with errors_file.open("w", newline="", encoding="utf-8") as out:
            writer = csvout.Writer(out)
            writer.writerow(["position", "reason"])
            writer.writerows((e["position"], e["reason"]) for e in data["errors"])
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{data['format']} {data['source']}: {data['state']}. read {data['read']} = inserted "
        f"{data['inserted']} + updated {data['updated']} + unchanged {data['unchanged']} + "
        f"rejected {data['rejected']}"
    )
    for error in data["errors"][:20]:
        click.echo(f"  {error['position']}: {error['reason']}")
    if len(data["errors"]) > 20:
        click.echo(
            f"  ... {len(data['errors']) - 20} more"
            + (f" in {errors_file}" if errors_file else " (use --errors FILE.csv for all)")
        )


def _run_import(file: Path, as_json: bool, errors_file: Path | None, start) -> None:
    """Run an import in the foreground with a progress bar. A file that cannot be read (another
    format, malformed, cut off) is bad input: its report, then one `error:` line naming what was
    found, and exit 2; an atomic import rolled back for rejected records exits 1."""
    engine = _engine(_database_url())
    try:
        with progress_file(file, not as_json) as (stream, update):
            report = start(make_session_factory(engine), stream, update)
    finally:
        engine.dispose()
    _print_report(report, as_json, errors_file)
    if report.failure:
        click.echo(f"error: {report.failure}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if report.state != "completed":
        sys.exit(1)


# An id as the databases store it: a larger number is refused here, not by the driver.
DATABASE_ID = click.IntRange(1, MAX_ID)

import_options = [
    click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
    click.option("--atomic", is_flag=True, help="All or nothing: any rejected record undoes all."),
    click.option(
        "--errors",
        "errors_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write every rejected record's position and reason (CSV).",
    ),
    json_option,
    domain_command,
]


def with_import_options(command: Callable) -> Callable:
    for option in reversed(import_options):
        command = option(command)
    return command


def _institution_import(fmt: str, doc: str) -> None:
    @click.option(
        "--status",
        type=click.Choice(["recognised", "not_recognised", "unknown"]),
        default=None,
        help="The recognition status the list states for its entries.",
    )
    @click.option("--status-source", default=None, help="Who publishes the list, and when.")
    @with_import_options
    def command(file: Path, status, status_source, atomic, errors_file, as_json) -> None:
        from importers.institutions import import_institutions

        _run_import(
            file,
            as_json,
            errors_file,
            lambda sessions, stream, update: import_institutions(
                sessions,
                operator(),
                fmt,
                stream,
                file.name,
                status=status,
                status_source=status_source,
                atomic=atomic,
                progress=update,
            ),
        )

    command.__doc__ = doc
    import_group.command(fmt)(command)


def _catalogue_import(fmt: str, doc: str) -> None:
    @click.option(
        "--institution",
        "institution_id",
        type=DATABASE_ID,
        default=None,
        help="The institution the entries belong to (required for courses).",
    )
    @with_import_options
    def command(file: Path, institution_id, atomic, errors_file, as_json) -> None:
        from importers import catalogue

        start = {
            "qualifications-csv": catalogue.import_qualifications,
            "courses-csv": catalogue.import_courses,
        }[fmt]
        _run_import(
            file,
            as_json,
            errors_file,
            lambda sessions, stream, update: start(
                sessions,
                operator(),
                stream,
                file.name,
                institution_id=institution_id,
                atomic=atomic,
                progress=update,
            ),
        )

    command.__doc__ = doc
    import_group.command(fmt)(command)


def _qdr_import() -> None:
    @with_import_options
    def command(file: Path, atomic, errors_file, as_json) -> None:
        """Import a Europass QDR upload (national register qualifications)."""
        from importers.catalogue import import_qdr

        _run_import(
            file,
            as_json,
            errors_file,
            lambda sessions, stream, update: import_qdr(
                sessions, operator(), stream, file.name, atomic=atomic, progress=update
            ),
        )

    import_group.command("qdr")(command)


def _transcript_import(fmt: str, doc: str) -> None:
    @click.option(
        "--received-by",
        "--institution",
        "received_by",
        type=DATABASE_ID,
        default=None,
        help="The institution that received the records (its id), their owner; without it, "
        "they are the registry's, for admins only.",
    )
    @click.option(
        "--credit-system",
        default=None,
        help="Open Badges: the credit system of the credits the badges state.",
    )
    @click.option(
        "--credits-per-badge",
        default=None,
        help="Open Badges: the credits of a badge that states none.",
    )
    @with_import_options
    def command(
        file: Path, received_by, credit_system, credits_per_badge, atomic, errors_file, as_json
    ) -> None:
        from importers.transcripts import import_transcripts

        _run_import(
            file,
            as_json,
            errors_file,
            lambda sessions, stream, update: import_transcripts(
                sessions,
                operator(),
                fmt,
                stream,
                file.name,
                received_by=received_by,
                atomic=atomic,
                progress=update,
                credit_system=credit_system,
                credits_per_badge=credits_per_badge,
            ),
        )

    command.__doc__ = doc
    import_group.command(fmt)(command)


_qdr_import()


@import_group.command("articulations-csv")
@with_import_options
def import_articulations_command(file: Path, atomic, errors_file, as_json) -> None:
    """Import course articulations (long format; columns: see importers/articulations.py)."""
    from importers.articulations import import_articulations

    _run_import(
        file,
        as_json,
        errors_file,
        lambda sessions, stream, update: import_articulations(
            sessions, operator(), stream, file.name, atomic=atomic, progress=update
        ),
    )


_transcript_import("elmo", "Import ELMO transcripts (bare, or in an EWP ToR response; gzip too).")
_transcript_import("elm", "Import Europass ELM credentials (v2 XML or v3 JSON-LD).")
_transcript_import("open-badges", "Import Open Badges 3.0 credentials (JSON or VC-JWT).")
_institution_import(
    "institutions-json", "Import a list in the universities-and-domains JSON format."
)
_institution_import("ror", "Import a ROR data dump (schema v1 or v2), or one ROR record.")
_catalogue_import(
    "qualifications-csv", "Import qualifications (columns: see importers/catalogue.py)."
)
_catalogue_import(
    "courses-csv", "Import one institution's courses (columns: see importers/catalogue.py)."
)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web UI and API under gunicorn, in one process with the import worker; SIGTERM
    or Ctrl-C stops it. For several processes: `gunicorn wsgi:app`, REDIS_URL and `registry
    worker`."""
    from registry.server import serve as run_server

    run_server(host, port)


@main.command()
@click.argument("level")
@click.option("--target", required=True, help="Target framework code, e.g. DE-DQR.")
@click.option("--on", "on", default=None, help="Date the answer is valid on (YYYY-MM-DD).")
@json_option
@domain_command
def equivalents(level: str, target: str, on: str | None, as_json: bool) -> None:
    """Equivalent levels of LEVEL (FRAMEWORK:LEVEL) in the target framework."""
    query = _query(EquivalentsQuerySchema(), {"level": level, "target": target, "on": on})
    with session_scope() as session:
        answer = EquivalentsSchema().dump(
            mappings.equivalents(session, query["level"], query["target"], query["on"])
        )
    _emit(as_json, answer, None, "\n".join(_equivalents_text(answer)))


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
    amount = _decimal(value, "value")
    if amount < 0:
        raise InvalidData("Credits cannot be negative.", errors={"value": ["Must be 0 or more."]})
    _query(
        CreditsQuerySchema(),
        {"value": value, "from": source, "to": target, "method": method, "rule": rule},
    )
    with session_scope() as session:
        answer = mappings.credits(session, amount, source, target, method, rule).as_dict()
    # The basis names its method ("annual load: ...", "rule CODE: ...").
    text = f"{value} {source} = {answer['value']} {answer['unit']} ({answer['basis']})"
    if "range" in answer:
        text += f"; range {answer['range']['low']}..{answer['range']['high']}"
    _emit(as_json, answer, CreditConversionSchema(), text)


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
    mark = _decimal(pass_mark, "pass") if pass_mark is not None else None
    query = _query(
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
    _emit(as_json, answer, GradeConversionSchema(), "\n".join(lines))


@main.group("grade-table")
def grade_table() -> None:
    """Grade conversion tables: a ministry's for its country, an institution's for itself."""


@grade_table.command("set")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@domain_command
def grade_table_set(file: Path, as_json: bool) -> None:
    """Set the conversion table in FILE (JSON: code, from, to, authority, rows, citation, and
    optionally replaces), validated as the API validates it."""
    raw = _json_file(file, "file")
    with session_scope() as session:
        shown = grade_tables.shown(grade_tables.create_table(session, operator(), raw))
    text = (
        f"{shown['code']}: {shown['source']} -> {shown['target']}, "
        f"{authority_name(shown['authority'])} ({len(shown['rows'])} rows)"
    )
    _emit(as_json, shown, GradeTableOutSchema(), text)


@grade_table.command("list")
@click.option("--from", "source", default=None, help="Only tables from this scale.")
@click.option("--to", "target", default=None, help="Only tables onto this scale.")
@json_option
@domain_command
def grade_table_list(source: str | None, target: str | None, as_json: bool) -> None:
    """Every conversion table, withdrawn ones marked."""
    with session_scope() as session:
        tables = grade_tables.list_tables(session, source, target)
    lines = [
        f"{t['code']}  {t['source']} -> {t['target']}  {authority_name(t['authority'])}  "
        f"{t['status']}: {t['citation']}"
        for t in tables
    ]
    if as_json:
        click.echo(
            json.dumps(GradeTableOutSchema(many=True).dump(tables), ensure_ascii=False, indent=2)
        )
    else:
        click.echo("\n".join(lines) or "No conversion tables.")


@grade_table.command("withdraw")
@click.argument("code")
@click.option("--reason", required=True, help="Why; kept with the table and in the audit trail.")
@json_option
@domain_command
def grade_table_withdraw(code: str, reason: str, as_json: bool) -> None:
    """Withdraw conversion table CODE: kept, listed as withdrawn, used no more."""
    with session_scope() as session:
        row = grade_tables.withdraw_table(session, operator(), code, {"reason": reason})
        shown = grade_tables.shown(row)
    _emit(as_json, shown, GradeTableOutSchema(), f"{code} withdrawn: {reason}")


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
    _emit(as_json, answer, None, "\n".join(lines))


@main.group("match-review")
def match_review() -> None:
    """Ambiguous institution matches met in assessments and transfer evaluations, to decide."""


def _review_lines(review: dict) -> list[str]:
    lines = [
        f"#{review['id']} {review['state']}: {review['query']!r} ({review['country']}), "
        f"met {review['times']} time(s), last {review['last_seen_at'][:10]}"
    ]
    lines += [
        f"  {c['score']:5.1f}  #{c['id']} {c['name']} [{c['matched_on']}]"
        for c in review["candidates"]
    ]
    if review["seen_in"]:
        places = ", ".join(f"{p['place']} {p['id']}" for p in review["seen_in"])
        lines.append(f"  seen in: {places}")
    if review["state"] != "open":
        chosen = f" institution #{review['institution_id']}" if review["institution_id"] else ""
        alias = " (alias added)" if review["alias_added"] else ""
        why = f": {review['reason']}" if review["reason"] else ""
        lines.append(
            f"  {review['state']}{chosen}{alias} by {review['decided_by']} on "
            f"{review['decided_at'][:10]}{why}"
        )
    return lines


@match_review.command("list")
@click.option("--state", default=None, help="open (the default), confirmed or rejected.")
@click.option("--country", default=None, help="Only this country's entries (ISO 3166-1 alpha-2).")
@click.option("--limit", default=None, type=int, help="At most this many (1-500, default 100).")
@click.option("--offset", default=None, type=int, help="Skip this many first.")
@json_option
@domain_command
def match_review_list(
    state: str | None, country: str | None, limit: int | None, offset: int | None, as_json: bool
) -> None:
    """The queue, open entries most met first, with their candidates as offered."""
    query = _query(
        ReviewQuerySchema(),
        {"state": state, "country": country, "limit": limit, "offset": offset},
    )
    with session_scope() as session:
        found = match_reviews.list_reviews(session, operator(), **query)
    if as_json:
        click.echo(
            json.dumps(MatchReviewSchema(many=True).dump(found), ensure_ascii=False, indent=2)
        )
    else:
        lines = [line for review in found for line in _review_lines(review)]
        click.echo("\n".join(lines) or f"No {query['state']} entries.")


@match_review.command("confirm")
@click.argument("review_id", type=DATABASE_ID)
@click.option(
    "--institution",
    "institution_id",
    required=True,
    type=DATABASE_ID,
    help="The institution meant: a candidate, or another of the entry's country.",
)
@click.option("--reason", default=None, help="Why, if useful; kept and audited.")
@json_option
@domain_command
def match_review_confirm(
    review_id: int, institution_id: int, reason: str | None, as_json: bool
) -> None:
    """Confirm entry REVIEW_ID: its spelling names the institution, and becomes its alias."""
    body = {"institution_id": institution_id, "reason": reason}
    with session_scope() as session:
        review = match_reviews.confirm(session, operator(), review_id, body)
    _emit(as_json, review, MatchReviewSchema(), "\n".join(_review_lines(review)))


@match_review.command("reject")
@click.argument("review_id", type=DATABASE_ID)
@click.option("--reason", required=True, help="Why; kept and audited.")
@json_option
@domain_command
def match_review_reject(review_id: int, reason: str, as_json: bool) -> None:
    """Reject entry REVIEW_ID: none of its candidates is meant."""
    with session_scope() as session:
        review = match_reviews.reject(session, operator(), review_id, {"reason": reason})
    _emit(as_json, review, MatchReviewSchema(), "\n".join(_review_lines(review)))


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
    from mappings.transfer import evaluate_transcript

    source: object = whole_number(transcript)
    if source is None:
        source = _json_file(Path(transcript), "transcript")
    with session_scope() as session:
        answer = evaluate_transcript(session, operator(), source, institution_id, on=_date(on))
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
    _emit(as_json, answer, None, "\n".join(lines))


@main.command("assess-batch")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(["elmo", "elm", "open-badges"]))
@click.option("--target", required=True, help="A country code (DE) or a framework code (GB-SCQF).")
@click.option("--target-type", default=None, help="The qualification type asked for (bachelor...).")
@click.option("--output", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@domain_command
def assess_batch(file: Path, fmt: str, target: str, target_type: str | None, output: str) -> None:
    """Assess every credential or transcript in FILE; one line each, then a summary line."""
    from importers.batch import assess_records
    from importers.transcripts import READERS
    from mappings.recognition import check_target

    check_target(target, target_type)  # before the CSV header: a refusal prints nothing

    columns = [
        "position",
        "title",
        "institution",
        "assessed",
        "assessment_id",
        "decision",
        "confidence",
        "levels",
        "why",
        "grade",
        "reason",
    ]
    # Titles and names come from the file: no cell may be a spreadsheet formula (csvout).
    writer = None
    if output == "csv":
        writer = csvout.DictWriter(sys.stdout, columns, extrasaction="ignore")
        writer.writeheader()
    failure = None
    with session_scope() as session, file.open("rb") as stream:
        for line in assess_records(session, operator(), READERS[fmt](stream), target, target_type):
            if "summary" in line:
                failure = line["summary"].get("failure")
            if writer is None:
                click.echo(json.dumps(line, ensure_ascii=False, default=str))
            elif "summary" in line:
                writer.writerow({"position": "summary", "reason": json.dumps(line["summary"])})
            else:
                grade = line.get("grade")
                writer.writerow(
                    {
                        **line,
                        "levels": " ".join(line.get("levels", [])),
                        "why": "; ".join(line.get("why", [])),
                        "grade": f"{grade['value']} (not converted: {grade['reason']})"
                        if grade
                        else "",
                    }
                )
    if failure:
        click.echo(f"error: {failure}", err=True)
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32))
def worker(workers: int) -> None:
    """Run import jobs from the queue (Redis when REDIS_URL is set, else instance/huey.sqlite3).
    SIGTERM or Ctrl-C stops it within five seconds: running imports stop after their current
    batch and their jobs go back to the queue."""
    import signal

    from importers.worker import ImportWorker

    runner = ImportWorker(_database_url(), workers, load_config()["DATABASE_BUSY_TIMEOUT"])

    def stop(signum, _frame) -> None:
        if runner.stopping.is_set():  # a second Ctrl-C: leave at once
            sys.exit(1)
        runner.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    requeued = runner.start()
    click.echo(
        f"Import worker {runner.name}: {workers} thread(s); "
        f"{len(requeued)} waiting job(s) queued again.",
        err=True,
    )
    while not runner.stopping.wait(0.5):
        pass
    click.echo("Import worker stopping: running jobs go back to the queue.", err=True)
    if not runner.stop():
        click.echo("error: an import did not stop in time; its lease expires.", err=True)
        sys.exit(1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target", required=True, help="A country code (DE) or a framework code (GB-SCQF).")
@click.option("--target-type", default=None, help="The qualification type asked for (bachelor...).")
@json_option
@domain_command
def assess(file: Path, target: str, target_type: str | None, as_json: bool) -> None:
    """Assess the credential in FILE (JSON) for TARGET and store the decision."""
    from mappings.recognition import assess as run_assessment

    raw = _json_file(file, "file")
    with session_scope() as session:
        answer = run_assessment(session, operator(), raw, target, target_type)
    text = "\n".join(
        [
            f"Assessment {answer['id']}: {answer['decision']} (confidence {answer['confidence']})",
            *_alternative_lines(answer["alternative"]),
            *answer["explanation"],
        ]
    )
    _emit(as_json, answer, None, text)


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


@main.command()
@click.argument("code")
@click.argument("version")
@click.option("--on", "on", default=None, help="Day the draft would take effect (YYYY-MM-DD).")
@json_option
@domain_command
def impact(code: str, version: str, on: str | None, as_json: bool) -> None:
    """What publishing draft VERSION of framework CODE would change, old and new side by side."""
    query = _query(ImpactQuerySchema(), {"on": on})
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
    _emit(as_json, report, None, "\n".join(lines))


def _levels(answer: dict | None) -> str:
    if answer is None:
        return "(no such level)"
    if not answer["matches"]:
        return f"none ({answer.get('reason')})"
    return ", ".join(f"{m['level']} {m['relation']} {m['confidence']}" for m in answer["matches"])


@main.group()
def token() -> None:
    """API tokens: create (shown once), list, revoke."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Country or framework code (ministry), institution id (institution). Repeatable.",
)
@click.option(
    "--account",
    "account_name",
    default=None,
    help="Account name (default: role and scope); created if new.",
)
@click.option("--label", default=None, help="What the token is for.")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None)
@json_option
@domain_command
def token_create(
    role: str,
    scopes: tuple[str, ...],
    account_name: str | None,
    label: str | None,
    expires_in_days: int | None,
    as_json: bool,
) -> None:
    """Create a token for an account with ROLE and SCOPE; the secret is printed once."""
    actor = operator()
    name = account_name or "-".join([role, *sorted(scopes)])
    expires = (accounts.utcnow() + dt.timedelta(days=expires_in_days)) if expires_in_days else None
    with session_scope() as session:
        authorize(actor, "token.manage", Target("token", name))
        account = accounts.get_or_create_account(session, name, role, list(scopes))
        created, secret = accounts.create_token(session, account, label=label, expires_at=expires)
        audit.record(
            session,
            actor,
            "token.create",
            f"token:{created.id}",
            after={
                "account": name,
                "role": role,
                "scopes": sorted(scopes),
                "label": label,
                "expires_at": expires,
                "hint": created.hint,
            },
        )
        answer = {
            "id": created.id,
            "account": name,
            "role": role,
            "scopes": sorted(scopes),
            "expires_at": expires.isoformat() if expires else None,
            "token": secret,
        }
    _emit(
        as_json,
        answer,
        None,
        f"Token {answer['id']} for {name} ({role}). Shown once, keep it safe:\n{secret}",
    )


@token.command("list")
@json_option
@domain_command
def token_list(as_json: bool) -> None:
    """Every token with its account, state and hint (never the secret)."""
    with session_scope() as session:
        rows = [
            {
                "id": t.id,
                "account": t.account.name,
                "role": t.account.role,
                "scopes": t.account.scopes,
                "hint": t.hint + "…",
                "label": t.label,
                "state": t.state(),
                "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            }
            for t in accounts.list_tokens(session)
        ]
    text = (
        "\n".join(
            f"{r['id']:>4}  {r['state']:8} {r['hint']:14} {r['account']} ({r['role']}) {r['label'] or ''}"
            for r in rows
        )
        or "No tokens."
    )
    _emit(as_json, {"tokens": rows}, None, text)


@token.command("revoke")
@click.argument("token_id", type=DATABASE_ID)
@json_option
@domain_command
def token_revoke(token_id: int, as_json: bool) -> None:
    """Revoke token TOKEN_ID at once."""
    actor = operator()
    with session_scope() as session:
        authorize(actor, "token.manage", Target("token", str(token_id)))
        revoked = accounts.revoke_token(session, token_id)
        audit.record(
            session,
            actor,
            "token.revoke",
            f"token:{token_id}",
            after={"revoked_at": revoked.revoked_at},
        )
    _emit(as_json, {"id": token_id, "state": "revoked"}, None, f"Token {token_id} revoked.")


@main.group()
def account() -> None:
    """Accounts for the web login."""


@account.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--scope", "scopes", multiple=True)
@json_option
@domain_command
def account_create(name: str, role: str, scopes: tuple[str, ...], as_json: bool) -> None:
    """Create (or set the password of) an account that can log in to the web pages.

    The password is never an argument (it would stay in the shell history and the process
    list): it is asked for, twice, at a terminal, or read as the first line of standard input
    (`registry account create anna --role registrar < password-file`). It must not be a common
    password and must be hard to guess (at least 12 characters); setting it ends the account's
    web sessions."""
    password = read_password()
    actor = operator()
    with session_scope() as session:
        authorize(actor, "token.manage", Target("account", name))
        created = accounts.get_or_create_account(session, name, role, list(scopes))
        accounts.set_password(created, password, user_inputs=[name])
        ended = accounts.end_sessions(session, created)
        audit.record(
            session,
            actor,
            "account.password",
            f"account:{name}",
            after={"role": role, "scopes": sorted(scopes), "sessions_ended": ended},
        )
    _emit(as_json, {"account": name, "role": role}, None, f"Account {name} ({role}) can log in.")


def read_password() -> str:
    """A password from the terminal (hidden, asked twice) or the first line of stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@json_option
@domain_command
def audit_verify(as_json: bool) -> None:
    """Check the chain of audit events: each event's hash matches its content and names the
    event before it. Exit code 2, naming the first bad event, when it does not."""
    with session_scope() as session:
        verdict = audit.verify(session)
    answer = {
        "ok": verdict.ok,
        "checked": verdict.checked,
        "broken_at": verdict.broken_at,
        "reason": verdict.reason,
    }
    if verdict.ok:
        _emit(as_json, answer, None, f"The audit trail holds: {verdict.checked} events chained.")
        return
    if as_json:
        _emit(True, answer, None, "")
    click.echo(
        f"error: the audit trail is broken at event {verdict.broken_at}: {verdict.reason} "
        f"({verdict.checked} events before it hold).",
        err=True,
    )
    sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
