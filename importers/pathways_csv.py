"""Pathway imports from CSV files (`pathways-csv`), for institutions.

Long format, as `articulations-csv`: one row per accepted credential; the rows sharing a
rule_id form one pathway, its credentials in the order of its rows. Read by
`importers.csv.read_csv` (UTF-8, comma or semicolon, a header line, unknown columns refused;
cells are never evaluated, so a cell starting with = is text). Columns, in any order:

    rule_id                 required; the receiving institution's own reference for the
                            pathway: with the institution, the natural key (a re-import updates)
    institution_scheme      how institution is given: id (the registry's id, the default),
                            schac, erasmus, ror, pic or domain
    institution             required; the receiving institution, whose pathway it is
    title                   required; the pathway's title
    description             what evaluators should know beyond the conditions
    programme_code          required; the programme's code in the institution's catalogue
    credential_scheme       as institution_scheme, for credential_institution
    credential_institution  required; the credential's issuer
    credential_kind         qualification (the default) or course
    credential_code         required; the credential's code in its issuer's catalogue
    choose                  k of "any k of these n"; empty: all of them
    credits                 required; a number > 0 ("30", or "7,5")
    credit_system           required; a credit system the registry knows (ECTS, GB-CATS...)
    min_grade               the least grade accepted, with min_grade_scale (a grading scale
    min_grade_scale         the registry knows); both or neither
    supervision             supervised_no_identity_check or supervised_identity_verified: the
                            least supervision of the assessment accepted
    quality_assured         true when the issuer must be quality assured (yes/no, true/false)
    max_age_months          the credential awarded at most this many months before evaluation
    max_total_credits       at most this many credits toward the programme from pathways in all
    valid_from              the first day the pathway holds (YYYY-MM-DD); empty: since ever
    valid_to                the first day it no longer holds; empty: open-ended
    status                  proposed (the default), approved or rejected
    source                  where the agreement is published (a URL or a document reference)

Every row of a pathway must state the same values in all but the credential columns. A
pathway is applied whole or not at all: when any of its rows is invalid, every row of it is
rejected, each naming the rows at fault. A pathway stored already is updated to what the file
states, or left unchanged; so read = inserted + updated + unchanged + rejected counts rows, and
each row counts what became of its pathway.

Who may import: the receiving institution's account (or an admin) for its pathways; the rows
of another institution's pathway are rejected with the reason. The file is read whole before
anything is applied (the rows of a pathway may stand anywhere); a file that breaks off applies
nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import IO, Any

from marshmallow import Schema, fields, pre_load, validate
from sqlalchemy.orm import Session, sessionmaker

from importers.articulations import DECIMAL_COMMA, SCHEMES, RuleRows, whole_file
from importers.runner import ImportReport, run
from registry.catalogue.pathways import services
from registry.catalogue.pathways.models import STATUSES
from registry.catalogue.pathways.schemas import KINDS
from registry.catalogue.schemas import cell_text
from registry.core.permissions import Actor, authorize_role

FORMAT = "pathways-csv"
# What every row of one pathway must agree on: all but the credential's columns.
PATHWAY_COLUMNS = (
    "institution_scheme",
    "institution",
    "title",
    "description",
    "programme_code",
    "choose",
    "credits",
    "credit_system",
    "min_grade",
    "min_grade_scale",
    "supervision",
    "quality_assured",
    "max_age_months",
    "max_total_credits",
    "valid_from",
    "valid_to",
    "status",
    "source",
)
CREDENTIAL_COLUMNS = (
    "credential_scheme",
    "credential_institution",
    "credential_kind",
    "credential_code",
)
COLUMNS = ("rule_id", *PATHWAY_COLUMNS, *CREDENTIAL_COLUMNS)
REQUIRED = (
    "rule_id",
    "institution",
    "title",
    "programme_code",
    "credential_institution",
    "credential_code",
    "credits",
    "credit_system",
)


class PathwayRowSchema(Schema):
    """One CSV row, as text: the pathway's own validation (PathwayRecordSchema, in
    upsert_pathway) runs on the record its rows make, so a row is checked here only for what
    telling its pathway apart needs."""

    rule_id = cell_text(100, required=True)
    institution_scheme = fields.String(load_default="id", validate=validate.OneOf(SCHEMES))
    institution = cell_text(300, required=True)
    title = cell_text(500, required=True)
    description = cell_text(10000, load_default=None, allow_none=True)
    programme_code = cell_text(100, required=True)
    credential_scheme = fields.String(load_default="id", validate=validate.OneOf(SCHEMES))
    credential_institution = cell_text(300, required=True)
    credential_kind = fields.String(load_default="qualification", validate=validate.OneOf(KINDS))
    credential_code = cell_text(100, required=True)
    choose = cell_text(10, load_default=None, allow_none=True)
    credits = cell_text(40, required=True)
    credit_system = cell_text(20, required=True)
    min_grade = cell_text(60, load_default=None, allow_none=True)
    min_grade_scale = cell_text(20, load_default=None, allow_none=True)
    supervision = cell_text(40, load_default=None, allow_none=True)
    quality_assured = fields.Boolean(load_default=False)
    max_age_months = cell_text(10, load_default=None, allow_none=True)
    max_total_credits = cell_text(40, load_default=None, allow_none=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    status = fields.String(load_default="proposed", validate=validate.OneOf(STATUSES))
    source = cell_text(1000, load_default=None, allow_none=True)

    @pre_load
    def _cells(self, data, **_):
        if not isinstance(data, dict):
            return data
        # An empty optional cell means its default: a pathway is stated whole.
        data = {key: value for key, value in data.items() if value is not None or key in REQUIRED}
        for key in ("institution_scheme", "credential_scheme", "credential_kind", "status"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip().lower()
        for key in ("credits", "max_total_credits"):
            if isinstance(data.get(key), str) and DECIMAL_COMMA.match(data[key]):
                data[key] = data[key].replace(",", ".")
        return data


def _apply(actor: Actor, pathways: RuleRows):
    def apply(session: Session, batch: list[tuple[str, dict[str, Any]]]):
        grouped: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
        for number, (position, row) in enumerate(batch):
            grouped[row["rule_id"]].append((number, position, row))
        outcomes: list[tuple[str, str | None]] = [("rejected", None)] * len(batch)
        for rule_id, members in grouped.items():
            outcome = _pathway(session, actor, pathways, rule_id, members)
            for number, _, _ in members:
                outcomes[number] = outcome
        return outcomes

    return apply


def _pathway(
    session: Session,
    actor: Actor,
    pathways: RuleRows,
    rule_id: str,
    members: list[tuple[int, str, dict[str, Any]]],
) -> tuple[str, str | None]:
    """What becomes of one pathway, given its valid rows: (outcome, reason)."""
    problem = pathways.inconsistent("pathway", rule_id, members, PATHWAY_COLUMNS)
    if problem:
        return "rejected", problem
    first = members[0][2]
    owner = pathways.institution(session, first["institution_scheme"], first["institution"])
    if owner is None:
        return "rejected", (
            f"pathway {rule_id!r}: no institution with {first['institution_scheme']} "
            f"{first['institution']!r}"
        )
    credentials = []
    for _, position, row in members:
        scheme, value = row["credential_scheme"], row["credential_institution"]
        issuer = pathways.institution(session, scheme, value)
        if issuer is None:
            return "rejected", (
                f"pathway {rule_id!r}, {position}: no credential institution with {scheme} "
                f"{value!r}"
            )
        credentials.append(
            {
                "institution_id": issuer.id,
                "kind": row["credential_kind"],
                "code": row["credential_code"],
            }
        )
    record = {
        "rule_id": rule_id,
        "institution_id": owner.id,
        **{name: first[name] for name in PATHWAY_COLUMNS[2:]},
        "valid_from": _iso(first["valid_from"]),
        "valid_to": _iso(first["valid_to"]),
        "credentials": credentials,
    }
    result = services.upsert_pathway(session, actor, record)
    return result.outcome, (f"pathway {rule_id!r}: {result.reason}" if result.reason else None)


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def import_pathways_csv(
    sessions: sessionmaker[Session],
    actor: Actor,
    stream: IO[bytes],
    source: str,
    *,
    atomic: bool = False,
    progress=None,
) -> ImportReport:
    """Import pathways from a `pathways-csv` file. Raises PermissionDenied before reading when
    the actor's role may not edit catalogues at all."""
    authorize_role(actor, services.ACTION)
    rows, records = whole_file(stream, COLUMNS, REQUIRED)
    pathways = RuleRows(rows)

    # One batch: the rows of a pathway may be anywhere in the file, and it is applied whole.
    return run(
        sessions,
        actor,
        ImportReport(FORMAT, source, atomic=atomic),
        records,
        PathwayRowSchema(),
        _apply(actor, pathways),
        batch_size=len(rows) + 1,
        progress=progress,
    )
