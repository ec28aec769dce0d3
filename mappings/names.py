"""The forms of an institution name the matcher compares beyond its characters: its shape and
its acronyms. Pure functions over normalised names (`registry.core.normalise.normalise_name`).

Shape. "University of Glasgow", "Glasgow University", "Universität Glasgow", "Université de
Glasgow", "Universidad de Glasgow" and "Uni Glasgow" are one name: normalisation makes every
"university" one word, and the shape is the set of the remaining words less the joiners (of,
de, zu...), with each one-word place written as its ISO code, so "Universität Wien" and
"University of Vienna" share the shape {university, AT-9}. A shape equal to the query's is
strong evidence; a name whose shape has words the query lacks (Technische Universität Wien
for "Universität Wien") is not the same institution, however well its characters score.

Acronyms. An acronym is taken as stated by a source (ROR, an institution's own names), or read
off a web domain when the domain's first label spells the initials of the name's leading words
(lmu.de: Ludwig-Maximilians-Universität München; ucl.ac.uk: University College London): two
sources agree, so it counts as stated. Initials alone, with nothing to confirm them, are weak
evidence, offered for review and never matched.
"""

from __future__ import annotations

from mappings.places import JOINERS, place_code
from registry.core.normalise import fold

# Words that say what kind of institution a name is, not which one.
HEADS = frozenset(
    "university institute college school academy polytechnic hochschule fachhochschule "
    "conservatory seminary ecole escuela escola scuola hogeschool hogskola hogskolan "
    "politecnico politechnika yliopisto korkeakoulu".split()
)
# "Università degli Studi di Milano" is the University of Milan.
_FILLERS = JOINERS | {"studi", "d", "l"}


def shape(key: str) -> str:
    """The shape of a normalised name, as a string key ("" for a name of joiners only)."""
    words = set(key.split()) - _FILLERS
    return " ".join(sorted({place_code(word) or word for word in words}))


def initials(key: str) -> str:
    """The initials of a normalised name's words less joiners ("university college london" ->
    "ucl"); "" for a name of fewer than two such words."""
    words = [word for word in key.split() if word not in JOINERS]
    return "".join(word[0] for word in words) if len(words) >= 2 else ""


def domain_acronym(domain: str, names: list[str]) -> str | None:
    """The acronym a web domain states for an institution with these names: the domain's first
    label (after "www") when it spells the initials of a name's first words, joiners left out
    or kept, at least two letters; else None. The names are given as written, so that a hyphen
    separates words ("Ludwig-Maximilians-Universität München" -> "lmum", so lmu.de says "LMU")."""
    labels = domain.lower().removeprefix("www.").split(".")
    label = labels[0]
    if len(labels) < 2 or not 2 <= len(label) <= 8 or not label.isalpha():
        return None
    for name in names:
        words = fold(name).split()
        for kept in (words, [word for word in words if word not in JOINERS]):
            spelt = "".join(word[0] for word in kept)
            if len(kept) >= len(label) >= 2 and spelt[: len(label)] == label:
                return label
    return None


def looks_like_acronym(query: str) -> str | None:
    """The acronym a query may be: one word, or single letters ("U.C.L."), of two to eight
    letters or digits in all; else None."""
    words = fold(query).split()
    compact = "".join(words)
    if (len(words) == 1 or all(len(word) == 1 for word in words)) and 2 <= len(compact) <= 8:
        return compact
    return None
