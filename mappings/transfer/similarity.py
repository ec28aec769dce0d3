"""Course-title suggestions, the pure core: which receiving courses a result is most like.

Titles in the glossary's languages are read as concepts and words, weighted by their rarity in
the receiving catalogue; a suggestion's score also weighs the field, the credits and the level.
Plain values in and out, no database (bench/transfer_suggestions.py measures it).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from mappings.matching import similar_words
from registry.core.normalise import fold

# How much each factor counts in a suggestion's score. The title carries the content; the field
# and the level keep a same-titled course of another discipline or cycle below; credits break
# ties between parts of a sequence. Chosen before measuring (bench/transfer_suggestions.py).
WEIGHTS = {"title": 0.55, "field": 0.20, "credits": 0.15, "level": 0.10}
# A factor that cannot be judged (unknown on either side) counts as this: neither for nor against.
NEUTRAL = 0.5
# Below this combined score a course is not worth a person's time.
MIN_SCORE = 0.35
SUGGESTIONS = 5
# Words at least this alike (rapidfuzz ratio) count as the same word in two languages:
# "thermodynamik"/"thermodynamique" (89), "chemie"/"chimie" (83) do, "organic"/"inorganic"
# (88) never meet here because both are concepts of the glossary, compared exactly.
COGNATE = 75.0

# Subject words across English, German, French, Spanish, Italian, Dutch and Polish, folded
# (registry.core.normalise.fold), each mapped to one concept. A word of four letters or fewer
# must be the whole word; a longer one may sit inside a word, as in German and Dutch compounds
# ("datenbanksysteme", "rechnernetze"); the longest forms are found first, so "anorganisch"
# never reads as "organisch". Phrases whose words would mislead one by one (linear programming
# is optimisation, not coding) are concepts of their own.
PHRASES = {
    "#linear #optimisation": (
        "linear programming",
        "lineare programmierung",
        "lineare optimierung",
        "programmation lineaire",
        "programacion lineal",
        "programmazione lineare",
        "lineaire programmering",
        "programowanie liniowe",
    ),
    "#machinelearning": (
        "machine learning",
        "maschinelles lernen",
        "apprentissage automatique",
        "aprendizaje automatico",
        "apprendimento automatico",
        "machinaal leren",
        "uczenie maszynowe",
    ),
    "#operatingsystem": (
        "operating system",
        "operating systems",
        "systemes d exploitation",
        "systeme d exploitation",
        "sistemas operativos",
        "sistemi operativi",
        "systemy operacyjne",
        "besturingssystemen",
        "betriebssysteme",
        "betriebssystem",
    ),
    "#database": (
        "base de donnees",
        "bases de donnees",
        "bases de datos",
        "base de datos",
        "basi di dati",
        "base di dati",
        "bazy danych",
    ),
    "#informatics": ("computer science",),
    "#probability": (
        "rachunek prawdopodobienstwa",
        "probability theory",
        "wahrscheinlichkeitstheorie",
        "theorie des probabilites",
    ),
    "#electricalengineering": (
        "electrical engineering",
        "ingenieria electrica",
        "genie electrique",
    ),
    "#business": (
        "business administration",
        "administracion de empresas",
        "gestion des entreprises",
        "economia aziendale",
    ),
}
CONCEPTS = {
    "#programming": ("program", "programm"),
    "#software": ("software", "logiciel", "oprogramowan"),
    "#object": ("object", "objekt", "objet", "objeto", "oggett", "obiekt"),
    "#oriented": ("orient",),
    "#engineering": (
        "engineering",
        "technik",
        "techniek",
        "technika",
        "ingenier",
        "ingegner",
        "inzynier",
        "genie",
    ),
    "#database": ("datenbank", "database", "databank"),
    "#data": ("daten", "data", "donnees", "datos", "dati", "dane", "danych", "gegevens"),
    "#structure": ("struct", "struktur", "estructur", "struttur"),
    "#algorithm": ("algorithm", "algoritm", "algorytm"),
    "#system": ("system", "sistem"),
    "#network": ("network", "netzwerk", "netze", "reseau", "redes", "reti", "netwerk", "sieci"),
    "#computer": ("computer", "rechner", "ordinateur", "computador", "calcolator", "komputer"),
    "#informatics": ("informati", "informaty"),
    "#artificial": ("artificial", "kunstlich", "artificiel", "kunstmatig", "sztuczn"),
    "#intelligence": ("intellig", "intelig"),
    "#web": ("web", "internet"),
    "#security": (
        "security",
        "sicherheit",
        "securite",
        "seguridad",
        "sicurezza",
        "beveiliging",
        "bezpieczen",
    ),
    "#theory": ("theor", "teor"),
    "#compiler": ("compiler", "compilat", "compilador", "kompilator", "ubersetzerbau"),
    "#graphics": ("graphic", "grafik", "graphique", "grafic", "grafik"),
    "#discrete": ("diskret", "discret", "dyskretn"),
    "#mathematics": ("mathemat", "matemat", "wiskunde"),
    "#linear": ("linea", "liniow"),
    "#algebra": ("algebr",),
    "#analysis": ("analys", "analis", "analiz"),
    "#analytical": ("analyti", "analiti", "analityc"),
    "#calculus": ("calculus", "calcul", "calcolo", "rachunek"),
    "#differential": (
        "differential",
        "differenzial",
        "differentiel",
        "diferencial",
        "differenziale",
        "rozniczk",
    ),
    "#equation": ("gleichung", "equation", "ecuacion", "equazion", "vergelijking", "rownan"),
    "#numerical": ("numeri", "numeryczn"),
    "#probability": ("probabil", "wahrscheinlich", "waarschijnlijk", "prawdopodob"),
    "#statistics": ("statisti", "estadistic", "statystyk"),
    "#geometry": ("geometr",),
    "#optimisation": ("optimi", "optimier", "optymaliz"),
    "#logic": ("logic", "logik", "logique", "logica", "logika"),
    "#physics": ("physi", "fisic", "fysic", "fizyk"),
    "#astrophysics": ("astrophys", "astrofis", "astrofiz"),
    "#mechanics": ("mechani", "mecani", "meccani"),
    "#quantum": ("quantum", "quanten", "quantique", "quantist", "cuantic", "kwantow", "kwantum"),
    "#thermodynamics": ("thermodyn", "termodin", "termodyn"),
    "#electromagnetism": ("electromagnet", "elektromagnet", "elettromagnet"),
    "#electricalengineering": ("elektrotechn", "electrotechn", "elettrotecn"),
    "#electronics": ("electron", "elektron", "elettron"),
    "#optics": ("optik", "optic", "optiq", "ottic", "optyk"),
    "#circuit": ("schaltung", "circuit", "obwod"),
    "#signal": ("signal", "signaux", "segnal", "senal", "sygnal"),
    "#control": ("regelung", "control", "regeltechn", "sterowan"),
    "#materials": ("werkstoff", "material", "materiau", "materiale"),
    "#fluid": ("stromung", "fluid", "plynow"),
    "#heat": ("warme", "heat", "chaleur", "calor", "warmte", "ciepl"),
    "#chemistry": ("chemi", "chimi", "quimic", "chemic"),
    "#biochemistry": ("biochem", "biochimi", "bioquimic"),
    "#organic": ("organic", "organisch", "organiq", "organiczn"),
    "#inorganic": ("inorganic", "anorganisch", "inorganiq", "nieorganiczn", "anorganic"),
    "#biology": ("biolog",),
    "#microbiology": ("mikrobiolog", "microbiolog"),
    "#molecular": ("molekul", "molecul", "molecol"),
    "#cell": ("cell", "zell", "komork"),
    "#genetics": ("genet",),
    "#ecology": ("ecolog", "okolog", "ekolog"),
    "#anatomy": ("anatom",),
    "#physiology": ("physiolog", "fisiolog", "fysiolog", "fizjolog"),
    "#pharmacology": ("pharmakolog", "pharmacolog", "farmacolog", "farmakolog"),
    "#economics": ("econom", "okonom", "ekonom", "volkswirtschaft"),
    "#micro": ("micro", "mikro"),
    "#macro": ("macro", "makro"),
    "#business": ("betriebswirtschaft", "bedrijfskunde", "business"),
    "#management": ("management", "gestion", "zarzadzan", "unternehmensfuhrung"),
    "#accounting": (
        "accounting",
        "rechnungswesen",
        "buchhaltung",
        "buchfuhrung",
        "comptabilite",
        "contabilidad",
        "contabilita",
        "boekhoud",
        "rachunkow",
    ),
    "#finance": ("financ", "finanz", "finans"),
    "#marketing": ("marketing",),
    "#law": ("recht", "law", "droit", "derecho", "diritto", "prawo", "prawa"),
    "#civil": ("privat", "zivil", "civil", "cywiln", "burgerlijk"),
    "#contract": ("vertrag", "contract", "contrat", "contrato", "contratt", "umow"),
    "#constitutional": (
        "verfassung",
        "constitution",
        "constitucion",
        "costituzion",
        "konstytucyj",
        "staatsrecht",
    ),
    "#european": ("europ",),
    "#criminal": ("straf", "criminal", "penal", "karne", "karny"),
    "#international": ("internation", "internazional", "internacional", "miedzynarod"),
}
# Words that mark a first course of a sequence ("Introduction to Programming" is "Programming 1")
# and a later one.
INTRO = (
    "introduction",
    "introductory",
    "introduccion",
    "introduzione",
    "einfuhrung",
    "grundlagen",
    "grundzuge",
    "fundamentals",
    "foundations",
    "fundamentos",
    "fondamenti",
    "fondements",
    "inleiding",
    "wstep",
    "podstawy",
    "basics",
    "principles",
    "principes",
    "principios",
    "principi",
    "elements",
    "elementi",
    "initiation",
)
ADVANCED = (
    "advanced",
    "fortgeschritten",
    "vertiefung",
    "avance",
    "avancee",
    "avanzado",
    "avanzada",
    "avanzato",
    "avanzata",
    "gevorderd",
    "zaawansowan",
)
STOP_WORDS = frozenset(
    """
    a an and the of to in for on with from at by course module
    und der die das des dem den fur mit zur zum im von vom ins am kurs
    de la le les des du et au aux pour en l d un une sur cours
    el los las del y al para con e sobre curso
    di il lo gli della delle dei degli del e ed per alla allo ai agli alle nel nella corso
    het een van voor tot met op vak
    w z ze na oraz dla do przedmiot
    """.split()
)
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5"}
_NUMBER = re.compile(r"^\d{1,2}$")


@dataclass(frozen=True)
class TitleForm:
    """A title as compared: concepts ("#chemistry") and other words, and its part in a
    sequence ("1", "2"...; "advanced"; None when it names none)."""

    tokens: tuple[str, ...]
    part: str | None


def _stems() -> list[tuple[str, str]]:
    pairs = [(stem, concept) for concept, stems in CONCEPTS.items() for stem in stems]
    return sorted(pairs, key=lambda pair: (-len(pair[0]), pair[0]))


_STEMS = _stems()
_PHRASES = sorted(
    ((phrase, concept) for concept, phrases in PHRASES.items() for phrase in phrases),
    key=lambda pair: -len(pair[0]),
)


def title_form(title: str) -> TitleForm:
    """The comparable form of a course title in any of the glossary's languages."""
    text = f" {fold(title)} "
    for phrase, concept in _PHRASES:
        text = text.replace(f" {phrase} ", f" {concept} ")
    words = text.split()
    part = None
    if words and words[-1] in ROMAN and len(words) > 1:
        part = ROMAN[words.pop()]
    tokens: list[str] = []
    for word in words:
        if word.startswith("#"):
            tokens.extend(word.split())
        elif _NUMBER.match(word):
            part = str(int(word))
        elif word in INTRO:
            part = part or "1"
        elif word.startswith(ADVANCED):
            part = part or "advanced"
        elif word not in STOP_WORDS and len(word) > 1:
            tokens.extend(_concepts(word))
    return TitleForm(tuple(dict.fromkeys(tokens)), part)


