"""Text folding shared by the institution matcher and the importers.

`fold` makes two spellings of the same text compare equal (case, width, diacritics, punctuation);
`normalise_name` goes further for institution names (brackets, abbreviations, one spelling of
"university" in every language); `department_free` offers what a name means without its
department prefix; `whole_number` reads a count or an id written as text. All are pure and
deterministic. The registry stores `name_key(name)` beside
each name, so changing `normalise_name` means re-keying the stored names.
"""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD does not decompose into a base letter plus a mark. (ß is casefolded to ss first.)
_LETTERS = {
    "æ": "ae",
    "ø": "o",
    "œ": "oe",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
    "ħ": "h",
    "ŧ": "t",
}
# Diacritics are stripped from Latin and Greek letters only: elsewhere a mark can make a letter of
# its own (Russian й is not и) or be a vowel sign (Indic scripts), with no sensible ASCII form.
_DIACRITICS = re.compile("(?<=[a-z\u0370-\u03ff])[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff]+")


class _FoldTable(dict):
    """A `str.translate` table filled on first sight of each character, by Unicode category."""

    def __missing__(self, char: int) -> str:
        text = chr(char)
        category = unicodedata.category(text)
        if text in _LETTERS:
            value = _LETTERS[text]
        elif text == "&":
            value = " and "
        elif category == "Cc":
            value = " " if text.isspace() else ""
        elif category[0] == "C":
            value = ""
        elif category[0] in "PSZ":
            value = " "
        else:
            value = text
        self[char] = value
        return value


