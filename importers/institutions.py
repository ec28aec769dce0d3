"""Institution lists: the world universities-and-domains list and ROR data dumps (v1 and v2).

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
from registry.core import audit
from registry.core.errors import InvalidData, PermissionDenied
from registry.core.permissions import Actor, authorize, authorize_role
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import held_abroad, upsert_many, write_target

# ROR name types, in the registry's terms; "ror_display" is the primary name.
ROR_NAME_KINDS = {"label": "alias", "alias": "alias", "acronym": "acronym"}
# ROR external id types (v2 lower case, v1 "GRID", "ISNI", "FundRef", "Wikidata"); others
# (OrgRef, HESA, UCAS, UKPRN) have no scheme here.
ROR_EXTERNAL_SCHEMES = {
    "grid": "grid",
    "isni": "isni",
    "wikidata": "wikidata",
    "fundref": "fundref",
}
# What one record may take of the file, and how many arrays and objects ('[' and '{', counted
# in strings too): ijson builds a record whole, so a single huge string would otherwise be held
# whatever its size, and its memory grows with the square of the depth (a prefix per level:
# 10,000 levels hold 240 MB). A ROR record is a few KB with a few dozen containers. The file is
# read in small pieces, so that the count is close to the record's own (nesting stays under
# MAX_RECORD_CONTAINERS + READ_SIZE, some 60 MB at worst).
MAX_RECORD_BYTES = 16 << 20
MAX_RECORD_CONTAINERS = 3_000
READ_SIZE = 2048
NO_NAME = "the file states no name"
NO_COUNTRY = "the file states no country"


class _Prefixed:
    """A byte stream with what was read ahead put back in front."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size is None or size < 0:
                out, self.head = self.head + self.rest.read(), b""
                return out
            out, self.head = self.head[:size], self.head[size:]
            return out
        return self.rest.read(size)


class _Budget:
    """A byte stream that refuses to be read further than one record may take: `spent()` starts
    the count again when a record is complete."""

    def __init__(self, stream: Any):
        self.stream, self.index = stream, 1
        self.bytes = self.containers = 0

    def spent(self, index: int) -> None:
        self.index, self.bytes, self.containers = index + 1, 0, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.bytes += len(data)
        self.containers += data.count(b"[") + data.count(b"{")
        if self.bytes > MAX_RECORD_BYTES + READ_SIZE:  # ijson reads a piece ahead
            raise FileError(
                f"record {self.index}",
                f"longer than {MAX_RECORD_BYTES} bytes (a record is far smaller)",
            )
        if self.containers > MAX_RECORD_CONTAINERS:
            raise FileError(
                f"record {self.index}",
                f"more than {MAX_RECORD_CONTAINERS} arrays and objects "
                "(nested too deep or too many)",
            )
        return data


