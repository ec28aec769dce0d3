"""A labelled evaluation set for the institution matcher, and synthetic names to pad a registry.

The thresholds of `mappings.matching` are chosen on what this module measures, so the noise
is modelled on what registrars actually receive: typos, missing diacritics, abbreviations,
shouting, a city or country in brackets, a department in front, words reordered. Everything is
seeded: the same seed gives the same queries and names on every machine.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import pycountry

from mappings.matching import InstitutionIndex


class Record(NamedTuple):
    id: int
    name: str
    country: str | None


Query = tuple[str, str | None, int]


def load_world_list(path: Path) -> list[Record]:
    """The shared list (Hipo's world_universities_and_domains.json) as records numbered from 1
    in file order."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        Record(number, row["name"], row["alpha_two_code"])
        for number, row in enumerate(rows, start=1)
    ]


def load_world_domains(path: Path) -> dict[int, list[str]]:
    """The web domains of each record of `load_world_list`, by its number."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {number: row["domains"] for number, row in enumerate(rows, start=1)}


# Word -> its usual written abbreviations, matched case-insensitively as whole words.
_ABBREVIATIONS = {
    "university": ["Univ.", "Univ", "Uni"],
    "universität": ["Univ.", "Uni"],
    "universitat": ["Univ."],
    "universidad": ["Univ."],
    "universidade": ["Univ."],
    "université": ["Univ."],
    "universita": ["Univ."],
    "università": ["Univ."],
    "institute": ["Inst."],
    "institut": ["Inst."],
    "instituto": ["Inst."],
    "technology": ["Tech."],
    "technological": ["Tech."],
    "college": ["Coll."],
    "academy": ["Acad."],
    "national": ["Natl."],
    "international": ["Intl."],
    "saint": ["St.", "St"],
    "polytechnic": ["Polytech."],
    "technische universität": ["TU"],
    "fachhochschule": ["FH"],
    "hochschule": ["HS"],
}
_ABBREVIATION = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _ABBREVIATIONS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_STOP_WORDS = {
    "of",
    "the",
    "de",
    "di",
    "du",
    "des",
    "del",
    "da",
    "do",
    "degli",
    "für",
    "fur",
    "and",
    "&",
    "for",
    "in",
    "at",
    "la",
    "le",
    "y",
    "und",
    "et",
}
_DEPARTMENTS = [
    "Department of Physics",
    "Faculty of Law",
    "School of Medicine",
    "Dept. of Computer Science",
    "Faculty of Arts",
    "Department of Economics",
]
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def _typo(rng: random.Random, name: str, country: str | None) -> str | None:
    chars = list(name)
    if sum(char.isalpha() for char in chars) < 6:
        return None
    for _ in range(rng.choice((1, 1, 2))):
        i = rng.choice([i for i, char in enumerate(chars[:-1]) if char.isalpha()])
        edit = rng.randrange(4)
        if edit == 0:
            del chars[i]
        elif edit == 1:
            chars.insert(i, rng.choice("aeiounrstl"))
        elif edit == 2:
            chars[i] = rng.choice("aeiounrstlcmdk")
        else:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _drop_stop_word(rng: random.Random, name: str, country: str | None) -> str | None:
    words = name.split()
    stops = [i for i, word in enumerate(words) if word.lower() in _STOP_WORDS]
    if not stops or len(words) < 3:
        return None
    del words[rng.choice(stops)]
    return " ".join(words)


def _swap_words(rng: random.Random, name: str, country: str | None) -> str | None:
    words = name.split()
    if len(words) < 2:
        return None
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _ascii(rng: random.Random, name: str, country: str | None) -> str | None:
    if name.isascii():
        return None
    if rng.random() < 0.4 and name != name.translate(_UMLAUTS):
        return name.translate(_UMLAUTS)
    stripped = unicodedata.normalize("NFKD", name)
    return "".join(char for char in stripped if not unicodedata.combining(char))


def _abbreviate(rng: random.Random, name: str, country: str | None) -> str | None:
    found = list(_ABBREVIATION.finditer(name))
    if not found:
        return None
    match = rng.choice(found)
    short = rng.choice(_ABBREVIATIONS[match.group(0).lower()])
    return name[: match.start()] + short + name[match.end() :]


def _case(rng: random.Random, name: str, country: str | None) -> str:
    return name.upper() if rng.random() < 0.6 else name.lower()


def _bracket(rng: random.Random, name: str, country: str | None) -> str:
    known = pycountry.countries.get(alpha_2=country) if country else None
    where = known.name if known and rng.random() < 0.5 else _city(rng, _SYLLABLES)
    return f"{name} ({where})"


def _reorder(rng: random.Random, name: str, country: str | None) -> str | None:
    if match := re.fullmatch(r"University of (.+)", name):
        return f"{match.group(1)} University"
    if match := re.fullmatch(r"(.+) University", name):
        return f"University of {match.group(1)}"
    return None


def _department(rng: random.Random, name: str, country: str | None) -> str:
    separator = ", " if rng.random() < 0.7 else " "
    return rng.choice(_DEPARTMENTS) + separator + name


# (probability, noise): each applies independently; a query gets at least one that changes it.
_NOISES: list[tuple[float, Callable[[random.Random, str, str | None], str | None]]] = [
    (0.5, _typo),
    (0.15, _drop_stop_word),
    (0.1, _swap_words),
    (0.5, _ascii),
    (0.4, _abbreviate),
    (0.25, _case),
    (0.15, _bracket),
    (0.15, _reorder),
    (0.2, _department),
]


def variant(rng: random.Random, name: str, country: str | None) -> tuple[str, list[str]]:
    """One noisy spelling of `name` and the names of the noises applied.

    Control characters are dropped first (four names of the shared list carry mis-decoded
    Windows-1252 quotes, U+0093/U+0094), since the matcher refuses them in a query.
    """
    applied: list[str] = []
    name = query = "".join(char for char in name if unicodedata.category(char) != "Cc")
    chosen = [noise for p, noise in _NOISES if rng.random() < p] or [rng.choice(_NOISES)[1]]
    for noise in chosen:
        changed = noise(rng, query, country)
        if changed and changed != query:
            query = changed
            applied.append(noise.__name__.strip("_"))
    if not applied:
        query, applied = _case(rng, name, country), ["case"]
    return query, applied


def variants(records: Sequence[Record], n: int, seed: int) -> list[Query]:
    """`n` noisy queries `(query, country, true_id)` made from records drawn with replacement."""
    rng = random.Random(seed)
    queries = []
    for _ in range(n):
        record = rng.choice(records)
        queries.append((variant(rng, record.name, record.country)[0], record.country, record.id))
    return queries


def evaluate(index: InstitutionIndex, queries: Iterable[Query], with_country: bool) -> dict:
    """How the index answers labelled queries.

    accuracy_at_1: share of queries for indexed institutions whose best candidate is the true
    one; matched / ambiguous / no_match: shares of all queries by verdict; confident_wrong:
    share of all queries answered "matched" with another institution (queries for institutions
    missing from the index count here when matched at all); precision: right share of matched.
    """
    total = known = right = matched = wrong = ambiguous = no_match = 0
    for query, country, true_id in queries:
        result = index.search(query, country if with_country else None)
        best = result.candidates[0].id if result.candidates else None
        total += 1
        if true_id in index:
            known += 1
            right += best == true_id
        if result.verdict == "matched":
            matched += 1
            wrong += best != true_id
        elif result.verdict == "ambiguous":
            ambiguous += 1
        else:
            no_match += 1
    return {
        "queries": total,
        "accuracy_at_1": right / known if known else 0.0,
        "matched": matched / total,
        "precision": (matched - wrong) / matched if matched else 1.0,
        "confident_wrong": wrong / total,
        "ambiguous": ambiguous / total,
        "no_match": no_match / total,
    }


_SYLLABLES = (
    "ka ri mon ber lo ta ven dor sa li ne gor al ton vil mar es ra bur gen ham "
    "wick fel ros an cas tel bel mi na shi ko ya da pur ga la ran har bo ze "
    "tor len dal sen kir"
).split()
_ACCENTED = {
    "DE": "mün bö hau lü",
    "FR": "é bé ré sè",
    "PL": "łó dź ś",
    "BR": "ão ç á",
    "MX": "á é ó",
    "IT": "ò è",
}
# Per country: (weight, name templates). {c} and {d} are two cities of that country.
_TEMPLATES: dict[str, tuple[float, list[str]]] = {
    "US": (
        0.25,
        [
            "University of {c}",
            "{c} State University",
            "{c} College",
            "{c} University",
            "{c} Community College",
            "University of {c} at {d}",
            "{c} Institute of Technology",
            "{c} State College",
            "College of {c}",
        ],
    ),
    "IN": (
        0.17,
        [
            "{c} University",
            "University of {c}",
            "{c} Institute of Technology",
            "{c} College of Engineering",
            "Government College {c}",
            "{c} Institute of Management",
            "National Institute of Technology {c}",
        ],
    ),
    "BR": (
        0.13,
        [
            "Universidade Federal de {c}",
            "Universidade Estadual de {c}",
            "Universidade de {c}",
            "Instituto Federal de {c}",
            "Faculdade de {c}",
            "Centro Universitário de {c}",
        ],
    ),
    "DE": (
        0.06,
        [
            "Universität {c}",
            "Technische Universität {c}",
            "Hochschule {c}",
            "Fachhochschule {c}",
            "Technische Hochschule {c}",
            "Pädagogische Hochschule {c}",
            "Hochschule für Technik {c}",
        ],
    ),
    "IT": (
        0.05,
        [
            "Università degli Studi di {c}",
            "Politecnico di {c}",
            "Università di {c}",
            "Accademia di Belle Arti di {c}",
        ],
    ),
    "NL": (
        0.04,
        ["Hogeschool {c}", "Universiteit {c}", "Technische Universiteit {c}", "Hogeschool {c} {d}"],
    ),
    "FR": (
        0.06,
        [
            "Université de {c}",
            "École Nationale Supérieure de {c}",
            "Institut Polytechnique de {c}",
            "Université {c} {d}",
            "École de {c}",
        ],
    ),
    "MX": (
        0.06,
        [
            "Universidad de {c}",
            "Universidad Autónoma de {c}",
            "Instituto Tecnológico de {c}",
            "Universidad Politécnica de {c}",
        ],
    ),
    "GB": (
        0.05,
        ["University of {c}", "{c} College", "{c} Metropolitan University", "{c} University"],
    ),
    "PL": (
        0.04,
        ["Uniwersytet {c}", "Politechnika {c}", "Akademia {c}", "Uniwersytet Medyczny w {c}"],
    ),
    "JP": (
        0.05,
        [
            "{c} University",
            "{c} Gakuin University",
            "{c} Prefectural University",
            "{c} University of Education",
        ],
    ),
    "CN": (
        0.04,
        [
            "{c} University",
            "{c} Normal University",
            "{c} University of Technology",
            "{c} Medical University",
        ],
    ),
}


def _city(rng: random.Random, syllables: Sequence[str]) -> str:
    return "".join(rng.choice(syllables) for _ in range(rng.choice((2, 2, 3)))).capitalize()


def _some_city(rng: random.Random, known: list[str], syllables: Sequence[str]) -> str:
    """A city already named in the country (60%), else a new one, remembered."""
    if known and rng.random() < 0.6:
        return rng.choice(known)
    known.append(_city(rng, syllables))
    return known[-1]


def synthetic_records(
    n: int, seed: int, *, start_id: int, taken: Iterable[str] = ()
) -> list[Record]:
    """`n` realistic, unique institution names across 12 countries, ids from `start_id`.

    60% of names reuse a city already used in that country, so the registry holds the
    near-duplicates real ones have ("University of X", "X State University", "University of X
    at Y"). `taken`: names already in the registry, never generated again.
    """
    rng = random.Random(seed)
    countries = list(_TEMPLATES)
    weights = [_TEMPLATES[country][0] for country in countries]
    cities: dict[str, list[str]] = {country: [] for country in countries}
    names = set(taken)
    records = []
    while len(records) < n:
        country = rng.choices(countries, weights)[0]
        syllables = _SYLLABLES + _ACCENTED.get(country, "").split()
        first, second = (_some_city(rng, cities[country], syllables) for _ in range(2))
        if first == second:
            continue
        name = rng.choice(_TEMPLATES[country][1]).format(c=first, d=second)
        if name not in names:
            names.add(name)
            records.append(Record(start_id + len(records), name, country))
    return records
