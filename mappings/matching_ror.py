"""A labelled evaluation set for the institution matcher made from real ROR records.

`mappings.matching_eval` models noise on synthetic and real names; this set asks what
registrars really type about real organisations: the names ROR records give (labels in several
languages, aliases, acronyms) and variants made from them by fixed rules (a place added, word
order, "of" dropped, the usual abbreviations, plain ASCII or capitals). Every query is answered
by the record it was made from; the records held out of the registry measure how often a query
for an institution the registry does not know comes back `matched`. Everything is seeded and
made by rules: no answer is written by hand.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from mappings.matching import NameEntry
from mappings.matching_eval import (
    Record,
    load_world_domains,
    load_world_list,
    synthetic_records,
)
from mappings.names import shape
from registry.core.countries import country_name
from registry.core.normalise import normalise_name


class RorRecord(NamedTuple):
    id: int
    ror: str
    name: str
    country: str
    city: str | None
    region: str | None
    labels: tuple[str, ...]
    aliases: tuple[str, ...]
    acronyms: tuple[str, ...]
    domains: tuple[str, ...]


class LabelledQuery(NamedTuple):
    query: str
    country: str
    true_id: int
    kind: str


def _v2(item: dict) -> tuple | None:
    names = item.get("names") or []
    display = next((n["value"] for n in names if "ror_display" in n["types"]), None)
    where = (item.get("locations") or [{}])[0].get("geonames_details") or {}
    if not display or not where.get("country_code"):
        return None
    others = [n for n in names if n["value"] != display]
    return (
        display,
        where["country_code"],
        where.get("name"),
        where.get("country_subdivision_name"),
        [n["value"] for n in others if "label" in n["types"]],
        [n["value"] for n in others if n["types"] == ["alias"]],
        [n["value"] for n in others if "acronym" in n["types"]],
        item.get("domains") or [],
    )


def _v1(item: dict) -> tuple | None:
    country = (item.get("country") or {}).get("country_code")
    if not item.get("name") or not country:
        return None
    address = (item.get("addresses") or [{}])[0]
    region = ((address.get("geonames_city") or {}).get("geonames_admin1") or {}).get("name")
    return (
        item["name"],
        country,
        address.get("city"),
        region,
        [label["label"] for label in item.get("labels") or []],
        list(item.get("aliases") or []),
        list(item.get("acronyms") or []),
        list(item.get("domains") or []),
    )


def load_ror(paths: Iterable[Path]) -> list[RorRecord]:
    """The ROR records of the dumps (schema v1 or v2, told apart by record), numbered from 1 in
    file order; a ROR id seen before and withdrawn records are left out."""
    records: list[RorRecord] = []
    seen: set[str] = set()
    for path in paths:
        for item in json.loads(path.read_text(encoding="utf-8")):
            if item.get("status") == "withdrawn" or item["id"] in seen:
                continue
            fields = _v2(item) if "names" in item else _v1(item)
            if fields is None:
                continue
            seen.add(item["id"])
            name, country, city, region, labels, aliases, acronyms, domains = fields
            records.append(
                RorRecord(
                    len(records) + 1,
                    item["id"],
                    name,
                    country,
                    city,
                    region,
                    *(tuple(dict.fromkeys(v)) for v in (labels, aliases, acronyms, domains)),
                )
            )
    return records


def entries(record: RorRecord) -> list[NameEntry]:
    """The record as a registry holds it after `registry import ror`: its display name, labels
    and aliases (as aliases), acronyms, city and web domains."""
    own = record.id, record.country
    return (
        [NameEntry(own[0], record.name, own[1])]
        + [NameEntry(own[0], value, own[1], "alias") for value in record.labels + record.aliases]
        + [NameEntry(own[0], value, own[1], "acronym") for value in record.acronyms]
        + [NameEntry(own[0], value, own[1], "domain") for value in record.domains]
        + ([NameEntry(own[0], record.city, own[1], "city")] if record.city else [])
    )


# Rules that rewrite a name as people shorten it: (pattern, replacement), whole words.
_ABBREVIATIONS = [
    (r"\bTechnische Universität\b", "TU"),
    (r"\bUniversität\b", "Uni"),
    (r"\bUniversity\b", "Univ."),
    (r"\bUniversité\b", "Univ."),
    (r"\bUniversidad\b", "Univ."),
    (r"\bUniversidade\b", "Univ."),
    (r"\bInstitute\b", "Inst."),
    (r"\bSaint\b", "St."),
    (r"\bNational\b", "Natl."),
]
_LATIN = re.compile(r"^[\sA-Za-z\u00c0-\u024f0-9.,'&()/–-]+$")


def _place(rng: random.Random, record: RorRecord, name: str) -> str | None:
    country = country_name(record.country)
    options = [f"{name}, {country}", f"{name} ({country})"]
    if record.city and record.city.lower() not in name.lower():
        options += [f"{name}, {record.city}, {country}", f"{name}, {record.city}"]
    if record.region and record.country == "GB":
        # GB records name their nation (England, Scotland, Wales, Northern Ireland).
        options.append(f"{name}, {record.region}")
    return rng.choice(options) if country else None


def _order(rng: random.Random, record: RorRecord, name: str) -> str | None:
    if match := re.fullmatch(r"(?:The )?University of ([\w .'-]+)", name):
        return f"{match.group(1)} University"
    if match := re.fullmatch(r"([\w .'-]+) University", name):
        return f"University of {match.group(1)}"
    return None


def _drop_of(rng: random.Random, record: RorRecord, name: str) -> str | None:
    dropped = re.sub(r"\b(?:of|the|The)\s+", "", name, count=1)
    return dropped if dropped != name and len(dropped.split()) >= 2 else None


def _abbreviate(rng: random.Random, record: RorRecord, name: str) -> str | None:
    for pattern, short in _ABBREVIATIONS:
        if re.search(pattern, name):
            return re.sub(pattern, short, name, count=1)
    return None


def _plain(rng: random.Random, record: RorRecord, name: str) -> str | None:
    if not name.isascii():
        stripped = unicodedata.normalize("NFKD", name)
        return "".join(char for char in stripped if not unicodedata.combining(char))
    return name.upper() if rng.random() < 0.5 else name.lower()


_VARIANTS = {
    "place": _place,
    "order": _order,
    "drop_of": _drop_of,
    "abbreviation": _abbreviate,
    "plain": _plain,
}


def ror_queries(records: Sequence[RorRecord], seed: int) -> list[LabelledQuery]:
    """Every record's names as queries (kinds `name`, `label`, `alias`, `acronym`) and one
    variant by each rule that applies (`place`, `order`, `drop_of`, `abbreviation`, `plain`),
    made from its display name or, a third of the time, one of its names in Latin script."""
    rng = random.Random(seed)
    queries: list[LabelledQuery] = []
    for record in records:
        stated = (
            [("name", record.name)]
            + [("label", value) for value in record.labels]
            + [("alias", value) for value in record.aliases]
            + [("acronym", value) for value in record.acronyms]
        )
        queries += [LabelledQuery(q, record.country, record.id, kind) for kind, q in stated]
        latin = [v for v in record.labels + record.aliases if _LATIN.match(v)]
        for kind, rule in _VARIANTS.items():
            base = rng.choice(latin) if latin and rng.random() < 1 / 3 else record.name
            query = rule(rng, record, base)
            if query and query != base:
                queries.append(LabelledQuery(query, record.country, record.id, kind))
    return queries


def held_out(records: Sequence[RorRecord], share: float, seed: int) -> set[int]:
    """Ids of a seeded sample of `share` of the records, to leave out of the registry."""
    rng = random.Random(seed)
    return {record.id for record in rng.sample(list(records), round(len(records) * share))}


def domains_of(records: Iterable[RorRecord]) -> set[str]:
    return {domain.lower() for record in records for domain in record.domains}


def _marks(country: str, names: Iterable[str], domains: Iterable[str]) -> set[tuple[str, str]]:
    shapes = {shape(normalise_name(name)) for name in names} - {""}
    return {(country, f"shape:{s}") for s in shapes} | {
        (country, f"domain:{d.lower()}") for d in domains
    }


def twins(
    absent: Iterable[RorRecord], others: Iterable[tuple[int, str, list[str], list[str]]]
) -> set[int]:
    """The ids of `others` (id, country, names, domains) that share a web domain or the shape of
    a name (`mappings.names.shape`) with an absent record in its country: the same institution
    recorded twice (ROR keeps a funder record or a predecessor beside an organisation; the
    shared list spells names its own way). They are left out of the registry with it, or the
    not-in-registry measure would count right answers as wrong ones."""
    marks: set[tuple[str, str]] = set()
    for record in absent:
        names = (record.name, *record.labels, *record.aliases)
        marks |= _marks(record.country, names, record.domains)
    return {
        number
        for number, country, names, domains in others
        if marks & _marks(country, names, domains)
    }


class BenchmarkRegistry(NamedTuple):
    entries: list[NameEntry]
    indexed_ror: list[RorRecord]
    absent_ror: list[RorRecord]
    real: list[Record]
    held: list[Record]
    synthetic: list[Record]


def benchmark_registry(
    ror_paths: Iterable[Path],
    world_path: Path,
    size: int,
    seed: int,
    *,
    ror_share: float = 0.1,
    world_held: int = 500,
) -> BenchmarkRegistry:
    """The benchmark's registry of `size` institutions: the ROR records less `ror_share` held
    out, the shared list less `world_held` held out and less its entries sharing a web domain
    with a ROR record (the same institution twice), padded with synthetic names; the held-out
    ROR records' twins leave with them. Entries carry cities and web domains as the registry's
    own index gets them (mappings.institutions)."""
    rng = random.Random(seed)
    ror = load_ror(ror_paths)
    absent = held_out(ror, ror_share, seed)
    ror_domains = domains_of(ror)
    domains = load_world_domains(world_path)
    world = [
        record._replace(id=record.id + len(ror))
        for record in load_world_list(world_path)
        if not ror_domains.intersection(d.lower() for d in domains[record.id])
    ]
    held = rng.sample(world, world_held)
    gone = twins(
        [r for r in ror if r.id in absent],
        [(r.id, r.country, [r.name, *r.labels, *r.aliases], list(r.domains)) for r in ror]
        + [(r.id, r.country, [r.name], domains[r.id - len(ror)]) for r in world],
    )
    held_ids = {record.id for record in held} | gone
    real = [record for record in world if record.id not in held_ids]
    indexed = [record for record in ror if record.id not in absent | gone]
    synthetic = synthetic_records(
        max(0, size - len(real) - len(indexed)),
        seed,
        start_id=len(ror) + 20_000,
        taken=[r.name for r in world],
    )
    registry = [entry for record in indexed for entry in entries(record)]
    for record in real:
        registry.append(NameEntry(record.id, record.name, record.country))
        registry += [
            NameEntry(record.id, domain, record.country, "domain")
            for domain in domains[record.id - len(ror)]
        ]
    registry += [NameEntry(r.id, r.name, r.country) for r in synthetic]
    return BenchmarkRegistry(
        registry, indexed, [r for r in ror if r.id in absent], real, held, synthetic
    )
