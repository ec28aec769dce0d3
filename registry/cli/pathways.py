"""`registry pathways ...`: pathway agreements, read and written as the API does them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from importers.pathways import export_ctdl
from registry.catalogue.pathways import services
from registry.catalogue.pathways.models import STATUSES
from registry.catalogue.pathways.schemas import PathwayQuerySchema
from registry.cli.base import (
    DATABASE_ID,
    domain_command,
    emit,
    json_file,
    json_option,
    loaded_query,
    main,
    operator,
    session_scope,
)


@main.group("pathways")
def pathways() -> None:
    """Pathway agreements: credentials that count toward a programme, and on what terms."""


def _headline(pathway: dict) -> str:
    programme, owner = pathway["programme"], pathway["institution"]
    return (
        f"#{pathway['id']} {pathway['status']}: {pathway['rule_id']} {pathway['title']!r}: "
        f"{pathway['credits']} {pathway['credit_system']} toward {programme['code']} "
        f"{programme['title']!r} at {owner['name']} ({owner['country']})"
    )


def _lines(pathway: dict) -> list[str]:
    """The pathway in full, as `show` prints it."""
    count = len(pathway["credentials"])
    choose = pathway["choose"]
    lines = [_headline(pathway), f"  any {choose} of these {count}:" if choose else "  all of:"]
    for credential in pathway["credentials"]:
        issuer = credential["institution"]
        lines.append(
            f"    {credential['kind']} #{credential['id']} {credential['code']} "
            f"{credential['title']!r}"
            + (f" ({issuer['name']}, {issuer['country']})" if issuer else "")
        )
    conditions = pathway["conditions"]
    said = [
        f"grade at least {conditions['min_grade']} on {conditions['min_grade_scale']}"
        if conditions["min_grade"]
        else None,
        f"assessment {conditions['supervision']} or better" if conditions["supervision"] else None,
        "issuer quality assured" if conditions["quality_assured"] else None,
        f"awarded at most {conditions['max_age_months']} months before"
        if conditions["max_age_months"]
        else None,
        f"at most {conditions['max_total_credits']} {pathway['credit_system']} from pathways"
        if conditions["max_total_credits"]
        else None,
    ]
    lines.append("  conditions: " + ("; ".join(s for s in said if s) or "none"))
    lines.append(f"  valid [{pathway['valid_from'] or '…'}, {pathway['valid_to'] or '…'})")
    if pathway["decided_by"]:
        why = f": {pathway['reason']}" if pathway["reason"] else ""
        lines.append(f"  {pathway['status']} by {pathway['decided_by']}{why}")
    if pathway["source"]:
        lines.append(f"  source: {pathway['source']}")
    return lines


@pathways.command("list")
@click.option("--institution", type=DATABASE_ID, default=None, help="The receiving institution.")
@click.option("--programme", type=DATABASE_ID, default=None, help="The programme's id.")
@click.option("--status", default=None, help=f"One of {', '.join(STATUSES)}.")
@json_option
@domain_command
def pathways_list(
    institution: int | None, programme: int | None, status: str | None, as_json: bool
) -> None:
    """Pathways by id, each filter only when given."""
    query = loaded_query(
        PathwayQuerySchema(),
        {"institution": institution, "programme": programme, "status": status},
    )
    with session_scope() as session:
        found = [
            services.present(pathway)
            for pathway in services.list_pathways(
                session,
                operator(),
                institution_id=query["institution"],
                programme_id=query["programme"],
                status=query["status"],
            )
        ]
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(_headline(pathway) for pathway in found) or "No pathways.")


@pathways.command("show")
@click.argument("pathway_id", type=DATABASE_ID)
@json_option
@domain_command
def pathways_show(pathway_id: int, as_json: bool) -> None:
    """Pathway PATHWAY_ID in full."""
    with session_scope() as session:
        shown = services.present(services.get_pathway(session, operator(), pathway_id))
    emit(as_json, shown, None, "\n".join(_lines(shown)))


@pathways.command("create")
@click.argument("file", type=click.Path(path_type=Path))
@json_option
@domain_command
def pathways_create(file: Path, as_json: bool) -> None:
    """Add the pathway FILE states (JSON, as POST /api/v1/pathways takes it)."""
    raw = json_file(file, "file")
    with session_scope() as session:
        shown = services.present(services.create_pathway(session, operator(), raw))
    emit(as_json, shown, None, "\n".join(_lines(shown)))


@pathways.command("decide")
@click.argument("pathway_id", type=DATABASE_ID)
@click.option("--status", required=True, help=f"One of {', '.join(STATUSES)}.")
@click.option("--reason", default=None, help="Why; kept and audited.")
@json_option
@domain_command
def pathways_decide(pathway_id: int, status: str, reason: str | None, as_json: bool) -> None:
    """Approve, reject or re-open pathway PATHWAY_ID."""
    with session_scope() as session:
        shown = services.present(
            services.decide(session, operator(), pathway_id, {"status": status, "reason": reason})
        )
    emit(as_json, shown, None, "\n".join(_lines(shown)))


@pathways.command("export")
@click.argument("pathway_id", type=DATABASE_ID, required=False)
@click.option(
    "--institution", type=DATABASE_ID, default=None, help="The receiving institution's pathways."
)
@json_option
@domain_command
def pathways_export(pathway_id: int | None, institution: int | None, as_json: bool) -> None:
    """Pathway PATHWAY_ID, an institution's pathways, or all, as CTDL Transfer Value Profiles
    (JSON-LD, with or without --json; docs/pathways-ctdl.md)."""
    with session_scope() as session:
        document = export_ctdl(
            session, operator(), pathway_id=pathway_id, institution_id=institution
        )
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
