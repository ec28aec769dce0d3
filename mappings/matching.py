"""Fuzzy matching of institution names: an in-memory index answering "which institution is this?".

Names are normalised once, when indexed (`registry.core.normalise.normalise_name`). A query is
answered in two steps, because scoring every name is too slow (rapidfuzz WRatio over 200,000
names runs at about 6 queries/s): a character-trigram inverted index proposes the few hundred
names sharing the most uncommon trigrams with the query (within the query's country when one is
given), and rapidfuzz rescores only those. Each institution's best entry gives its score.

Updates are incremental and searches never wait for them: entries live in append-only slots
stamped with the version that added them and the version that removed them; a search reads the
current version once and ignores every slot outside it, so it sees one consistent registry
however many updates land meanwhile. Removed slots are swept out by a rebuild once they make a
quarter of the index.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz, process

from registry.core.errors import InvalidData
from registry.core.normalise import department_free, fold, normalise_name

# The verdict thresholds come from mappings.matching_eval on the shared list of 10,251 real
# institutions padded with synthetic near-duplicates (see bench/match_institutions.py). A wrong
# "matched" is the costly mistake (it goes unreviewed), so the defaults are set where confident
# wrong answers stay under 0.5% of queries while most right answers are still accepted.
THRESHOLD = 88.0
MARGIN = 6.0
# Below this a candidate is not worth a reviewer's time: no_match, and it is not listed.
REVIEW_FLOOR = 70.0

MAX_QUERY = 500
MAX_LIMIT = 20
KINDS = ("name", "alias", "former", "acronym")
# Candidate generation: the names sharing the most trigrams with the query, up to this many, are
# rescored. A trigram found in more than COMMON of the (country's) names says little about which
# name is meant and costs the most to count, so it is skipped unless the query has too few
# others.
TOP_K = 200
COMMON = 0.02
MIN_COMMON = 400
MIN_GRAMS = 3
# An acronym alone identifies an institution only within a country (UCL is University College
# London and UCLouvain); without a country an acronym hit is offered for review, not accepted.
ACRONYM_SCORE = 100.0
ACRONYM_SCORE_WORLDWIDE = 85.0
# A name matched once a department prefix is taken away ("Faculty of Law, University of X")
# scores a little less than the whole query would, so an institution named exactly like the
# whole ("School of Pharmacy, University of London") still wins over the university.
DEPARTMENT_PENALTY = 4.0
_FOREVER = 2**62
_NAME, _ALIAS, _ACRONYM = range(3)


@dataclass(frozen=True)
class NameEntry:
    """One name of an institution, as stored: "name" (official or label), "alias" (other
    language, former name; "former" is accepted as an alias) or "acronym"."""

    institution_id: int
    name: str
    country: str | None
    kind: str = "name"


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    country: str | None
    score: float
    matched_on: str


@dataclass(frozen=True)
class MatchResult:
    query: str
    verdict: str
    candidates: tuple[Candidate, ...]


class _Owner(NamedTuple):
    """An institution as one `replace` stated it; its slots share this object."""

    id: int
    name: str
    country: str | None


class _Name(NamedTuple):
    key: str
    kind: int
    country: str | None


class _State:
    """Slots and postings. Only the writer (holding the index's lock) mutates it, by appending
    and by stamping `dead`; `version` is written last, so a reader that read it first sees no
    half-made update."""

    def __init__(self, version: int = 0):
        self.version = version
        self.keys: list[str] = []
        self.owners: list[_Owner] = []
        self.kinds = bytearray()
        self.countries: list[str | None] = []
        self.born = array("q")
        self.dead = array("q")
        self.grams: dict[str, array] = {}
        self.country_grams: dict[str | None, dict[str, array]] = {}
        self.country_slots: dict[str | None, array] = {}
        self.country_live: Counter[str | None] = Counter()
        self.acronyms: dict[str, list[int]] = {}
        # In how many live names each word occurs: the rarity weights of `_distinctive`.
        self.words: Counter[str] = Counter()
        self.live = 0
        self.removed = 0

    def add(self, owner: _Owner, names: list[_Name], version: int) -> list[int]:
        slots = []
        for key, kind, country in names:
            slot = len(self.keys)
            self.keys.append(key)
            self.owners.append(owner)
            self.kinds.append(kind)
            self.countries.append(country)
            self.born.append(version)
            self.dead.append(_FOREVER)
            if kind == _ACRONYM:
                self.acronyms.setdefault(key, []).append(slot)
            else:
                by_country = self.country_grams.setdefault(country, {})
                for gram in _grams(key):
                    _posting(self.grams, gram).append(slot)
                    _posting(by_country, gram).append(slot)
                _posting(self.country_slots, country).append(slot)
                self.words.update(set(key.split()))
                self.country_live[country] += 1
                self.live += 1
            slots.append(slot)
        return slots

    def kill(self, slots: list[int], version: int) -> None:
        for slot in slots:
            self.dead[slot] = version
            if self.kinds[slot] != _ACRONYM:
                self.words.subtract(set(self.keys[slot].split()))
                self.country_live[self.countries[slot]] -= 1
                self.live -= 1
                self.removed += 1


def _posting(table: dict, key) -> array:
    posting = table.get(key)
    if posting is None:
        posting = table[key] = array("i")
    return posting


def _grams(key: str) -> set[str]:
    padded = f" {key} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def _country_of(country: str | None) -> str | None:
    return country.upper() if country else None


class InstitutionIndex:
    """Institutions' names, searchable by fuzzy match; safe for concurrent searches and updates.

    `threshold`: the least score accepted as "matched"; `margin`: by how much the best
    institution must lead the next one to be accepted. Both are measured defaults (see
    THRESHOLD).
    """

    def __init__(self, entries: Iterable[NameEntry] = (), *, threshold: float = THRESHOLD,
                 margin: float = MARGIN):
        self.threshold = threshold
        self.margin = margin
        self._lock = threading.Lock()
        self._slots: dict[int, list[int]] = {}
        grouped: dict[int, list[NameEntry]] = {}
        for entry in entries:
            grouped.setdefault(entry.institution_id, []).append(entry)
        state = _State()
        for institution_id, group in grouped.items():
            names = _prepare(group)
            if names:
                self._slots[institution_id] = state.add(_owner(institution_id, group), names, 0)
        self._state = state

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, institution_id: object) -> bool:
        return institution_id in self._slots

    def replace(self, institution_id: int, entries: Iterable[NameEntry]) -> None:
        """Add an institution, or replace all its names; no entries (or none with a letter or
        digit) removes it. Raises ValueError for an entry of another institution or an unknown
        kind."""
        entries = list(entries)
        if any(entry.institution_id != institution_id for entry in entries):
            raise ValueError(f"entries for another institution than {institution_id}")
        names = _prepare(entries)
        owner = _owner(institution_id, entries)
        with self._lock:
            state = self._state
            version = state.version + 1
            old = self._slots.pop(institution_id, [])
            if names:
                self._slots[institution_id] = state.add(owner, names, version)
            state.kill(old, version)
            state.version = version
            if state.removed > max(1000, state.live // 4):
                self._rebuild()

    def remove(self, institution_id: int) -> None:
        """Forget an institution; unknown ids are ignored."""
        self.replace(institution_id, ())

    def _rebuild(self) -> None:
        old = self._state
        state = _State(old.version)
        for institution_id, slots in self._slots.items():
            names = [_Name(old.keys[s], old.kinds[s], old.countries[s]) for s in slots]
            self._slots[institution_id] = state.add(old.owners[slots[0]], names, old.version)
        self._state = state

    def search(self, query: str, country: str | None = None, limit: int = 5) -> MatchResult:
        """The institutions `query` may name, best first, one candidate per institution.

        `verdict` is "matched" when the best scores at least `threshold` and leads the next
        institution by at least `margin`; "ambiguous" when it scores at least REVIEW_FLOOR but
        is not clearly ahead or not high enough; else "no_match" (candidates empty). Only
        candidates scoring REVIEW_FLOOR or more are listed, at most `limit` (1 to 20).
        Raises InvalidData for an empty, over-long or control-character query, a country that
        is not two ASCII letters, or a limit out of range.
        """
        country = _valid(query, country, limit)
        # The query as it stands, then without a department: the latter scores a little less.
        forms = [(normalise_name(query), 0.0)]
        forms += [(form, DEPARTMENT_PENALTY) for form in department_free(query)]
        state = self._state
        version = state.version
        hits: dict[_Owner, tuple[float, bool, int]] = {}
        slots = _live(state, version, self._candidates(state, forms[0][0], country))
        names = [state.keys[slot] for slot in slots]
        for form, penalty in forms:
            for slot, score in zip(slots, _rescore(form, names)):
                _keep(hits, state.owners[slot], score - penalty, state.kinds[slot], slot)
        acronym = fold(query).replace(" ", "")
        for slot in _live(state, version, state.acronyms.get(acronym, ())):
            if country is None or state.countries[slot] == country:
                _keep(hits, state.owners[slot],
                      ACRONYM_SCORE if country else ACRONYM_SCORE_WORLDWIDE, _ACRONYM, slot)
        # Rescore the leaders (the listed ones and the runner-up) on their distinctive words.
        leaders = sorted(hits.items(), key=_rank)[:max(limit, 2) + 1]
        ranked = sorted(
            ((owner, (_distinctive(state, forms, score, slot), kind, slot)
              if kind != _ACRONYM else (score, kind, slot))
             for owner, (score, kind, slot) in leaders),
            key=_rank,
        )
        return MatchResult(query, self._verdict([score for _, (score, _, _) in ranked[:2]]), tuple(
            Candidate(owner.id, owner.name, owner.country, round(score, 1),
                      "name" if kind == _NAME else "alias")
            for owner, (score, kind, _) in ranked[:limit] if score >= REVIEW_FLOOR
        ))

    def _verdict(self, best: list[float]) -> str:
        if not best or best[0] < REVIEW_FLOOR:
            return "no_match"
        clear = len(best) == 1 or best[0] - best[1] >= self.margin
        return "matched" if clear and best[0] >= self.threshold else "ambiguous"

    @staticmethod
    def _candidates(state: _State, key: str, country: str | None) -> list[int]:
        if country is None:
            postings, size = state.grams, state.live
        else:
            postings, size = state.country_grams.get(country, {}), state.country_live[country]
            if size <= TOP_K:
                return list(state.country_slots.get(country, ()))
        lists = sorted((postings[g] for g in _grams(key) if g in postings), key=len)
        common = max(MIN_COMMON, int(size * COMMON))
        used = [posting for posting in lists if len(posting) <= common]
        if len(used) < MIN_GRAMS:
            used = lists[:MIN_GRAMS]
        counts: Counter[int] = Counter()
        for posting in used:
            counts.update(posting)
        return [slot for slot, _ in counts.most_common(TOP_K)]


def _rescore(key: str, keys: list[str]) -> list[float]:
    """max(ratio, mean(token_set_ratio, token_sort_ratio)) of `key` against each of `keys`.

    Measured on mappings.matching_eval queries against the shared list (acc@1 without a
    country): token_set_ratio alone 0.81 (a name whose words are a subset of the query's scores
    100: "University of Helsinki" ties "Helsinki University of Technology"), WRatio 0.92,
    token_sort 0.90; averaging set and sort 0.96; taking plain ratio when it is higher 0.97, as
    sorting words magnifies a typo in a word's first letter and ratio does not.
    """
    if not keys:
        return []
    scores = [0.0] * len(keys)
    for scorer in (fuzz.token_set_ratio, fuzz.token_sort_ratio):
        for _, score, position in process.extract(key, keys, scorer=scorer, limit=None):
            scores[position] += score / 2
    for _, score, position in process.extract(key, keys, scorer=fuzz.ratio, limit=None):
        scores[position] = max(scores[position], score)
    return scores


def _keep(hits: dict, owner: _Owner, score: float, kind: int, slot: int) -> None:
    """Keep each institution's best entry; on a tie a name beats an alias or acronym."""
    best = hits.get(owner)
    if best is None or (score, -kind) > (best[0], -best[1]):
        hits[owner] = (score, kind, slot)


def _rank(item: tuple[_Owner, tuple[float, int, int]]) -> tuple[float, int]:
    return -item[1][0], item[0].id


def _distinctive(state: _State, forms: list[tuple[str, float]], score: float, slot: int) -> float:
    """The mean of `score` and how well the query and the name agree word by word, each word
    weighted by its rarity in the index (inverse document frequency).

    Character scores are dominated by the common words: "Bowie State University" scores 95
    against "Boise State University" and "Belarusian State Medical University" 93 against
    "Belarusian State University". Weighted by rarity, "bowie"/"boise" and "medical" decide.
    Measured on queries for institutions left out of the index (mappings.matching_eval,
    half the shared list indexed, with a country): this halves the share of such queries
    answered "matched" (3.5% -> 1.5% at the default thresholds), with as many right answers
    still accepted.
    """
    words = state.keys[slot].split()
    size = state.live + 1
    weights: dict[str, float] = {}

    def weight(word: str) -> float:
        if word not in weights:
            weights[word] = math.log(1 + size / (1 + state.words[word]))
        return weights[word]

    agreement = 0.0
    for form, penalty in forms:
        query = form.split()
        total = matched = 0.0
        for mine, theirs in ((query, words), (words, query)):
            for word in mine:
                total += weight(word)
                matched += weight(word) * process.extractOne(word, theirs, scorer=fuzz.ratio)[1]
        agreement = max(agreement, matched / total - penalty)
    return (score + agreement) / 2


def _live(state: _State, version: int, slots: Iterable[int]) -> list[int]:
    born, dead = state.born, state.dead
    return [slot for slot in slots if born[slot] <= version < dead[slot]]


def _owner(institution_id: int, entries: list[NameEntry]) -> _Owner:
    primary = next((e for e in entries if e.kind == "name"), entries[0] if entries else None)
    if primary is None:
        return _Owner(institution_id, "", None)
    return _Owner(institution_id, primary.name, _country_of(primary.country))


def _prepare(entries: list[NameEntry]) -> list[_Name]:
    """Each distinct key once, names before aliases (a key stated as both counts as a name);
    entries with no letter or digit are left out, as they can match nothing."""
    names: dict[tuple[str, bool, str | None], _Name] = {}
    for entry in sorted(entries, key=lambda e: e.kind != "name"):
        if entry.kind not in KINDS:
            raise ValueError(f"unknown name kind {entry.kind!r}; expected one of {KINDS}")
        country = _country_of(entry.country)
        if entry.kind == "acronym":
            name = _Name(fold(entry.name).replace(" ", ""), _ACRONYM, country)
        else:
            name = _Name(normalise_name(entry.name), _NAME if entry.kind == "name" else _ALIAS,
                         country)
        if name.key:
            names.setdefault((name.key, name.kind == _ACRONYM, country), name)
    return list(names.values())


def _valid(query: str, country: str | None, limit: int) -> str | None:
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
