"""`registry grade-table ...`: conversion tables set by an institution or a ministry."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mappings import grade_tables
from mappings.grades import authority_name
from mappings.schemas import (
    GradeTableOutSchema,
)
from registry.cli.base import (
    domain_command,
    emit,
    json_file,
    json_option,
    main,
    operator,
    session_scope,
)


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
    raw = json_file(file, "file")
    with session_scope() as session:
        shown = grade_tables.shown(grade_tables.create_table(session, operator(), raw))
    text = (
        f"{shown['code']}: {shown['source']} -> {shown['target']}, "
        f"{authority_name(shown['authority'])} ({len(shown['rows'])} rows)"
    )
    emit(as_json, shown, GradeTableOutSchema(), text)


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
    emit(as_json, shown, GradeTableOutSchema(), f"{code} withdrawn: {reason}")
