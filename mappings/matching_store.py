"""The storage of `mappings.matching.InstitutionIndex`: append-only slots, the vocabulary and its
postings, and the exact tables (keys, shapes, acronyms, initials, cities); how entries become
stored names (`prepare`), how a query is checked (`valid_search`), and the plain rules of
scoring that need no fuzzy comparison (a reading's penalty, a name's trailing place, a
distinctive word).

Only the index's writer (holding its lock) mutates a `_State`, by appending and by stamping
`dead`; `version` is written last, so a reader that read it first sees no half-made update.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from mappings.names import HEADS, domain_acronym, initials, shape
from mappings.places import JOINERS, place_code
from registry.core.errors import InvalidData
from registry.core.normalise import fold, normalise_name

MAX_QUERY = 500
MAX_LIMIT = 20
# "city" and "domain" are not names: a city is read as a place hint, a web domain can state an
# acronym (`mappings.names.domain_acronym`).
KINDS = ("name", "alias", "former", "acronym", "city", "domain")
# A name matched once a city hint is taken away, for an institution that is not known to be in
# that city, loses twice the department penalty: "German Cancer Research Center, Dresden" is a
# branch the registry may not hold, not the centre in Heidelberg.
CITY_PENALTY = 12.0
FOREVER = 2**62
ACRONYM_LIKE = re.compile(r"[A-Z][A-Z0-9&.-]{1,9}")
NAME, ALIAS, ACRONYM, CITY = range(4)


@dataclass(frozen=True)
class NameEntry:
    """One name of an institution, as stored: "name" (official or label), "alias" (other
    language, former name; "former" is accepted as an alias) or "acronym"; or what the index
    reads beside the names: its "city" and its web "domain"s."""

    institution_id: int
    name: str
    country: str | None
    kind: str = "name"


class Owner(NamedTuple):
    """An institution as one `replace` stated it; its slots share this object."""

    id: int
    name: str
    country: str | None
    city: str | None = None


class Name(NamedTuple):
    key: str
    kind: int
    country: str | None


def posting(table: dict, key) -> array:
    found = table.get(key)
    if found is None:
        found = table[key] = array("i")
    return found


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class State:
    """Slots, vocabulary and postings of one generation of the index."""

    def __init__(self, version: int = 0):
        self.version = version
        self.keys: list[str] = []
        self.owners: list[Owner] = []
        self.kinds = bytearray()
        self.countries: list[str | None] = []
        self.born = array("q")
        self.dead = array("q")
        self.vocabulary: dict[str, int] = {}
        self.words: list[str] = []
        self.postings: list[array] = []
        # In how many live names each word occurs.
        self.df = array("i")
        # Each word of four letters or more, and each of its one-letter deletions -> its ids.
        self.deletions: dict[str, array] = {}
        self.country_slots: dict[str | None, array] = {}
        self.country_live: Counter[str | None] = Counter()
        self.acronyms: dict[str, array] = {}
        # Whole keys, shapes and initials of names and aliases -> their slots.
        self.exact: dict[str, array] = {}
        self.shapes: dict[str, array] = {}
        self.shape_of: list[str] = []
        self.initials: dict[str, array] = {}
        # Folded city -> in how many live institutions of each country.
        self.cities: dict[str, Counter[str | None]] = {}
        self.live = 0
        self.removed = 0

    def add(self, owner: Owner, names: list[Name], version: int) -> list[int]:
        slots = []
        for key, kind, country in names:
            slot = len(self.keys)
            self.keys.append(key)
            self.owners.append(owner)
            self.kinds.append(kind)
            self.countries.append(country)
            self.born.append(version)
            self.dead.append(FOREVER)
            self.shape_of.append(shape(key) if kind in (NAME, ALIAS) else "")
            if kind == ACRONYM:
                posting(self.acronyms, key).append(slot)
            elif kind == CITY:
                self.cities.setdefault(key, Counter())[country] += 1
            else:
                for word in dict.fromkeys(key.split()):
                    number = self._word(word)
                    self.postings[number].append(slot)
                    self.df[number] += 1
                posting(self.exact, key).append(slot)
                posting(self.shapes, self.shape_of[slot]).append(slot)
                if spelt := initials(key):
                    posting(self.initials, spelt).append(slot)
                posting(self.country_slots, country).append(slot)
                self.country_live[country] += 1
                self.live += 1
            slots.append(slot)
        return slots

    def kill(self, slots: list[int], version: int) -> None:
        for slot in slots:
            self.dead[slot] = version
            kind = self.kinds[slot]
            if kind == CITY:
                self.cities[self.keys[slot]][self.countries[slot]] -= 1
            elif kind != ACRONYM:
                for word in dict.fromkeys(self.keys[slot].split()):
                    self.df[self.vocabulary[word]] -= 1
                self.country_live[self.countries[slot]] -= 1
                self.live -= 1
                self.removed += 1

    def _word(self, word: str) -> int:
        number = self.vocabulary.get(word)
        if number is None:
            number = len(self.words)
            self.words.append(word)
            self.postings.append(array("i"))
            self.df.append(0)
            if len(word) >= 4:
                for variant in deletions(word) | {word}:
                    posting(self.deletions, variant).append(number)
            # Published last: a reader finding the word finds its postings too.
            self.vocabulary[word] = number
        return number

    def alive(self, slot: int, version: int) -> bool:
        return self.born[slot] <= version < self.dead[slot]

    def rarity(self, word: str) -> float:
        """Inverse document frequency, smoothed: log(1 + (1 + names) / (1 + names holding it))."""
        number = self.vocabulary.get(word)
        df = self.df[number] if number is not None else 0
        return math.log(1 + (1 + self.live) / (1 + max(df, 0)))

    def city_countries(self, city: str) -> frozenset[str]:
        """The countries in which live institutions are in the city (folded name)."""
        counts = self.cities.get(city)
        if not counts:
            return frozenset()
        # A copy taken in one step: the writer may add a country meanwhile.
        return frozenset(c for c, n in tuple(counts.items()) if n > 0 and c)


def country_of(country: str | None) -> str | None:
    return country.upper() if country else None


def prepare(institution_id: int, entries: list[NameEntry]) -> tuple[Owner, list[Name]]:
    """The institution's owner record and its names: each distinct key once, names before
    aliases (a key stated as both counts as a name), acronyms as stated or as a web domain
    states them, its city; entries with no letter or digit are left out, as they can match
    nothing. No name, no institution: ([] names)."""
    for entry in entries:
        if entry.kind not in KINDS:
            raise ValueError(f"unknown name kind {entry.kind!r}; expected one of {KINDS}")
    primary = next((e for e in entries if e.kind == "name"), None) or next(
        (e for e in entries if e.kind in ("alias", "former", "acronym")), None
    )
    city = next((fold(e.name) for e in entries if e.kind == "city"), None)
    if primary is None:
        return Owner(institution_id, "", None), []
    owner = Owner(institution_id, primary.name, country_of(primary.country), city)
    written = [e.name for e in entries if e.kind in ("name", "alias", "former")]
    names: dict[tuple[str, int], Name] = {}
    for entry in sorted(entries, key=lambda e: e.kind != "name"):
        country = country_of(entry.country)
        if entry.kind == "acronym":
            name = Name(fold(entry.name).replace(" ", ""), ACRONYM, country)
        elif entry.kind == "domain":
            name = Name(domain_acronym(entry.name, written) or "", ACRONYM, country)
        elif entry.kind == "city":
            name = Name(fold(entry.name), CITY, country)
        elif entry.kind != "name" and ACRONYM_LIKE.fullmatch(entry.name.strip()):
            # An alias in capitals is an acronym a source filed as an alias (ROR does): it
            # identifies only within a country, like any acronym.
            name = Name(fold(entry.name).replace(" ", ""), ACRONYM, country)
        else:
            kind = NAME if entry.kind == "name" else ALIAS
            name = Name(normalise_name(entry.name), kind, country)
        if name.key:
            names.setdefault((name.key, name.kind in (NAME, ALIAS), country), name)
    if not any(name.kind in (NAME, ALIAS) for name in names.values()):
        return owner, []
    return owner, list(names.values())


def valid_search(query: str, country: str | None, limit: int) -> str | None:
    problems: dict[str, list[str]] = {}
    if not isinstance(query, str) or not query.strip():
        problems["q"] = ["Give a name to search for."]
    elif len(query) > MAX_QUERY:
        problems["q"] = [f"At most {MAX_QUERY} characters."]
    elif any(unicodedata.category(char) == "Cc" for char in query):
        problems["q"] = ["Control characters are not allowed."]
    if country is not None and not (
        isinstance(country, str) and len(country) == 2 and country.isascii() and country.isalpha()
    ):
        problems["country"] = ["A country is two letters (ISO 3166-1 alpha-2)."]
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        problems["limit"] = [f"Between 1 and {MAX_LIMIT}."]
    if problems:
        raise InvalidData("Invalid institution search.", errors=problems)
    return country.upper() if country else None


class Form(NamedTuple):
    """One reading of the query: its key, what it costs, the city hints taken off it (a name
    must be in one of them not to pay CITY_PENALTY), and its shape."""

    key: str
    penalty: float
    cities: tuple[str, ...]
    shape: str


def form_penalty(state: State, form: Form, slot: int) -> float:
    """What reading the query as `form` costs for this name: the form's own penalty, and
    CITY_PENALTY when city hints were taken off it and the institution is not known to be in
    one of those cities (its city, or a word of its name)."""
    if not form.cities:
        return form.penalty
    owner = state.owners[slot]
    key = f" {state.keys[slot]} "
    if owner.city in form.cities or any(f" {city} " in key for city in form.cities):
        return form.penalty
    return form.penalty + CITY_PENALTY


def is_distinct(state: State, word: str, distinct: float) -> bool:
    if word in JOINERS:
        return False
    number = state.vocabulary.get(word)
    return number is None or state.df[number] <= distinct


def ends_in_place(state: State, words: list[str], country: str | None) -> bool:
    """Whether a name ends in a place that is not its only distinctive word, after no joiner:
    a country, region or city of its country ("Karolinska Institute Stockholm", not
    "University of Glasgow" nor "Universität Vienna")."""
    if len(words) < 3 or words[-2] in JOINERS:
        return False
    last = words[-1]
    if not (place_code(last) or country in state.city_countries(last)):
        return False
    return any(word not in HEADS and word not in JOINERS for word in words[:-1])
