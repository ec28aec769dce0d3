"""Fuzzy matching of institution names: an in-memory index answering "which institution is this?".

Names are normalised once, when indexed (`registry.core.normalise.normalise_name`). Scoring
every name is too slow (rapidfuzz WRatio over 200,000 names answers about 10 queries/s), so a
query is answered in steps:

0. places: a trailing or bracketed country, region or known city is read off the query as a
   hint (`mappings.places`): it narrows the search to its country and the name is scored
   without it;
1. candidates: each uncommon word of the query is looked up in the index's vocabulary together
   with the words one edit away (a deletion-neighbourhood index: "helsnki", "helsinki" and
   "helsinkki" all share the deletion "helsnki"), two edits when nothing is that close; the
   names holding those words, ranked by the rarity and closeness of what they share, are the
   candidates (at most TOP_K, within the query's country when one is given). Measured on the
   benchmark's 200,000 names, this finds the true name for 98.4% of noisy queries without a
   country, against 94% for the top 200 of a character-trigram index (performance.md section
   2, c3), at 4.6 times its speed. Names with the query's exact key or shape
   (`mappings.names`: "Edinburgh University" is "University of Edinburgh", "Uni Wien" is
   "Universität Wien" and "University of Vienna") join them;
2. rapidfuzz rescores the candidates on whole strings (`_rescore`), and each institution keeps
   its best entry;
3. the leaders are rescored on their distinctive words (`is_distinctive`), which decides between
   near-duplicates such as "Bowie State University" and "Boise State University"; a name of
   the query's shape scores SHAPE_SCORE; acronyms stated by a source (or by a web domain that
   spells the name's initials) answer exactly, initials alone only for review.

Updates are incremental and searches never wait for them: entries live in append-only slots
stamped with the version that added them and the version that removed them; a search reads the
current version once and ignores every slot outside it, so it sees one consistent registry
however many updates land meanwhile. Removed slots are swept out by a rebuild once they make a
quarter of the index (`mappings.matching_store`).
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from mappings.matching_store import (
    ACRONYM,
    CITY_PENALTY,
    KINDS,
    MAX_LIMIT,
    MAX_QUERY,
    NAME,
    Form,
    Name,
    NameEntry,
    Owner,
    State,
    deletions,
    ends_in_place,
    form_penalty,
    is_distinct,
    prepare,
    valid_search,
)
from mappings.names import looks_like_acronym, shape
from mappings.places import CITY as CITY_HINT
from mappings.places import hinted_countries, split_places
from registry.core.normalise import department_free, fold, normalise_name

# The public interface; NameEntry, KINDS, MAX_QUERY and MAX_LIMIT live in the store since the
# index was split by concern, and are kept importable from here.
__all__ = [
    "KINDS",
    "MAX_LIMIT",
    "MAX_QUERY",
    "Candidate",
    "InstitutionIndex",
    "MatchResult",
    "NameEntry",
    "best_title",
    "similar_words",
]

# The verdict thresholds come from mappings.matching_eval, with a country: noisy queries for
# half the shared list of real institutions, indexed, and for the other half, which must not be
# accepted; and the benchmark's 200,000 names. A wrong "matched" is the costly mistake (nobody
# reviews it). At 88/6, 90.6% of queries for indexed institutions are accepted with none wrong,
# and 0.9% of queries for missing ones (benchmark: 77.0% accepted, 0.18% wrong, 2.9% missing
# ones). Margin 4 more than doubles the wrong answers on the benchmark (0.42%); threshold 85
# accepts 1.4 points more right answers and a third more missing ones; threshold 90 gives up
# 3.5 points of right answers for almost nothing (0.8% missing ones).
THRESHOLD = 88.0
MARGIN = 6.0
# ...and the words of query and name must agree: either side's rarity-weighted words at least
# this much matched by the other (see `is_distinctive`). It turns away 13 in 22 of the accepted
# queries for missing institutions (2.2% -> 0.9%), for 2.3 points of right answers.
COVERAGE = 85.0
# ...and no distinctive word of either side (one in at most COMMON of the names, or unknown to
# the index) may go unmatched: below this ratio to every word of the other side it vetoes
# "matched" ("Association française pour l'étude du sol" is not "... du textile").
# Words with digits must be equal ("UR 4148" is not "UR 4149"). On the benchmark it turns away
# four in five accepted queries for missing ROR records (1.46% -> 0.27% with a country, 1.13%
# -> 0.07% without) for 0.02 points of right answers (1.3 points on the synthetic noise).
VETO = 70.0
# Below this a candidate is not worth a reviewer's time: no_match, and it is not listed.
REVIEW_FLOOR = 70.0

TOP_K = 200
# A word in more than this share of the names (university, state, college...) does not say
# which name is meant, and its postings are the longest: it is left to the rescoring steps.
COMMON = 0.01
MIN_COMMON = 50
# Vocabulary words at least this similar (rapidfuzz ratio) stand in for a query word, at most
# NEIGHBOURS of them; when none reaches CLOSE, words two edits away are looked up as well.
NEAR = 65.0
CLOSE = 80.0
NEIGHBOURS = 10
# An acronym alone identifies an institution only within a country (UCL is University College
# London and UCLouvain); without a country an acronym hit is offered for review, not accepted.
# Initials no source states ("ucl" read off "University College London" alone) are weaker still.
ACRONYM_SCORE = 100.0
ACRONYM_SCORE_WORLDWIDE = 85.0
INITIALS_SCORE = 75.0
# A name of the query's shape: above the threshold, and a margin above a name with one more
# word ("Technische Universität Wien" for "Universität Wien" scores about 85).
SHAPE_SCORE = 97.0
# A name matched once a department prefix is taken away ("Faculty of Law, University of X")
# scores less than the whole query would, by the default margin, so an institution named
# exactly like the whole ("School of Pharmacy, University of London") is matched rather than
# the university. (A city hint the institution is not known to be in costs CITY_PENALTY.)
DEPARTMENT_PENALTY = 6.0


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


class InstitutionIndex:
    """Institutions' names, searchable by fuzzy match; safe for concurrent searches and updates.

    `threshold`: the least score accepted as "matched"; `margin`: by how much the best
    institution must lead the next one to be accepted. Both are measured defaults (see
    THRESHOLD).
    """

    def __init__(
        self,
        entries: Iterable[NameEntry] = (),
        *,
        threshold: float = THRESHOLD,
        margin: float = MARGIN,
    ):
        self.threshold = threshold
        self.margin = margin
        self._lock = threading.Lock()
        self._slots: dict[int, list[int]] = {}
        grouped: dict[int, list[NameEntry]] = {}
        for entry in entries:
            grouped.setdefault(entry.institution_id, []).append(entry)
        state = State()
        for institution_id, group in grouped.items():
            owner, names = prepare(institution_id, group)
            if names:
                self._slots[institution_id] = state.add(owner, names, 0)
        self._state = state

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, institution_id: object) -> bool:
        return institution_id in self._slots

    def replace(self, institution_id: int, entries: Iterable[NameEntry]) -> None:
        """Add an institution, or replace all its names; no entries (or no name with a letter or
        digit) removes it. Raises ValueError for an entry of another institution or an unknown
        kind."""
        entries = list(entries)
        if any(entry.institution_id != institution_id for entry in entries):
            raise ValueError(f"entries for another institution than {institution_id}")
        owner, names = prepare(institution_id, entries)
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
        state = State(old.version)
        for institution_id, slots in self._slots.items():
            names = [Name(old.keys[s], old.kinds[s], old.countries[s]) for s in slots]
            self._slots[institution_id] = state.add(old.owners[slots[0]], names, old.version)
        self._state = state

    def search(self, query: str, country: str | None = None, limit: int = 5) -> MatchResult:
        """The institutions `query` may name, best first, one candidate per institution.

        `verdict` is "matched" when the best scores at least `threshold`, leads the next
        institution by at least `margin` and agrees with the query word for word (COVERAGE,
        VETO), or when the query is spelt exactly as a name or alias of one institution (of the
        country given) and no other holds its shape; "ambiguous" when it scores at least
        REVIEW_FLOOR but is not clearly ahead or not high enough; else "no_match" (candidates
        empty). Only candidates scoring REVIEW_FLOOR or more are listed, at most `limit` (1 to
        20). A place the query names narrows the
        search to its country when `country` is not given; when nothing is found there, the
        whole index is searched and the answer is at best "ambiguous".
        Raises InvalidData for an empty, over-long or control-character query, a country that
        is not two ASCII letters, or a limit out of range.
        """
        country = valid_search(query, country, limit)
        key = normalise_name(query)
        if not key:
            return MatchResult(query, "no_match", ())
        state = self._state
        hinted = split_places(query, state.city_countries)
        forms = [Form(key, 0.0, (), shape(key))]
        cities: tuple[str, ...] = ()
        name = normalise_name(hinted.name) if hinted.places else key
        if name and name != key:
            cities = tuple(place.text for place in hinted.places if place.kind == CITY_HINT)
            forms.append(Form(name, 0.0, cities, shape(name)))
        else:
            name = key
        hint = None if country else hinted_countries(hinted.places)
        countries = frozenset({country}) if country else hint
        exact = self._exact(state, query, forms, countries)
        if exact is not None:
            return MatchResult(query, "matched", (exact,))
        for text, where in ((query, ()), (hinted.name, cities)):
            forms += [
                Form(form, DEPARTMENT_PENALTY, where, shape(form))
                for form in department_free(text)
                if form not in {f.key for f in forms}
            ]
        within = country is not None or (hint is not None and len(hint) == 1)
        found = self._search(state, query, forms, name, countries, within, limit)
        if hint is not None and found[0] == "no_match":
            verdict, candidates = self._search(state, query, forms, name, None, False, limit)
            found = ("ambiguous" if verdict == "matched" else verdict, candidates)
        return MatchResult(query, *found)

    def _search(
        self,
        state: State,
        query: str,
        forms: list[Form],
        lookup: str,
        countries: frozenset[str] | None,
        within: bool,
        limit: int,
    ) -> tuple[str, tuple[Candidate, ...]]:
        version = state.version
        slots = _candidates(state, lookup, countries)
        # Names of the query's exact key or shape are always weighed.
        shaped: dict[int, Form] = {}
        for form in forms:
            for table, value in ((state.exact, form.key), (state.shapes, form.shape)):
                for slot in table.get(value, ()) if value else ():
                    if countries is None or state.countries[slot] in countries:
                        shaped.setdefault(slot, form)
        chosen = set(slots)
        slots += [slot for slot in shaped if slot not in chosen]
        names = list(map(state.keys.__getitem__, slots))
        scores = [0.0] * len(slots)
        for form in forms:
            rescored = _rescore(form.key, names)
            if form.penalty or form.cities:
                rescored = [
                    s - form_penalty(state, form, at) for s, at in zip(rescored, slots, strict=True)
                ]
            scores = list(map(max, scores, rescored))
        is_name = [state.kinds[slot] == NAME for slot in slots]

        # The best entry of each institution, for as many institutions as are listed, plus the
        # runner-up the verdict needs; on a tie a name beats an alias.
        leaders: dict[Owner, tuple[float, int, int]] = {}
        wanted = max(limit, 2) + 1
        ranked = sorted(zip(scores, is_name, slots, strict=True), reverse=True)
        for score, _, slot in ranked:
            if len(leaders) == wanted:
                break
            if state.alive(slot, version) and state.owners[slot] not in leaders:
                leaders[state.owners[slot]] = (score, state.kinds[slot], slot)
        boosts: dict[Owner, tuple[float, int]] = {}
        for score, _, slot in ranked:
            form = shaped.get(slot)
            if form is None or not state.alive(slot, version):
                continue
            owner = state.owners[slot]
            leaders.setdefault(owner, (score, state.kinds[slot], slot))
            boost = SHAPE_SCORE - form_penalty(state, form, slot)
            if boost > boosts.get(owner, (0.0,))[0]:
                boosts[owner] = (boost, state.kinds[slot])
        revised: dict[Owner, tuple[float, float, int]] = {}
        for owner, (score, kind, slot) in leaders.items():
            score, coverage = is_distinctive(state, forms, score, slot)
            boost = boosts.get(owner)
            if boost is not None and boost[0] > score:
                score, coverage, kind = boost[0], 100.0, boost[1]
            revised[owner] = (score, coverage, kind)
        self._acronyms(state, query, countries, within, revised)

        ranked_owners = sorted(revised.items(), key=lambda item: (-item[1][0], item[0].id))
        return self._verdict([hit for _, hit in ranked_owners[:2]]), tuple(
            Candidate(
                owner.id,
                owner.name,
                owner.country,
                round(score, 1),
                "name" if kind == NAME else "alias",
            )
            for owner, (score, _, kind) in ranked_owners[:limit]
            if score >= REVIEW_FLOOR
        )

    def _exact(
        self, state: State, query: str, forms: list[Form], countries: frozenset[str] | None
    ) -> Candidate | None:
        """The one institution holding a name or alias the query states exactly (a place hint
        aside, when the institution is in that place), in the country: matched outright, as
        an alias a person confirmed should be. None when several hold it, or another holds it
        as an acronym, or nobody does: the query is scored."""
        if self.threshold > 100.0:
            return None
        version = state.version
        compact = fold(query).replace(" ", "")
        for form in forms:
            found: dict[Owner, int] = {}
            for slot in state.exact.get(form.key, ()) if not form.penalty else ():
                if (
                    state.alive(slot, version)
                    and (countries is None or state.countries[slot] in countries)
                    and not form_penalty(state, form, slot)
                ):
                    found.setdefault(state.owners[slot], state.kinds[slot])
            if len(found) > 1:
                return None
            if found:
                ((owner, kind),) = found.items()
                # Another institution of the same shape ("Alberta University", "University of
                # Alberta") or acronym leaves it to the scores.
                rivals = [*state.shapes.get(form.shape, ()), *state.acronyms.get(compact, ())]
                for slot in rivals:
                    if (
                        state.alive(slot, version)
                        and state.owners[slot] != owner
                        and (countries is None or state.countries[slot] in countries)
                    ):
                        return None
                matched_on = "name" if kind == NAME else "alias"
                return Candidate(owner.id, owner.name, owner.country, 100.0, matched_on)
        return None

    @staticmethod
    def _acronyms(
        state: State,
        query: str,
        countries: frozenset[str] | None,
        within: bool,
        revised: dict[Owner, tuple[float, float, int]],
    ) -> None:
        """Acronyms stated by a source score ACRONYM_SCORE within a country (so two in one
        country tie), initials no source states INITIALS_SCORE."""
        version = state.version
        hits = [
            (slot, ACRONYM_SCORE if within else ACRONYM_SCORE_WORLDWIDE, 100.0)
            for slot in state.acronyms.get(fold(query).replace(" ", ""), ())
        ]
        if spelt := looks_like_acronym(query):
            hits += [(slot, INITIALS_SCORE, 0.0) for slot in state.initials.get(spelt, ())[:50]]
        for slot, score, coverage in hits:
            owner = state.owners[slot]
            if state.alive(slot, version) and (
                countries is None or state.countries[slot] in countries
            ):
                if score > revised.get(owner, (0.0,))[0]:
                    revised[owner] = (score, coverage, ACRONYM if coverage else state.kinds[slot])

    def _verdict(self, best: list[tuple[float, float, int]]) -> str:
        if not best or best[0][0] < REVIEW_FLOOR:
            return "no_match"
        score, coverage, _ = best[0]
        clear = len(best) == 1 or score - best[1][0] >= self.margin
        if clear and score >= self.threshold and coverage >= COVERAGE:
            return "matched"
        return "ambiguous"


def _candidates(state: State, key: str, countries: frozenset[str] | None) -> list[int]:
    """Up to TOP_K slots worth rescoring for `key` (some may be dead: the caller checks)."""
    if countries is not None and sum(state.country_live[c] for c in countries) <= TOP_K:
        return [slot for c in countries for slot in state.country_slots.get(c, ())]
    common = max(MIN_COMMON, COMMON * state.live)
    totals: dict[int, float] = {}
    commons: list[int] = []
    for token in dict.fromkeys(key.split()):
        near = _neighbours(state, token)
        rare = [(number, similarity) for number, similarity in near if state.df[number] <= common]
        if not rare:
            commons.extend(number for number, _ in near[:1])
            continue
        weight = state.rarity(state.words[rare[0][0]])
        mine: dict[int, float] = {}
        for number, similarity in rare:
            for slot in state.postings[number]:
                if slot not in mine:
                    mine[slot] = weight * similarity
        for slot, value in mine.items():
            totals[slot] = totals.get(slot, 0.0) + value
    if countries is not None:
        totals = {
            slot: value for slot, value in totals.items() if state.countries[slot] in countries
        }
    if not totals and commons:
        return _sharing(state, commons, countries, len(key))
    if len(totals) <= TOP_K:
        return list(totals)
    # Ties (names sharing the same words) go to the shorter names, the likelier exact ones.
    return heapq.nlargest(TOP_K, totals, key=lambda slot: (totals[slot], -len(state.keys[slot])))


def _neighbours(state: State, token: str) -> list[tuple[int, float]]:
    """Vocabulary words standing in for `token`, most similar first: (word number, ratio)."""
    found = set()
    exact = state.vocabulary.get(token)
    if exact is not None:
        found.add(exact)
    if len(token) >= 3:
        found.update(_lookup(state, deletions(token) | {token}))
    near = _closest(state, token, found)
    if len(token) >= 4 and (not near or near[0][1] < CLOSE):
        twice = set().union(*map(deletions, deletions(token)))
        near = _closest(state, token, found | _lookup(state, twice))
    return near


def _lookup(state: State, variants: Iterable[str]) -> set[int]:
    found: set[int] = set()
    for variant in variants:
        found.update(state.deletions.get(variant, ()))
    return found


def _closest(state: State, token: str, numbers: set[int]) -> list[tuple[int, float]]:
    numbers = list(numbers)
    words = [state.words[number] for number in numbers]
    return [
        (numbers[position], similarity)
        for _, similarity, position in process.extract(
            token, words, scorer=fuzz.ratio, score_cutoff=NEAR, limit=NEIGHBOURS
        )
    ]


def _sharing(
    state: State, numbers: list[int], countries: frozenset[str] | None, length: int
) -> list[int]:
    """For a query made only of common words ("National University"): the names holding as
    many of its words as possible, those closest in length to the query first."""
    numbers = sorted(numbers, key=lambda number: state.df[number])
    slots = set(state.postings[numbers[0]])
    for number in numbers[1:]:
        narrower = slots.intersection(state.postings[number])
        if narrower:
            slots = narrower
    if countries is not None:
        slots = {slot for slot in slots if state.countries[slot] in countries}
    if len(slots) <= TOP_K:
        return list(slots)
    return heapq.nsmallest(TOP_K, slots, key=lambda slot: abs(len(state.keys[slot]) - length))


def _rescore(key: str, keys: list[str]) -> list[float]:
    """max(ratio, mean(token_set_ratio, token_sort_ratio)) of `key` against each of `keys`.

    token_set_ratio alone scores 100 for any name whose words are a subset of the query's
    ("University of Helsinki" ties "Helsinki University of Technology"); averaging it with
    token_sort_ratio breaks such ties; sorting words magnifies a typo in a word's first letter,
    which plain ratio does not, so ratio counts where it is higher. With the other steps as
    they are (4,000 queries, the whole shared list indexed, no country), acc@1: token_set
    0.972, token_sort 0.972, WRatio 0.965, mean of set and sort 0.975, this 0.978; with half
    the list indexed, it also accepts the most right answers (89.2% against 86.0-88.7%).
    (Before the other steps existed the spread was wider: token_set alone 0.81, WRatio 0.92.)
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


