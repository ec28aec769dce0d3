"""Reading a level or a framework from what a person types: "Ireland — NFQ level 8", "NFQ 8",
"IE-NFQ:8", "Scotland", "Scottish". Pure: it takes the frameworks as plain entries and answers
every candidate, so that a caller shows one answer, or the choices when there are several.

A level is read as one word that is a level code (or alias) of a framework, and every other
word naming that same framework: a part of its code ("nfq"), a word of its name, or a place
it belongs to ("Ireland", "Deutschland", "Scotland"). Filler words ("level", "niveau", "of")
name nothing and are skipped. A level's whole title ("First cycle", "PRK poziom 6") also reads
as that level, with no other word needed. Nothing is guessed beyond that: no framework named,
no answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from frameworks.schemas import FRAMEWORK_CODE, LEVEL_REF
from mappings.places import COUNTRY, JOINERS, english_name, known_place, place_code
from registry.core.normalise import fold

# The word for "level" in the languages of the bundled frameworks, and a few more fillers.
FILLERS = JOINERS | frozenset(
    "level levels lvl niveau niveaus nivel nivell livello poziom stufe framework qualification "
    "qualifications grade".split()
)
# A place named in a framework's name by a word of this many first letters ("Scot" in Scottish
# for Scotland, "Wale" in Wales): a country's part (England, Wales) chooses among its frameworks.
_STEM = 4
# No name of a level and its framework runs longer; a longer text is no reading (and each word
# that could be a level's code would make one to check).
MAX_WORDS = 12


@dataclass(frozen=True)
class LevelEntry:
    code: str
    title: str
    aliases: tuple[str, ...] = ()

    def answers_to(self, word: str) -> bool:
        return word == self.code.casefold() or word in (a.casefold() for a in self.aliases)


@dataclass(frozen=True)
class FrameworkEntry:
    """A framework as the search reads it: `current` when a version of it is in force."""

    code: str
    name: str
    country: str | None
    current: bool
    levels: tuple[LevelEntry, ...]

    def words(self) -> frozenset[str]:
        """The words that name it: its code's parts, and its name's words."""
        return frozenset(fold(self.code).split()) | frozenset(fold(self.name).split()) - FILLERS


@dataclass(frozen=True)
class Candidate:
    """A level found: its reference (`IE-NFQ:8`), title, framework name."""

    ref: str
    title: str
    framework: str


def _places(
    words: list[str], codes: set[str]
) -> tuple[list[str], list[tuple[str, frozenset[str]]]]:
    """The words left, and the places named (the longest first: "new zealand", "northern
    ireland"), each with the countries it is in; a word of a framework code stays a word."""
    left: list[str] = []
    places: list[tuple[str, frozenset[str]]] = []
    index = 0
    while index < len(words):
        for size in (3, 2, 1):
            phrase = " ".join(words[index : index + size])
            if size > len(words) - index or len(phrase) < 2 or phrase in codes:
                continue
            place = known_place(phrase, lambda _: frozenset())
            if place is not None and place.kind == COUNTRY:
                places.append((_english(phrase), place.countries))
                index += size
                break
        else:
            left.append(words[index])
            index += 1
    return left, places


def _english(phrase: str) -> str:
    """A part of a country in its English name ("schottland" -> "scotland"), the language the
    frameworks' names are compared in ("Scottish"); any other place as written."""
    code = place_code(phrase)
    english = english_name(code) if code else None
    return fold(english) if english else phrase


def _in_place(entries: list[FrameworkEntry], phrase: str, countries: frozenset[str]) -> set[str]:
    """The frameworks of a place: those of its countries whose name names it (England's RQF
    among the UK's three), else all of its countries'."""
    local = [e for e in entries if e.country in countries]
    named = [
        e
        for e in local
        if phrase in fold(e.name)
        or (" " not in phrase and any(w[:_STEM] == phrase[:_STEM] for w in fold(e.name).split()))
    ]
    return {e.code for e in named or local}


def _named_by(entries: list[FrameworkEntry], words: list[str]) -> set[str] | None:
    """The frameworks every word names (None when no word names any framework)."""
    # A country code that is also a filler word ("de") still names its frameworks.
    codes = {part for e in entries for part in fold(e.code).split()}
    words, places = _places([w for w in words if w in codes or w not in FILLERS], codes)
    if not words and not places:
        return None
    found = {e.code for e in entries}
    for phrase, countries in places:
        found &= _in_place(entries, phrase, countries)
    for word in words:
        found &= {e.code for e in entries if word in e.words()}
    return found


def read_level(text: str, entries: Iterable[FrameworkEntry]) -> list[Candidate]:
    """Every level the text may mean, in the entries' order; [] when it names none. A level
    reference (`IE-NFQ:8`) of a known framework answers that level alone."""
    entries = list(entries)
    exact = LEVEL_REF.match(text.strip())
    if exact:
        for entry in entries:
            if entry.code == exact[1]:
                wanted = exact[2].casefold()
                return [
                    Candidate(f"{entry.code}:{level.code}", level.title, entry.name)
                    for level in entry.levels
                    if level.answers_to(wanted)
                ][:1]
    words = fold(text).split()
    if len(words) > MAX_WORDS:
        return []
    found: dict[str, Candidate] = {}
    # The same other words come back for every level answering to the same code ("8").
    named_by: dict[tuple[str, ...], set[str] | None] = {}
    for entry in entries:
        for level in entry.levels:
            title = fold(level.title)
            # (the other words, whether the title was read): a whole title needs no other
            # word, a bare level code ("8") does.
            readings = [
                (words[:i] + words[i + 1 :], False)
                for i, word in enumerate(words)
                if level.answers_to(word)
            ]
            spaced = f" {' '.join(words)} "
            if title and f" {title} " in spaced:
                readings.append((spaced.replace(f" {title} ", " ", 1).split(), True))
            for rest, by_title in readings:
                if tuple(rest) not in named_by:
                    named_by[tuple(rest)] = _named_by(entries, rest)
                named = named_by[tuple(rest)]
                if entry.code in (named if named is not None else {entry.code} if by_title else ()):
                    found.setdefault(
                        f"{entry.code}:{level.code}",
                        Candidate(f"{entry.code}:{level.code}", level.title, entry.name),
                    )
    return list(found.values())


def read_framework(text: str, entries: Iterable[FrameworkEntry]) -> list[FrameworkEntry]:
    """Every framework the text may mean (a code, a country or a part of one, words of its
    name), those in force first and alone when there are any; [] when it names none."""
    entries = list(entries)
    code = text.strip().upper()
    if FRAMEWORK_CODE.match(code):
        exact = [e for e in entries if e.code == code]
        if exact:
            return exact
    named = _named_by(entries, fold(text).split()) or set()
    found = [e for e in entries if e.code in named]
    return [e for e in found if e.current] or found