_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lower-case ASCII-leaning form of `text`: "Universität  Köln!" -> "universitat koln".

    NFKC, casefold, diacritics stripped, a few letters transliterated (ß ss, æ ae, ø o, ł l ...),
    '&' -> "and", punctuation and symbols -> spaces, control characters removed (whitespace ones
    become spaces), whitespace collapsed. Scripts without a sensible ASCII form (Cyrillic, CJK,
    Arabic...) keep their letters. Returns "" for text with no letters or digits.
    """
    if text.isascii():
        return " ".join(text.lower().translate(_TABLE).split())
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TABLE)
    text = _DIACRITICS.sub("", unicodedata.normalize("NFKD", text))
    # Back to composed form, so Hangul syllables and kana with voicing marks are whole again.
    return " ".join(unicodedata.normalize("NFC", text).split())


_UNIVERSITY = (
    "universitat universitaet universite universidad universidade universita "
    "universitas universiti universiteit universitet universiteti uniwersytet "
    "univerzita univerzitet univerza universitatea universitesi univ uni"
).split()
_INSTITUTE = "institut instituto istituto instytut institutul institutet inst".split()
# Whole tokens only, chosen because each is an unambiguous abbreviation in institution names
# (checked against the 10,251 names of the shared list: "tu", "hs", "inst", "coll" never occur
# as words; "tech" does, as in "Texas Tech", and is expanded on both sides alike). Not expanded:
# "u" (a word in Slavic names: "Univerzitet u Mostaru"), "int", "nat" (too many readings).
_TOKENS = {
    **dict.fromkeys(_UNIVERSITY, "university"),
    **dict.fromkeys(_INSTITUTE, "institute"),
    "tech": "technology",
    "techn": "technology",
    "coll": "college",
    "acad": "academy",
    "natl": "national",
    "intl": "international",
    "polytech": "polytechnic",
    "hochsch": "hochschule",
    "fh": "fachhochschule",
    "hs": "hochschule",
    "tu": "technische university",
    "fuer": "fur",
    "ste": "sainte",
}
_DEPARTMENT = frozenset(
    "department dept dep faculty fac fak faculte facultad faculdade facolta fakultat fakulteit "
    "division chair lehrstuhl laboratory lab laboratoire departement departamento "
    "dipartimento".split()
)
# A guessed department-free form never starts with one of these ("of Helsinki").
_JOINERS = frozenset("of and for in at the de di du des del da do".split())
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\{[^{}]*\}")


def _tokens(segment: str) -> list[str]:
    words = fold(segment).split()
    tokens: list[str] = []
    for position, word in enumerate(words):
        # "St" is "Saint" before another word; last, it is more often "State" or "Street".
        if word == "st" and position < len(words) - 1:
            tokens.append("saint")
        else:
            tokens.extend(_TOKENS.get(word, word).split())
    return tokens


def _is_department(tokens: list[str]) -> bool:
    return bool(tokens) and (tokens[0] in _DEPARTMENT or tokens[:2] == ["school", "of"])


def normalise_name(text: str) -> str:
    """The matching form of an institution name, tokens in their original order.

    On top of `fold`:
    - bracketed parts are removed ("UNIVERSITY OF HELSINKI (FINLAND)" -> "university of
      helsinki") unless nothing else is left; so "Augustana College (IL)" and "(SD)" give the
      same form, and the matcher calls such a query ambiguous rather than guess;
    - "university" in any language and its abbreviations (Universität, Universitaet, Université,
      Uniwersytet, Univ., Uni...) become "university", institute likewise; a short list of
      unambiguous abbreviations is expanded (Inst., Tech., Coll., TU, FH, St before a word);
    - a leading "the" is dropped.
    Umlaut transliterations are not folded generally ("Muenchen" stays apart from "munchen"):
    mapping ae/oe/ue to a/o/u would also rewrite Michael, Israel or Queens and make distinct
    names share a key; the fuzzy scorer absorbs the one-letter difference instead.
    Departments are kept (see `department_free`): "School of Oriental and African Studies,
    University of London" is an institution, not a department of another.
    Returns "" when the text has no letters or digits.
    """
    return " ".join(_name_tokens(_unbracket(text)))


def department_free(text: str) -> list[str]:
    """Normalised forms of what `text` names once a department is taken away, most likely
    first; [] when it does not start with, or contain a comma-separated part starting with, a
    department ("Department of Physics", "Faculté de Droit", "School of Medicine").

    Separated by a comma, the department part is dropped whole. Without one its end is a guess:
    the forms without the first three and four words ("Faculty of Law ...", "Department of
    Computer Science ..."), as long as two words remain.
    """
    text = _unbracket(text)
    segments = [tokens for tokens in map(_tokens, re.split(r"[,;]", text)) if tokens]
    kept = [tokens for tokens in segments if not _is_department(tokens)]
    if len(segments) > 1 and kept and len(kept) < len(segments):
        return [" ".join(_drop_the([token for part in kept for token in part]))]
    tokens = _name_tokens(text)
    if len(segments) != 1 or not _is_department(tokens):
        return []
    return [
        " ".join(tokens[n:]) for n in (3, 4) if len(tokens) - n >= 2 and tokens[n] not in _JOINERS
    ]


def _unbracket(text: str) -> str:
    stripped = text
    while True:
        inner = _BRACKETED.sub(" ", stripped)
        if inner == stripped:
            break
        stripped = inner
    return stripped if fold(stripped) else text


def _name_tokens(text: str) -> list[str]:
    return _drop_the([token for segment in re.split(r"[,;]", text) for token in _tokens(segment)])


def _drop_the(tokens: list[str]) -> list[str]:
    return tokens[1:] if len(tokens) > 1 and tokens[0] == "the" else tokens


def name_key(text: str) -> str:
    """The normalised key stored beside a display name: `normalise_name`, tokens in order.

    Not unique: names that differ only in a bracketed qualifier or in punctuation share a key,
    so a natural key for imports must add the country and an identifier where there is one.
    """
    return normalise_name(text)


def whole_number(text: str | None, digits: int = 18) -> int | None:
    """The number `text` writes in decimal digits (no sign, no spaces), when it has at most
    `digits` of them (a database integer holds 18); None otherwise. `str.isdigit` is not the
    test: it admits "²", which int() refuses, and int() refuses more than 4,300 digits."""
    if text and len(text) <= digits and text.isdecimal():
        return int(text)
    return None