def is_distinctive(state: State, forms: list[Form], score: float, slot: int) -> tuple[float, float]:
    """`score` revised on the words query and name share, each weighted by its rarity in the
    index, and their coverage: the least share of either side's weight the other side matches,
    0 when a distinctive word of either side has no counterpart (VETO).

    Character scores are dominated by the common words: "Bowie State University" scores 95
    against "Boise State University" and "Belarusian State Medical University" 93 against
    "Belarusian State University". Weighted by rarity, "bowie"/"boise" and "medical" decide:
    the revised score is the mean of `score` and the weighted share of all words matched (with
    half the shared list indexed, accepted queries for missing institutions fall from 3.8% to
    2.2%). The coverage catches a name with a distinctive word the query lacks ("Hirosaki
    Gakuin University" for "Hirosaki University"), which the pooled share dilutes. A place
    ending the name ("Karolinska Institute Stockholm") is read as the query's places are: it
    counts in the score, not against the coverage.
    """
    words = state.keys[slot].split()
    placed = words[:-1] if ends_in_place(state, words, state.countries[slot]) else words
    distinct = max(1.0, COMMON * state.live)
    agreement = coverage = 0.0
    for form in forms:
        penalty = form_penalty(state, form, slot)
        query = form.key.split()
        shares = []
        vetoed = False
        for mine, theirs, counted in ((query, words, query), (words, query, placed)):
            total = matched = 0.0
            for position, word in enumerate(mine):
                weight = state.rarity(word)
                likeness = _likeness(word, theirs)
                total += weight
                matched += weight * likeness
                if (
                    likeness < VETO
                    and position < len(counted)
                    and is_distinct(state, word, distinct)
                ):
                    vetoed = True
            shares.append((matched, total))
        pooled = sum(matched for matched, _ in shares) / sum(total for _, total in shares)
        agreement = max(agreement, pooled - penalty)
        # A city hint the institution is not known to be in is part of the name after all.
        if not vetoed and penalty < CITY_PENALTY:
            kept = sum(state.rarity(word) for word in placed)
            name_share = (shares[1][0] - _unplaced(state, words, placed, query)) / kept
            coverage = max(coverage, min(shares[0][0] / shares[0][1], name_share) - penalty)
    return (score + agreement) / 2, coverage