def _items(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """The elements of a JSON array, or a lone JSON object as the one element."""
    head = b""
    while True:
        chunk = stream.read(64)
        head += chunk
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text or not chunk:
            break
    if text and not text.startswith((b"[", b"{")):
        raise FileError("file", "not a JSON array of records, nor one record (a JSON object)")
    prefix = "" if text.startswith(b"{") else "item"
    budget = _Budget(_Prefixed(head, stream))
    try:
        items = ijson.items(budget, prefix, use_float=True, buf_size=READ_SIZE)
        for index, item in enumerate(items, start=1):
            budget.spent(index)
            yield index, item
    except ijson.JSONError as error:
        raise FileError("file", f"not a well-formed JSON array: {error}") from error


def _text(value: Any) -> str | None:
    """A string that states something, else None."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def _required(record: dict[str, Any]) -> str | None:
    """Why a record means nothing the registry can store, or None."""
    if not _text(record.get("name")):
        return NO_NAME
    if not _text(record.get("country")):
        return NO_COUNTRY
    return None


def world_list_records(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """The universities-and-domains list: name, alpha_two_code, domains, web_pages."""
    for index, item in _items(stream):
        position = f"record {index}"
        if not isinstance(item, dict):
            yield position, item
            continue
        record = {
            "name": item.get("name"),
            "country": item.get("alpha_two_code"),
            "domains": item.get("domains") or [],
        }
        yield position, Rejected(reason) if (reason := _required(record)) else record


def _listed(value: Any) -> list:
    """ROR writes `all` as a list (v2, most of v1) or a lone string (v1 GRID)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ror_v2(item: dict[str, Any]) -> dict[str, Any]:
    names = [n for n in item.get("names") or [] if isinstance(n, dict)]
    display = next(
        (n.get("value") for n in names if "ror_display" in (n.get("types") or [])), None
    ) or next((n.get("value") for n in names if "label" in (n.get("types") or [])), None)
    locations = [loc for loc in item.get("locations") or [] if isinstance(loc, dict)]
    location = (locations[0].get("geonames_details") if locations else None) or {}
    identifiers = []
    for external in item.get("external_ids") or []:
        if not isinstance(external, dict):
            continue
        scheme = ROR_EXTERNAL_SCHEMES.get(str(external.get("type")).lower())
        if scheme:
            values = _listed(external.get("all")) or _listed(external.get("preferred"))
            identifiers += [{"scheme": scheme, "value": v} for v in values if _text(v)]
    return {
        "name": display,
        "country": location.get("country_code"),
        "city": location.get("name"),
        "names": [
            {"value": n.get("value"), "lang": _text(n.get("lang")), "kind": ROR_NAME_KINDS[kind]}
            for n in names
            if n.get("value") != display
            for kind in [t for t in n.get("types") or [] if t in ROR_NAME_KINDS][:1]
        ],
        "identifiers": identifiers,
        "domains": item.get("domains") or [],
    }


def _ror_v1(item: dict[str, Any]) -> dict[str, Any]:
    """Schema v1: `name`, `aliases`, `acronyms`, `labels[{label, iso639}]`, `country`,
    `addresses[{city}]`, `external_ids` as an object keyed by type, `links`."""
    country = item.get("country") if isinstance(item.get("country"), dict) else {}
    addresses = [a for a in item.get("addresses") or [] if isinstance(a, dict)]
    identifiers = []
    external_ids = item.get("external_ids") if isinstance(item.get("external_ids"), dict) else {}
    for kind, external in external_ids.items():
        scheme = ROR_EXTERNAL_SCHEMES.get(str(kind).lower())
        if scheme and isinstance(external, dict):
            values = _listed(external.get("all")) or _listed(external.get("preferred"))
            identifiers += [{"scheme": scheme, "value": v} for v in values if _text(v)]
    names = [{"value": v, "lang": None, "kind": "alias"} for v in _listed(item.get("aliases"))]
    names += [
        {"value": label.get("label"), "lang": _text(label.get("iso639")), "kind": "alias"}
        for label in _listed(item.get("labels"))
        if isinstance(label, dict)
    ]
    names += [{"value": v, "lang": None, "kind": "acronym"} for v in _listed(item.get("acronyms"))]
    return {
        "name": item.get("name"),
        "country": country.get("country_code"),
        "city": addresses[0].get("city") if addresses else None,
        "names": names,
        "identifiers": identifiers,
        "domains": _listed(item.get("domains")),
    }


def ror_records(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
    """ROR records of schema v1 or v2 (told apart record by record: v2 has `names`, v1 has
    `name`), a dump (a JSON array) or a single record: names with types and languages, the
    location, external ids, domains and relationships."""
    for index, item in _items(stream):
        position = f"record {index}"
        if not isinstance(item, dict):
            yield position, item
            continue
        if item.get("status") == "withdrawn":
            # Withdrawn ROR records were never real organisations (duplicates, errors).
            yield position, Rejected("withdrawn ROR record")
            continue
        record = _ror_v2(item) if "names" in item else _ror_v1(item)
        record["identifiers"].insert(0, {"scheme": "ror", "value": item.get("id") or ""})
        record["relationships"] = [
            {"type": str(r.get("type")).lower(), "id": r.get("id"), "label": r.get("label")}
            for r in _listed(item.get("relationships"))
            if isinstance(r, dict)
        ]
        if isinstance(record["names"], list):
            record["names"] = [n for n in record["names"] if _text(n.get("value"))]
        yield position, Rejected(reason) if (reason := _required(record)) else record


READERS = {"institutions-json": world_list_records, "ror": ror_records}


# Refusals of one import written to the trails of the institutions they touched; the import's
# summary event counts them all (importers.runner), so a hostile list cannot flood the trail.
TRAIL_REFUSALS = 100


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
        def check(institution, record) -> None:
            # Decided on the institution the record really writes to, not on its own claims.
            target = write_target(institution, record)
            # The existing institution the record would touch, for its trail.
            touched = None if institution is None else f"{target.kind}:{target.key}"
            try:
                authorize(actor, "institution.import", target)
                # An admin's list settles such conflicts; a ministry's may not.
                abroad = institution is None and actor.role != "admin"
                found = held_abroad(session, record) if abroad else None
                if found is not None:
                    holder, claim = found
                    touched = f"institution:{holder.id}"
                    raise PermissionDenied(
                        f"{claim} belongs to institution {holder.id} ({holder.name}) in "
                        f"{holder.country}: a conflict for an admin or the ministry of "
                        f"{holder.country} to settle",
                        action="institution.import",
                        target=touched,
                    )
            except PermissionDenied as error:
                report.refuse(error.detail)  # counted in the import's one summary event
                if touched and report.refused_out_of_scope <= TRAIL_REFUSALS:
                    # An existing institution's own trail shows the attempt on it.
                    audit.record(
                        session,
                        actor,
                        "institution.import",
                        touched,
                        after=record,
                        outcome="refused",
                        detail=error.detail,
                    )
                raise

        return [
            (result.outcome, result.reason)
            for result in upsert_many(session, [record for _, record in batch], check)
        ]

    report = ImportReport(fmt, source, atomic=atomic)
    return run(sessions, actor, report, records(), schema, apply, progress=progress)
