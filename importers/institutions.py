"""Institution lists: the world universities-and-domains list and the ROR v2 data dump.

Both are JSON arrays read one element at a time (ijson), so a dump of any size is imported in
flat memory. Each reader yields (position, record) where the record has the shape of
`InstitutionRecordSchema`; validation, counting and batching are the runner's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson
from sqlalchemy.orm import Session, sessionmaker

from importers.runner import FileError, ImportReport, Rejected, run
from registry.core.errors import DomainError, InvalidData
from registry.core.permissions import Actor, Target, authorize, authorize_role
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many

# ROR name types, in the registry's terms; "ror_display" is the primary name.
ROR_NAME_KINDS = {"label": "alias", "alias": "alias", "acronym": "acronym"}
ROR_EXTERNAL_SCHEMES = {
    "grid": "grid",
    "isni": "isni",
    "wikidata": "wikidata",
    "fundref": "fundref",
}


def _items(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    try:
        yield from enumerate(ijson.items(stream, "item", use_float=True), start=1)
    except ijson.JSONError as error:
        raise FileError("file", f"not a well-formed JSON array: {error}") from error


def world_list_records(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """The universities-and-domains list: name, alpha_two_code, domains, web_pages."""
    for index, item in _items(stream):
        position = f"record {index}"
        if not isinstance(item, dict):
            yield position, item
            continue
        yield (
            position,
            {
                "name": item.get("name"),
                "country": item.get("alpha_two_code"),
                "domains": item.get("domains") or [],
            },
        )


def ror_records(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """ROR schema v2 records: names with types and languages, location, external ids, domains."""
    for index, item in _items(stream):
        position = f"record {index}"
        if not isinstance(item, dict):
            yield position, item
            continue
        names = item.get("names") or []
        display = next(
            (n.get("value") for n in names if "ror_display" in (n.get("types") or [])), None
        )
        location = ((item.get("locations") or [{}])[0] or {}).get("geonames_details") or {}
        identifiers = [{"scheme": "ror", "value": item.get("id") or ""}]
        for external in item.get("external_ids") or []:
            scheme = ROR_EXTERNAL_SCHEMES.get(external.get("type"))
            if scheme:
                identifiers += [
                    {"scheme": scheme, "value": value} for value in external.get("all") or []
                ]
        record = {
            "name": display,
            "country": location.get("country_code"),
            "city": location.get("name"),
            "names": [
                {"value": n.get("value"), "lang": n.get("lang"), "kind": ROR_NAME_KINDS[kind]}
                for n in names
                if n.get("value") != display
                for kind in (n.get("types") or [])[:1]
                if kind in ROR_NAME_KINDS
            ],
            "identifiers": identifiers,
            "domains": item.get("domains") or [],
        }
        if item.get("status") == "withdrawn":
            # Withdrawn ROR records were never real organisations (duplicates, errors).
            yield position, Rejected("withdrawn ROR record")
            continue
        yield position, record


READERS = {"institutions-json": world_list_records, "ror": ror_records}


def import_institutions(
    sessions: sessionmaker[Session],
    actor: Actor,
    fmt: str,
    stream: IO[bytes],
    source: str,
    *,
    status: str | None = None,
    status_source: str | None = None,
    atomic: bool = False,
    progress=None,
) -> ImportReport:
    """Import an institution list. A ministry may import only institutions of its countries:
    the others are rejected one by one with the reason."""
    authorize_role(actor, "institution.import")
    if status and not status_source:
        raise InvalidData(
            "A status needs its source (the list's publisher and date).",
            errors={"status_source": ["Required with status."]},
        )

    def records():
        for position, record in READERS[fmt](stream):
            if isinstance(record, dict) and status:
                record = {**record, "status": status, "status_source": status_source}
            yield position, record

    schema = InstitutionRecordSchema()

    def apply(session: Session, batch):
        allowed, outcomes = [], {}
        for number, (_, record) in enumerate(batch):
            try:
                authorize(
                    actor,
                    "institution.import",
                    Target("institution", record["name"], country=record["country"]),
                )
                allowed.append((number, record))
            except DomainError as error:
                outcomes[number] = ("rejected", error.detail)
        for (number, _), result in zip(
            allowed, upsert_many(session, [r for _, r in allowed]), strict=True
        ):
            outcomes[number] = (result.outcome, result.reason)
        return [outcomes[number] for number in range(len(batch))]

    report = ImportReport(fmt, source, atomic=atomic)
    return run(sessions, actor, report, records(), schema, apply, progress=progress)