def _concepts(word: str) -> list[str]:
    """The concepts a word holds, in order, or the word itself when it holds none."""
    found: list[tuple[int, str]] = []
    taken = [False] * len(word)
    for stem, concept in _STEMS:
        if len(stem) <= 4:
            if word == stem and not any(taken):
                found.append((0, concept))
                taken = [True] * len(word)
            continue
        start = word.find(stem)
        while start >= 0:
            if not any(taken[start : start + len(stem)]):
                found.append((start, concept))
                taken[start : start + len(stem)] = [True] * len(stem)
                break
            start = word.find(stem, start + 1)
    return [concept for _, concept in sorted(found)] or [word]


def part_agreement(first: str | None, second: str | None) -> float:
    """How well two parts of a sequence agree: "Programming" and "Programming 1" may well be the
    same course, "Programming 1" and "Programming 2" are not."""
    if first == second:
        return 1.0
    if first is None or second is None:
        return 0.9 if (first or second) == "1" else 0.7
    return 0.4


class TitleIndex:
    """A receiving catalogue's titles, ready to be compared with one title at a time.

    A word's weight is its rarity in the catalogue (smoothed inverse document frequency): in a
    chemistry department "chemistry" says little and "organic" decides.
    """

    def __init__(self, titles: list[str]):
        self.forms = [title_form(title) for title in titles]
        counts = Counter(token for form in self.forms for token in set(form.tokens))
        self.size = len(self.forms)
        self.counts = counts
        self.words = sorted(token for token in counts if not token.startswith("#"))

    def weight(self, token: str) -> float:
        return math.log(1 + (1 + self.size) / (1 + self.counts.get(token, 0)))

    def scores(self, title: str) -> list[float]:
        """0..1 for each catalogue title: the rarity-weighted share of both titles' words the
        other one holds (concepts exactly, other words as cognates), times the agreement of
        their parts."""
        form = title_form(title)
        plain = [token for token in form.tokens if not token.startswith("#")]
        alike = similar_words(plain, self.words, COGNATE) if self.words else {}
        return [self._score(form, other, alike) for other in self.forms]

    def _score(
        self, form: TitleForm, other: TitleForm, alike: dict[str, dict[str, float]]
    ) -> float:
        if not form.tokens or not other.tokens:
            return 0.0

        def best(token: str, among: tuple[str, ...], reverse: bool) -> float:
            if token.startswith("#"):
                return 1.0 if token in among else 0.0
            if reverse:
                return max(
                    (
                        alike.get(mine, {}).get(token, 0.0) / 100
                        for mine in among
                        if not mine.startswith("#")
                    ),
                    default=0.0,
                )
            return max(
                (
                    alike.get(token, {}).get(theirs, 0.0) / 100
                    for theirs in among
                    if not theirs.startswith("#")
                ),
                default=0.0,
            )

        held = total = 0.0
        for token in form.tokens:
            weight = self.weight(token)
            held += weight * best(token, other.tokens, False)
            total += weight
        for token in other.tokens:
            weight = self.weight(token)
            held += weight * best(token, form.tokens, True)
            total += weight
        return held / total * part_agreement(form.part, other.part)


