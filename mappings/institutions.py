"""Resolving the institution a credential names: identifiers and web domains exactly first, then
names through this process's in-memory index.

The index is built once per process and kept current: each look-up compares the institutions'
change token, and when another writer renewed it, only the institutions changed since the last
refresh (by `updated_at`, with a safety overlap) are re-indexed.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mappings.matching import Candidate, InstitutionIndex, MatchResult, NameEntry
from registry.core import changes
from registry.core.countries import is_country
from registry.core.errors import InvalidData
from registry.institutions import services as institutions
from registry.institutions.models import Institution, InstitutionIdentifier
from registry.institutions.schemas import ROR_ID, normalise_identifier

# A write that commits later than this after it began could be missed by an incremental
# refresh; every REBUILD the index is built anew in any case.
OVERLAP = dt.timedelta(hours=1)
REBUILD = dt.timedelta(hours=6)
DOMAIN_LIKE = re.compile(r"^(https?://)?[\w.-]+\.[a-z]{2,}(/\S*)?$", re.IGNORECASE)


@dataclass
class _Cached:
    token: str
    refreshed_at: dt.datetime
    built_at: dt.datetime
    index: InstitutionIndex


_cache: dict[str, _Cached] = {}
_lock = threading.Lock()


def _entries(session: Session, since: dt.datetime | None = None) -> dict[int, list[NameEntry]]:
    """Every name of every institution (changed since `since`), with what the index reads
    beside them: the institution's city (a place hint) and its web domains and SCHAC codes
    (which can state an acronym: lmu.de for Ludwig-Maximilians-Universität München)."""
    grouped: dict[int, list[NameEntry]] = {}
    for institution_id, name, country, kind in institutions.name_entries(session, since):
        kind = "alias" if kind == "former" else kind
        grouped.setdefault(institution_id, []).append(
            NameEntry(institution_id, name, country, kind)
        )
    places = select(Institution.id, Institution.city, Institution.country).where(
        Institution.city.is_not(None)
    )
    domains = (
        select(
            InstitutionIdentifier.institution_id, InstitutionIdentifier.value, Institution.country
        )
        .join(Institution)
        .where(InstitutionIdentifier.scheme.in_(("domain", "schac")))
    )
    if since is not None:
        places = places.where(Institution.updated_at >= since)
        domains = domains.where(Institution.updated_at >= since)
    for kind, query in (("city", places), ("domain", domains)):
        for institution_id, value, country in session.execute(query):
            if institution_id in grouped:
                grouped[institution_id].append(NameEntry(institution_id, value, country, kind))
    return grouped


def institution_index(session: Session) -> InstitutionIndex:
    """The process's index, brought up to date with what other writers committed."""
    key = str(session.get_bind().engine.url)
    token = changes.current(session, institutions.CHANGES)
    cached = _cache.get(key)
    if cached and cached.token == token:
        return cached.index
    with _lock:
        cached = _cache.get(key)
        if cached and cached.token == token:
            return cached.index
        now = institutions.database_now(session)
        if cached is None or now - cached.built_at > REBUILD:
            entries = [entry for group in _entries(session).values() for entry in group]
            _cache[key] = _Cached(token, now, now, InstitutionIndex(entries))
        else:
            for institution_id, group in _entries(session, cached.refreshed_at - OVERLAP).items():
                cached.index.replace(institution_id, group)
            cached.token, cached.refreshed_at = token, now
        return _cache[key].index


def _candidate(institution: Institution, matched_on: str) -> Candidate:
    return Candidate(institution.id, institution.name, institution.country, 100.0, matched_on)


def _by_identifier(session: Session, query: str) -> Candidate | None:
    """An exact hit on a ROR id, Erasmus code, PIC or web domain written as the query."""
    text = query.strip()
    attempts: list[tuple[str, str]] = []
    bare = text.lower().removeprefix("https://").removeprefix("http://").removeprefix("ror.org/")
    if ROR_ID.match(bare):
        attempts.append(("ror", bare))
    try:
        attempts.append(("erasmus", normalise_identifier("erasmus", text)))
    except ValueError:
        pass
    if re.fullmatch(r"\d{9}", text):
        attempts.append(("pic", text))
    if DOMAIN_LIKE.match(text) and " " not in text:
        try:
            domain = normalise_identifier("domain", text)
        except ValueError:
            domain = None
        # cs.helsinki.fi is the University of Helsinki's helsinki.fi.
        while domain and domain.count(".") >= 1:
            attempts += [("domain", domain), ("schac", domain)]
            domain = domain.split(".", 1)[1] if domain.count(".") > 1 else None
    for scheme, value in attempts:
        found = institutions.find_by_identifier(session, scheme, value)
        if found is not None:
            return _candidate(found, "domain" if scheme in ("domain", "schac") else "identifier")
    return None


def _check_country(country: str | None) -> str | None:
    if country is None:
        return None
    code = country.strip().upper()
    if not is_country(code):
        raise InvalidData(
            f"{country!r} is not an ISO 3166-1 alpha-2 country code.",
            errors={"country": ["Unknown country code."]},
        )
    return code


def match_institution(
    session: Session,
    query: str,
    country: str | None = None,
    limit: int = 5,
    identifiers: dict[str, str] | None = None,
) -> MatchResult:
    """The institutions a query names, best first, with a verdict.

    Identifiers given beside the query (a credential's SCHAC code, Erasmus code, ROR id) and a
    query that is itself an identifier or web domain answer exactly; otherwise names are matched
    fuzzily, within the country when it is given. Bad input raises InvalidData naming `q` or
    `country`.
    """
    country = _check_country(country)
    for scheme, value in (identifiers or {}).items():
        try:
            found = institutions.find_by_identifier(
                session, scheme, normalise_identifier(scheme, value)
            )
        except ValueError as error:
            raise InvalidData(str(error), errors={f"identifiers.{scheme}": [str(error)]}) from error
        if found is not None:
            return MatchResult(query, "matched", (_candidate(found, "identifier"),))
    if isinstance(query, str) and query.strip():
        exact = _by_identifier(session, query)
        if exact is not None:
            return MatchResult(query, "matched", (exact,))
    index = institution_index(session)
    result = index.search(query, country=country, limit=limit)
    stale = [c.id for c in result.candidates if session.get(Institution, c.id) is None]
    if stale:
        # Written by a transaction that was then rolled back: forget it and ask again.
        for institution_id in stale:
            index.remove(institution_id)
        result = index.search(query, country=country, limit=limit)
    return result