def _unplaced(state: State, words: list[str], placed: list[str], query: list[str]) -> float:
    """The matched weight of the name's trailing place, taken out of the name's share."""
    return sum(state.rarity(word) * _likeness(word, query) for word in words[len(placed) :])


def _likeness(word: str, theirs: list[str]) -> float:
    """How well the other side matches `word` (0-100): fuzz.ratio to its likest word; a word
    with a digit must be there as it is."""
    if not word.isalpha() and any(char.isdigit() for char in word):
        return 100.0 if word in theirs else 0.0
    return process.extractOne(word, theirs, scorer=fuzz.ratio)[1]


def best_title(query: str, titles: list[str]) -> tuple[int | None, float]:
    """The title (by index) most like `query`, and its 0-100 score; (None, 0.0) for no titles.

    For a short list, such as one institution's qualifications: word order and extra words
    ("BSc (Hons)") weigh little, so token_set_ratio over the normalised titles.
    """
    keys = [normalise_name(title) for title in titles]
    if not keys:
        return None, 0.0
    found = process.extractOne(normalise_name(query), keys, scorer=fuzz.token_set_ratio)
    return found[2], round(float(found[1]), 1)


def similar_words(
    words: Iterable[str], vocabulary: list[str], cutoff: float
) -> dict[str, dict[str, float]]:
    """For each of `words`, the `vocabulary` words at least `cutoff` (0-100) alike by
    rapidfuzz ratio, as {word: {vocabulary word: score}}; a word with none maps to {}.

    For course titles (mappings.transfer.similarity), where one word's spelling in a
    neighbouring language ("thermodynamik", "thermodynamique") is the evidence, and word order
    is not.
    """
    return {
        word: {
            vocabulary[position]: score
            for _, score, position in process.extract(
                word, vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            )
        }
        for word in dict.fromkeys(words)
    }
