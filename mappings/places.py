"""Place names in institution queries: countries and their first-level subdivisions in every
language pycountry carries, and the cities an index learns from its institutions.

A registrar often writes where an institution is beside its name ("University of Glasgow,
Scotland", "University of Tartu (Estonia)", "Trinity College, Dublin, Ireland"). Such a place
is a hint: it says in which country to look and is not part of the name. `split_places` reads
it off a query. The names come from ISO 3166-1 and ISO 3166-2 as pycountry ships them (with
the Debian iso-codes translations), so "Schottland", "Écosse" and "Scotland" are all GB-SCT, a
subdivision of GB, and "Wien", "Vienna" and "Vienne" all AT-9. Beside ISO's names: the alpha-3
codes and "UK", the code ISO 3166-1 exceptionally reserves for the United Kingdom.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pycountry

from registry.core.countries import USER_ASSIGNED
from registry.core.normalise import fold

COUNTRY, REGION, CITY = "country", "region", "city"
# Words that join a place to the name before it ("University of Georgia", "Universidad de
# Chile"): a place after one of them belongs to the name.
JOINERS = frozenset(
    "of the de di du des del della degli da do dos das zu in at la le les el los y and "
    "und et for fur voor van der den het i och og w u na a".split()
)
_ALTERNATIVE = re.compile(r"\s*\[([^\[\]]*?)(?:\s+[A-Z]{2}-[A-Z0-9]+)?\]")
_BRACKET = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")


class Place(NamedTuple):
    """A place named in a query: its folded text, what it is, and the countries it may be in."""

    text: str
    kind: str
    countries: frozenset[str]


class Hinted(NamedTuple):
    """A query read for places: the name text left, and the places it named."""

    name: str
    places: tuple[Place, ...]


def _translations(domain: str) -> list[gettext.NullTranslations]:
    found = []
    for locale in sorted(Path(pycountry.LOCALES_DIR).iterdir()):
        if (locale / "LC_MESSAGES" / f"{domain}.mo").exists():
            found.append(gettext.translation(domain, pycountry.LOCALES_DIR, [locale.name]))
    return found


@cache
def _table() -> tuple[dict[str, tuple[str, frozenset[str]]], dict[str, str]]:
    """Folded place name -> (kind, countries); and one-word place name -> the code it names
    (country or subdivision code), for the words that name one place only."""
    # Most translations repeat the name: each (name, kind, country, code) is folded once.
    stated: set[tuple[str, str, str, str]] = set()

    def add(text: str | None, kind: str, country: str, code: str) -> None:
        if text:
            stated.update((part, kind, country, code) for part in {text, text.split(",")[0]})

    countries = _translations("iso3166-1")
    for country in pycountry.countries:
        code = country.alpha_2
        for attribute in ("name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            for translation in [None, *countries] if name else ():
                add(translation.gettext(name) if translation else name, COUNTRY, code, code)
        add(country.alpha_3, COUNTRY, code, code)
    for code, (alpha_3, name) in USER_ASSIGNED.items():
        add(name, COUNTRY, code, code)
        add(alpha_3, COUNTRY, code, code)
    add("UK", COUNTRY, "GB", "GB")
    regions = _translations("iso3166-2")
    for subdivision in pycountry.subdivisions:
        if subdivision.parent_code is not None:
            continue
        # ISO 3166-2:GB's first level is the UK's four parts, three countries and a province
        # (England, Scotland, Wales, Northern Ireland): written after a name like a country.
        kind = COUNTRY if subdivision.country_code == "GB" else REGION
        # "Wales [Cymru GB-CYM]": a name in another language and its code, in brackets.
        for other in _ALTERNATIVE.findall(subdivision.name):
            add(other, kind, subdivision.country_code, subdivision.code)
        for translation in [None, *regions]:
            name = translation.gettext(subdivision.name) if translation else subdivision.name
            add(
                _ALTERNATIVE.sub("", name).strip(), kind, subdivision.country_code, subdivision.code
            )

    places: dict[str, tuple[str, set[str]]] = {}
    codes: dict[str, set[str]] = {}
    for text, kind, country, code in stated:
        key = fold(text)
        if not key:
            continue
        known = places.setdefault(key, (kind, set()))
        known[1].add(country)
        # A name that is a country anywhere counts as a country.
        if kind == COUNTRY and known[0] != COUNTRY:
            places[key] = (COUNTRY, known[1])
        # Short words ("zu" is a name of Benin's Zou) say too little to stand for a place.
        if " " not in key and len(key) >= 4:
            codes.setdefault(key, set()).add(code)
    table = {key: (kind, frozenset(found)) for key, (kind, found) in places.items()}
    return table, {word: next(iter(found)) for word, found in codes.items() if len(found) == 1}


def place_code(word: str) -> str | None:
    """The ISO code (country or first-level subdivision) a one-word place name stands for, in
    any language ("wien", "vienna", "vienne" -> "AT-9"); None when it names no place or several."""
    return _table()[1].get(word)


def english_name(code: str) -> str | None:
    """The English name of a first-level subdivision (`GB-SCT` -> "Scotland"), without the
    bracketed name in another language; None for a country or an unknown code."""
    subdivision = pycountry.subdivisions.get(code=code) if "-" in code else None
    return _ALTERNATIVE.sub("", subdivision.name).strip() if subdivision else None


def known_place(text: str, cities: Callable[[str], frozenset[str]]) -> Place | None:
    """`text` (folded) as a country, region or known city; None when it is none of them."""
    found = _table()[0].get(text)
    if found is not None:
        return Place(text, found[0], found[1])
    where = cities(text)
    return Place(text, CITY, where) if where else None


def split_places(text: str, cities: Callable[[str], frozenset[str]]) -> Hinted:
    """The places a query names besides the name: bracketed parts and trailing comma-separated
    parts that are places (a country, a region or a city `cities` knows, answering the
    countries it is in), and trailing words naming a country ("University of Tartu Estonia")
    unless a joiner stands before them ("University of Georgia"). At least one word of name is
    always left, and a part that is not a place ends the reading."""
    places: list[Place] = []

    def bracketed(match: re.Match) -> str:
        inner = fold(match.group(1) or match.group(2) or "")
        place = known_place(inner, cities) if inner else None
        if place is None:
            return match.group(0)
        places.append(place)
        return " "

    name = _BRACKET.sub(bracketed, text)
    if not fold(name):
        return Hinted(text, ())
    segments = re.split(r"[,;]", name)
    while len(segments) > 1:
        last = fold(segments[-1])
        place = known_place(last, cities) if last else None
        if last and place is None:
            break
        segments.pop()
        if place is not None:
            places.append(place)
        if not fold(" ".join(segments)):
            return Hinted(text, ())
    name = ",".join(segments)
    words = name.split()
    for size in (3, 2, 1):
        tail = fold(" ".join(words[-size:]))
        if len(words) - size < 2 or fold(words[-size - 1]) in JOINERS:
            continue
        place = _table()[0].get(tail)
        if place is not None and place[0] == COUNTRY:
            places.append(Place(tail, COUNTRY, place[1]))
            name = " ".join(words[:-size])
            break
    return Hinted(name, tuple(places))


def hinted_countries(places: tuple[Place, ...]) -> frozenset[str] | None:
    """The countries the places agree on (", Paris, Texas" -> US); None when they name none or
    contradict each other."""
    common: frozenset[str] | None = None
    for place in places:
        common = place.countries if common is None else common & place.countries
    return common or None
