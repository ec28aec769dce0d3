"""`registry import ...`: loading files, with the same checks as the API's import jobs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import click

from frameworks import reference
from registry.cli.base import (
    DATABASE_ID,
    EXIT_BAD_INPUT,
    command_engine,
    database_url,
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
from registry.core.db import make_session_factory
from registry.issuing import trust_source


@main.group("import")
def import_group() -> None:
    """Load files into the registry."""


@import_group.command("framework")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@domain_command
def import_framework(file: Path, as_json: bool) -> None:
    """Load one framework-definition file (see frameworks/data/README.md)."""
    raw = json_file(file, "file")
    with session_scope() as session:
        result = reference.import_definition(session, operator(), raw)
    emit(
        as_json,
        result.as_dict(),
        None,
        f"{result.code} {result.version}: {result.outcome} "
        f"({result.levels} levels, {result.links} links)",
    )


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


def _print_report(
    report, as_json: bool, errors_file: Path | None, verification: dict | None = None
) -> None:
    data = report.as_dict()
    if verification is not None:
        data["verification"] = verification
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
    if verification is not None:
        click.echo(
            f"verification: could not be made ({verification['error']})"
            if "error" in verification
            else f"verification {verification['id']}: {verification['verdict']} "
            f"({verification['reason']})"
        )
    for error in data["errors"][:20]:
        click.echo(f"  {error['position']}: {error['reason']}")
    if len(data["errors"]) > 20:
        click.echo(
            f"  ... {len(data['errors']) - 20} more"
            + (f" in {errors_file}" if errors_file else " (use --errors FILE.csv for all)")
        )


def _run_import(
    file: Path, as_json: bool, errors_file: Path | None, start, verification: dict | None = None
) -> None:
    """Run an import in the foreground with a progress bar. A file that cannot be read (another
    format, malformed, cut off) is bad input: its report, then one `error:` line naming what was
    found, and exit 2; an atomic import rolled back for rejected records exits 1. The file's
    `verification` (transcripts: importers.verification.stored.summary) is printed with it."""
    engine = command_engine(database_url())
    try:
        with progress_file(file, not as_json) as (stream, update):
            report = start(make_session_factory(engine), stream, update)
    finally:
        engine.dispose()
    _print_report(report, as_json, errors_file, verification)
    if report.failure:
        click.echo(f"error: {report.failure}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if report.state != "completed":
        sys.exit(1)


# An id as the databases store it: a larger number is refused here, not by the driver.

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
        from importers.verification import stored

        # Verified first and stored (committed), as an import job does; the import goes on
        # whatever the verdict, and every transcript it stores names the verification.
        with session_scope() as session:
            verification = stored.summary(
                *stored.verify_path(
                    session,
                    operator(),
                    file,
                    filename=file.name,
                    trust_source=trust_source(load_config()),
                    fmt=fmt,
                )
            )
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
                verification_id=verification.get("id"),
            ),
            verification,
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


@import_group.command("pathways-csv")
@with_import_options
def import_pathways_csv_command(file: Path, atomic, errors_file, as_json) -> None:
    """Import pathway agreements (long format; columns: see importers/pathways_csv.py)."""
    from importers.pathways_csv import import_pathways_csv

    _run_import(
        file,
        as_json,
        errors_file,
        lambda sessions, stream, update: import_pathways_csv(
            sessions, operator(), stream, file.name, atomic=atomic, progress=update
        ),
    )


@import_group.command("pathways-ctdl")
@click.option(
    "--institution",
    "institution_id",
    type=DATABASE_ID,
    default=None,
    help="The institution whose pathways the file holds (else each profile's ceterms:ownedBy).",
)
@with_import_options
def import_pathways_ctdl_command(file: Path, institution_id, atomic, errors_file, as_json) -> None:
    """Import CTDL Transfer Value Profiles (JSON-LD) as pathways (docs/pathways-ctdl.md)."""
    from importers.pathways import import_pathways_ctdl

    _run_import(
        file,
        as_json,
        errors_file,
        lambda sessions, stream, update: import_pathways_ctdl(
            sessions,
            operator(),
            stream,
            file.name,
            institution_id=institution_id,
            atomic=atomic,
            progress=update,
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