@dataclass(frozen=True)
class CourseFacts:
    """What a suggestion weighs of a course or a result; credits in the receiving system."""

    title: str
    credits: Decimal | None = None
    eqf: int | None = None
    level: str | None = None
    isced_f: str | None = None


def credits_closeness(first: Decimal | None, second: Decimal | None) -> float:
    """The smaller volume as a share of the larger; NEUTRAL when either is unknown."""
    if first is None or second is None:
        return NEUTRAL
    if first == second:
        return 1.0
    return float(min(first, second) / max(first, second)) if max(first, second) else 1.0


def level_closeness(first: CourseFacts, second: CourseFacts) -> float:
    """1 on the same EQF level, 0.4 one level apart, 0 further; NEUTRAL when unknown."""
    if first.eqf is not None and second.eqf is not None:
        return max(0.0, 1.0 - 0.6 * abs(first.eqf - second.eqf))
    if first.level and second.level:
        return 1.0 if first.level == second.level else 0.0
    return NEUTRAL


def field_closeness(first: str | None, second: str | None) -> float:
    """ISCED-F: the same detailed field 1, narrow 0.75, broad 0.5, else 0; NEUTRAL if unknown."""
    if not first or not second:
        return NEUTRAL
    shared = 0
    for mine, theirs in zip(first, second, strict=False):
        if mine != theirs:
            break
        shared += 1
    return {4: 1.0, 3: 0.75, 2: 0.5}.get(shared, 0.0)


def rank(
    result: CourseFacts, catalogue: list[CourseFacts], index: TitleIndex, limit: int = SUGGESTIONS
) -> list[tuple[int, dict[str, float], float]]:
    """The catalogue courses most like `result`, best first: (position in the catalogue,
    the score of each factor, the combined score), those scoring MIN_SCORE or more, at most
    `limit`. Ties keep the catalogue's order."""
    titles = index.scores(result.title)
    ranked = []
    for position, (course, title) in enumerate(zip(catalogue, titles, strict=True)):
        evidence = {
            "title": round(title, 3),
            "field": field_closeness(result.isced_f, course.isced_f),
            "credits": round(credits_closeness(result.credits, course.credits), 3),
            "level": round(level_closeness(result, course), 3),
        }
        score = round(sum(WEIGHTS[name] * value for name, value in evidence.items()), 3)
        if score >= MIN_SCORE:
            ranked.append((position, evidence, score))
    ranked.sort(key=lambda item: (-item[2], -item[1]["title"], item[0]))
    return ranked[:limit]
