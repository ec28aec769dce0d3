"""Transfer credit: a learner's transcript evaluated course by course for a receiving institution.

For each result the question is "which of our courses does this count as, for how many of our
credits, with which of our grades?". Credit is granted automatically only through an approved
articulation of the receiving institution (registry.catalogue.articulations) valid on the day the
course was completed, whose source courses are all on the transcript; everything else becomes
ranked suggestions from the receiving catalogue, left "pending" for a person to decide. Failed,
withdrawn and unfinished results never earn credit. A decision saved on a pending result becomes
an approved articulation, so the next learner with the same course is answered automatically.

Steps, each adding to the answer: the issuing institution (the institution matcher), the
receiving institution's credit system (what its courses use) and grading scale (its country's
course scale), duplicates, source courses (by code in the issuer's catalogue), articulations,
then per result its credits, grade, status and suggestions, and the summary. The same inputs on
the same registry give the same result and digest; each evaluation is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree import ElementTree as ET

from marshmallow import Schema, ValidationError, fields, pre_load, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frameworks import services as frameworks
from frameworks.schemas import LEVEL_REF
from mappings import services as conversions
from mappings.credits import CreditConversion
from mappings.grades import Band, Distribution, ScaleSpec, convert_grade
from mappings.institutions import match_institution
from mappings.matching import similar_words
from registry.catalogue.articulations import (
    Articulation,
    TransferEvaluation,
    approved_for,
    create_articulation,
)
from registry.catalogue.models import RESULT_STATUSES, Course, Transcript
from registry.catalogue.schemas import MAX_CREDITS, language_tag
from registry.core import audit
from registry.core.db import MAX_ID
from registry.core.errors import (
    Conflict,
    DomainError,
    Hidden,
    InvalidData,
    NotFound,
    PermissionDenied,
)
from registry.core.inputs import DecimalField, id_field
from registry.core.normalise import fold, name_key, whole_number
from registry.core.permissions import Actor, Target, authorize, institution_owner
from registry.institutions.models import SCHEMES, Institution
from registry.institutions.private import readable
from registry.institutions.schemas import iso_country, text_field
from registry.match_reviews.services import Sightings

# Who may evaluate for an institution: its own account or an admin (the scope check of
# assessment.create on a non-assessment target; registrars and ministries have no such scope).
EVALUATE = "assessment.create"
MAX_RESULTS = 500
STATUSES = ("granted", "pending", "refused", "not_applicable")

# The scale a course grade is given on in each country, where the registry bundles one. Not the
# degree classification (GB-HONS): a UK module is marked in percent.
COURSE_SCALES = {
    "DE": "DE-1-5",
    "FR": "FR-0-20",
    "IT": "IT-30",
    "NL": "NL-10",
    "ES": "ES-10",
    "US": "US-GPA-4",
    "GB": "GB-PCT",
}
# The Bologna cycles' places on the EQF (QF-EHEA referencing), so course levels compare.
CYCLES = {"QF-EHEA:SC": 5, "QF-EHEA:1": 6, "QF-EHEA:2": 7, "QF-EHEA:3": 8}

# --- suggestions: the pure core ---------------------------------------------------------------

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


# --- the transcript ---------------------------------------------------------------------------


class IssuerSchema(Schema):
    name = text_field(500, load_default=None, allow_none=True)
    country = fields.String(load_default=None, allow_none=True, validate=iso_country)
    identifiers = fields.Dict(
        keys=fields.String(validate=validate.OneOf(SCHEMES)),
        values=text_field(300),
        load_default=dict,
    )

    @pre_load
    def _upper_country(self, data, **_):
        if isinstance(data, dict) and isinstance(data.get("country"), str):
            data = {**data, "country": data["country"].strip().upper()}
        return data


class DistributionRowSchema(Schema):
    grade = text_field(60, required=True)
    percent = DecimalField(required=True, as_string=True, validate=validate.Range(0, 100))


class LearnerSchema(Schema):
    """As ELMO names a learner; only for the ELMO export of the decision."""

    given_names = text_field(300, load_default=None, allow_none=True)
    family_name = text_field(300, load_default=None, allow_none=True)


class ResultSchema(Schema):
    """One result as a transcript states it. Credits without a system, or in a system the
    registry does not know, are accepted here and flagged by the evaluation."""

    code = text_field(100, load_default=None, allow_none=True)
    title = text_field(500, required=True)
    language = fields.String(load_default=None, allow_none=True, validate=language_tag)
    credits = fields.Decimal(
        load_default=None, allow_none=True, as_string=True, validate=validate.Range(0, MAX_CREDITS)
    )
    credit_system = text_field(60, load_default=None, allow_none=True)
    grade = text_field(60, load_default=None, allow_none=True)
    grading_scheme = text_field(200, load_default=None, allow_none=True)
    grade_distribution = fields.List(
        fields.Nested(DistributionRowSchema),
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 100),
    )
    status = fields.String(load_default="unknown", validate=validate.OneOf(RESULT_STATUSES))
    level = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(LEVEL_REF, error="Expected FRAMEWORK:LEVEL, e.g. EQF:6."),
    )
    isced_f = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(
            r"^\d{2,4}$", error="Expected an ISCED-F code of 2 to 4 digits, e.g. 0613."
        ),
    )
    ended_on = fields.Date(load_default=None, allow_none=True)

    @pre_load
    def _spellings(self, data, **_):
        # ELMO writes "in-progress" and lower-case credit schemes ("ects").
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("status"), str):
            data["status"] = data["status"].strip().lower().replace("-", "_")
        if isinstance(data.get("credit_system"), str):
            data["credit_system"] = data["credit_system"].strip().upper()
        return data


class TranscriptSchema(Schema):
    """A transcript given as JSON: who issued it and the learner's results."""

    issuer = fields.Nested(IssuerSchema, required=True)
    learner = fields.Nested(LearnerSchema, load_default=None, allow_none=True)
    results = fields.List(
        fields.Nested(ResultSchema), required=True, validate=validate.Length(1, MAX_RESULTS)
    )


def _stored(
    session: Session, actor: Actor, transcript_id: int, receiving_id: int
) -> dict[str, Any]:
    """A stored transcript in the JSON shape; only its leaves (programmes and modules that hold
    other results are not courses).

    A transcript is private to the institution that received it (and admins): to anyone else it
    does not exist, so another's answers exactly as an unknown id does. It is evaluated only for
    the institution that received it; one received by none (the registry's own: an admin
    imported it for no institution) only by an admin."""
    transcript = session.get(Transcript, transcript_id)
    if transcript is None or not readable(
        session, actor, institution_owner(transcript.received_by_institution_id)
    ):
        raise InvalidData(
            f"No transcript {transcript_id}.",
            errors={"transcript": [f"No transcript {transcript_id}."]},
        )
    if transcript.received_by_institution_id not in (None, receiving_id):
        raise PermissionDenied(
            f"Transcript {transcript_id} was received by institution "
            f"{transcript.received_by_institution_id}, not by {receiving_id}.",
            action="transfer.evaluate",
            target=f"transcript:{transcript_id}",
        )
    parents = {result.parent_local_id for result in transcript.results if result.parent_local_id}
    results = []
    for row in transcript.results:
        if row.local_id in parents:
            continue
        results.append(
            {
                "code": row.code,
                "title": row.title,
                "language": row.language,
                "credits": None if row.credits is None else str(row.credits),
                "credit_system": row.credit_system,
                "grade": row.grade,
                "grading_scheme": row.grading_scheme,
                "grade_distribution": row.grade_distribution,
                "status": row.status,
                "level": row.level or (f"EQF:{row.eqf_level}" if row.eqf_level else None),
                "isced_f": row.isced_f,
                "ended_on": row.ended_on.isoformat() if row.ended_on else None,
            }
        )
    issuer = {
        "name": transcript.issuer_name,
        "country": transcript.issuer_country,
        "identifiers": {
            scheme: value
            for scheme, value in (transcript.issuer_identifiers or {}).items()
            if scheme in SCHEMES
        },
    }
    learner = (
        {"given_names": None, "family_name": transcript.learner_name}
        if transcript.learner_name
        else None
    )
    return {
        "issuer": issuer,
        "learner": learner,
        "results": results,
        "issuer_institution_id": transcript.issuer_institution_id,
    }


def _inputs(
    session: Session, actor: Actor, transcript: Any, receiving_id: int, on: dt.date
) -> dict[str, Any]:
    """The validated, canonical inputs of one evaluation: what the digest is taken of."""
    known_issuer = None
    transcript_id = None
    if isinstance(transcript, int) and not isinstance(transcript, bool):
        if not 1 <= transcript <= MAX_ID:
            raise NotFound(f"No transcript {transcript}.", id=transcript)
        transcript_id = transcript
        raw = _stored(session, actor, transcript, receiving_id)
        known_issuer = raw.pop("issuer_institution_id")
    elif isinstance(transcript, dict):
        raw = transcript
    else:
        raise InvalidData(
            "Give a stored transcript's id or a transcript object.",
            errors={"transcript": ["An id or an object."]},
        )
    try:
        data = TranscriptSchema().load(raw)
    except ValidationError as error:
        raise InvalidData(
            "The transcript cannot be evaluated as given.", errors={"transcript": error.messages}
        ) from error
    issuer = data["issuer"]
    if not issuer["name"] and not issuer["identifiers"] and known_issuer is None:
        raise InvalidData(
            "The transcript does not say who issued it.",
            errors={"transcript": {"issuer": ["Give a name or identifiers."]}},
        )
    return audit.plain(
        {
            "transcript_id": transcript_id,
            "issuer": issuer,
            "issuer_institution_id": known_issuer,
            "learner": data["learner"],
            "results": data["results"],
            "receiving_institution_id": receiving_id,
            "on": on,
        }
    )


def digest(inputs: dict[str, Any]) -> str:
    canonical = json.dumps(inputs, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- the steps --------------------------------------------------------------------------------

_CENT = Decimal("0.01")


def _show(number: Decimal) -> str:
    """Two places, half up, without trailing zeros: "6", "7.5", "6.67"."""
    return format(number.quantize(_CENT, rounding=ROUND_HALF_UP).normalize(), "f")


class Case:
    """One evaluation under way: the registry facts it needs, looked up once each."""

    def __init__(self, session: Session, on: dt.date, receiving: Institution):
        self.session = session
        self.receiving = receiving
        self.on = on
        self.flags: list[str] = []
        self._systems: dict[str, bool] = {}
        self._conversions: dict[tuple[Decimal, str, str], Any] = {}
        self._eqf: dict[str, int | None] = {}
        self._tables: dict[tuple[str, str], conversions.Choice] = {}
        self.scales = {
            scale.code: conversions.scale_spec(scale)
            for scale in frameworks.list_grading_scales(session)
        }

    def grade_table(self, source: ScaleSpec, target: str) -> conversions.Choice:
        """The conversion table the receiving institution set for the two scales, if any."""
        key = (source.code, target)
        if key not in self._tables:
            self._tables[key] = conversions.choose_table(
                self.session, source, self.scales[target], institutions=(str(self.receiving.id),)
            )
        return self._tables[key]

    def known_system(self, code: str | None) -> bool:
        if code is None:
            return False
        if code not in self._systems:
            try:
                frameworks.get_credit_system(self.session, code, "credit_system")
                self._systems[code] = True
            except InvalidData:
                self._systems[code] = False
        return self._systems[code]

    def convert(self, value: Decimal, source: str, target: str | None) -> CreditConversion | None:
        """A CreditConversion into `target`, or None when there is no target or no way."""
        if target is None:
            return None
        key = (value, source, target)
        if key not in self._conversions:
            try:
                self._conversions[key] = conversions.credits(self.session, value, source, target)
            except InvalidData:
                self._conversions[key] = None
        return self._conversions[key]

    def eqf(self, ref: str | None) -> int | None:
        """The EQF level a FRAMEWORK:LEVEL reference stands at (the lower one when two)."""
        if not ref:
            return None
        if ref not in self._eqf:
            level = None
            if ref.startswith("EQF:"):
                level = whole_number(ref[4:])
            elif ref in CYCLES:
                level = CYCLES[ref]
            else:
                try:
                    answer = conversions.level_graph(self.session).equivalents(ref, "EQF", self.on)
                    levels = [int(match.level.split(":")[1]) for match in answer.matches]
                    level = min(levels) if levels else None
                except (DomainError, ValueError):
                    level = None
            self._eqf[ref] = level
        return self._eqf[ref]


def resolve_issuer(session: Session, inputs: dict[str, Any]) -> dict[str, Any]:
    """The issuing institution: by the stored transcript's own link, else the matcher."""
    if inputs["issuer_institution_id"] is not None:
        institution = session.get(Institution, inputs["issuer_institution_id"])
        if institution is not None:
            return {
                "verdict": "matched",
                "id": institution.id,
                "name": institution.name,
                "country": institution.country,
                "identifiers": identifiers(institution),
                "matched_on": "transcript",
                "candidates": [],
            }
    issuer = inputs["issuer"]
    try:
        found = match_institution(
            session, issuer["name"] or "", issuer["country"], 3, issuer["identifiers"] or None
        )
    except InvalidData:
        # Only identifiers were given and none is known: nothing to search by name.
        return {"verdict": "no_match", "candidates": []}
    candidates = [asdict(c) for c in found.candidates]
    if found.verdict != "matched":
        return {"verdict": found.verdict, "candidates": candidates}
    best = found.candidates[0]
    return {
        "verdict": "matched",
        "id": best.id,
        "name": best.name,
        "country": best.country,
        "identifiers": identifiers(session.get(Institution, best.id)),
        "matched_on": best.matched_on,
        "candidates": candidates,
    }


def receiving_credit_system(session: Session, institution_id: int) -> str | None:
    """The credit system most of the institution's courses are counted in; None without any."""
    row = session.execute(
        select(Course.credit_system, func.count().label("n"))
        .where(Course.institution_id == institution_id, Course.credit_system.is_not(None))
        .group_by(Course.credit_system)
        .order_by(func.count().desc(), Course.credit_system)
    ).first()
    return row.credit_system if row else None


def receiving_scale(case: Case) -> str | None:
    code = COURSE_SCALES.get(case.receiving.country)
    return code if code in case.scales else None


def duplicates(results: list[dict[str, Any]]) -> dict[int, int]:
    """{index of a repeated result: index of the one evaluated instead}. A course is the same by
    its code, else by its folded title; of the repeats, a passed one is kept first, then the
    latest, then the first listed (a retake that passed is what counts)."""
    preference = {"passed": 0, "unknown": 1, "in_progress": 2, "failed": 3, "withdrawn": 4}
    groups: dict[tuple[str, str], list[int]] = {}
    for index, result in enumerate(results):
        key = ("code", fold(result["code"])) if result["code"] else ("title", fold(result["title"]))
        groups.setdefault(key, []).append(index)
    repeated = {}
    for indices in groups.values():
        if len(indices) < 2:
            continue
        keep = min(
            indices,
            key=lambda i: (
                preference[results[i]["status"]],
                -(
                    dt.date.fromisoformat(results[i]["ended_on"]).toordinal()
                    if results[i]["ended_on"]
                    else 0
                ),
                i,
            ),
        )
        repeated.update({index: keep for index in indices if index != keep})
    return repeated


def source_courses(
    session: Session, issuer_id: int | None, results: list[dict[str, Any]]
) -> dict[int, Course]:
    """{result index: the issuer's course}: by code (case and accents aside), and for a result
    without a code by its exact normalised title."""
    if issuer_id is None:
        return {}
    courses = list(
        session.scalars(
            select(Course).where(Course.institution_id == issuer_id).order_by(Course.id)
        )
    )
    by_code: dict[str, Course] = {}
    by_title: dict[str, Course] = {}
    for course in courses:
        by_code.setdefault(fold(course.code), course)
        by_title.setdefault(course.title_key, course)
    found = {}
    for index, result in enumerate(results):
        course = (
            by_code.get(fold(result["code"]))
            if result["code"]
            else by_title.get(name_key(result["title"]))
        )
        if course is not None:
            found[index] = course
    return found


def _day(result: dict[str, Any], case: Case) -> dt.date:
    return dt.date.fromisoformat(result["ended_on"]) if result["ended_on"] else case.on


def articulations(
    case: Case, results: list[dict[str, Any]], matched: dict[int, Course], candidates: set[int]
) -> dict[int, tuple[Articulation, list[int]]]:
    """{result index: (the approved articulation that applies, the indices of its bundle)} for
    the results in `candidates`. A bundle applies when every one of its source courses is among
    them and it is valid on the day the last of them was completed; larger bundles first, each
    result used once."""
    by_course = {matched[i].id: i for i in candidates}
    if not by_course:
        return {}
    found: dict[int, Articulation] = {}
    for day in sorted({_day(results[i], case) for i in candidates}):
        for articulation in approved_for(case.session, set(by_course), day, case.receiving.id):
            found[articulation.id] = articulation
    applied: dict[int, tuple[Articulation, list[int]]] = {}
    for articulation in sorted(found.values(), key=lambda a: (-len(a.source_course_ids), a.id)):
        bundle = sorted(by_course[course_id] for course_id in articulation.source_course_ids)
        if any(i in applied for i in bundle):
            continue
        if articulation.valid_on(max(_day(results[i], case) for i in bundle)):
            applied.update({i: (articulation, bundle) for i in bundle})
    return applied


def grade_of(case: Case, result: dict[str, Any], target: str | None) -> dict[str, Any] | None:
    """The result's grade on the receiving scale: by the conversion table the receiving
    institution set for the two scales, else by grading tables when both sides have one (the
    result's own table counts for its side), else linear; kept as given, with the reason, when
    it cannot be converted. The converted grade's basis says which."""
    if not result["grade"]:
        return None
    shown = {"value": result["grade"], "scheme": result["grading_scheme"], "converted": None}
    if target is None:
        return {
            **shown,
            "reason": "The receiving institution has no grading scale in the "
            "registry: the grade is kept as given.",
        }
    table = result["grade_distribution"]
    scheme = (result["grading_scheme"] or "").strip()
    source = case.scales.get(scheme) or case.scales.get(scheme.upper())
    if source is None and table and any(row["grade"] == result["grade"] for row in table):
        # An unknown local scheme with its grading table: the table's grades are the scale.
        source = ScaleSpec(
            code=scheme or "RESULT-TABLE",
            kind="ordinal",
            bands=tuple(Band(row["grade"], True) for row in table),
        )
    if source is None:
        return {
            **shown,
            "reason": f"The grading scheme {scheme or '(none stated)'} is not in "
            "the registry: the grade is kept as given.",
        }
    groups = [group for group in (result["isced_f"], "default") if group]
    source_table = (
        Distribution(source.code, tuple((row["grade"], Decimal(row["percent"])) for row in table))
        if table
        else _distribution(case, source.code, groups)
    )
    target_table = _distribution(case, target, groups)
    attempts = ["distribution", "linear"] if source_table and target_table else ["linear"]
    choice = case.grade_table(source, target)
    reason = None
    for method in attempts:
        try:
            converted = convert_grade(
                result["grade"],
                source,
                case.scales[target],
                method=method,
                scales=case.scales,
                table=choice.table,
                source_distribution=source_table,
                target_distribution=target_table,
            )
            return {**shown, "converted": conversions.explain(converted, choice).as_dict()}
        except InvalidData as error:
            reason = error.detail
    return {**shown, "reason": f"Not converted: {reason}"}


def _distribution(case: Case, scale: str, groups: list[str]) -> Distribution | None:
    for group in groups:
        row = frameworks.get_distribution(case.session, scale, group)
        if row is not None:
            return Distribution(
                row.scale_code,
                tuple((item["grade"], Decimal(item["percent"])) for item in row.rows),
                row.reference_group,
            )
    return None


def _course(course: Course) -> dict[str, Any]:
    return {
        "id": course.id,
        "code": course.code,
        "title": course.title,
        "language": course.language,
        "isced_f": course.isced_f,
    }


def identifiers(institution: Institution) -> list[list[str]]:
    return sorted([identifier.scheme, identifier.value] for identifier in institution.identifiers)


def run(session: Session, inputs: dict[str, Any], receiving: Institution) -> dict[str, Any]:
    """Every step on validated inputs; the answer, not yet stored."""
    case = Case(session, dt.date.fromisoformat(inputs["on"]), receiving)
    results = inputs["results"]
    issuer = resolve_issuer(session, inputs)
    if issuer["verdict"] != "matched":
        case.flags.append(
            "institution_unknown" if issuer["verdict"] == "no_match" else "institution_ambiguous"
        )
    system = receiving_credit_system(session, receiving.id)
    if system is None:
        case.flags.append("receiving_credit_system_unknown")
    scale = receiving_scale(case)
    repeated = duplicates(results)
    matched = source_courses(session, issuer.get("id"), results)
    countable = {
        i
        for i, r in enumerate(results)
        if i not in repeated
        and r["status"] == "passed"
        and r["credits"] is not None
        and case.known_system(r["credit_system"])
    }
    applied = articulations(case, results, matched, {i for i in countable if i in matched})
    # Approved rules a result would meet but for its own gaps (no credits, status not stated).
    blocked = articulations(
        case,
        results,
        matched,
        {
            i
            for i, r in enumerate(results)
            if i in matched
            and i not in repeated
            and i not in countable
            and r["status"] in ("passed", "unknown")
        },
    )

    catalogue = list(
        session.scalars(
            select(Course).where(Course.institution_id == receiving.id).order_by(Course.id)
        )
    )
    index = TitleIndex([course.title for course in catalogue])
    facts = [
        CourseFacts(
            c.title,
            _volume(case, c.credits, c.credit_system, system),
            case.eqf(c.level),
            c.level,
            c.isced_f,
        )
        for c in catalogue
    ]
    courses = {course.id: course for course in catalogue}

    answers = []
    for i, result in enumerate(results):
        answers.append(
            _evaluate(
                case,
                i,
                result,
                system=system,
                scale=scale,
                repeated=repeated,
                matched=matched,
                applied=applied,
                blocked=blocked,
                catalogue=catalogue,
                facts=facts,
                index=index,
                courses=courses,
                issuer_known=issuer["verdict"] == "matched",
            )
        )
    return {
        "receiving_institution": {
            "id": receiving.id,
            "name": receiving.name,
            "country": receiving.country,
            "identifiers": identifiers(receiving),
            "credit_system": system,
            "grading_scale": scale,
        },
        "source_institution": issuer,
        "on": inputs["on"],
        "flags": case.flags,
        "results": [answer for answer, _ in answers],
        "summary": _summary(system, answers),
    }


def _volume(
    case: Case, value: Decimal | str | None, unit: str | None, system: str | None
) -> Decimal | None:
    if value is None or unit is None or not case.known_system(unit):
        return None
    value = Decimal(value)
    if system is None or unit == system:
        return value
    converted = case.convert(value, unit, system)
    return converted.value if converted else None


def _evaluate(
    case: Case,
    i: int,
    result: dict[str, Any],
    *,
    system,
    scale,
    repeated,
    matched,
    applied,
    blocked,
    catalogue,
    facts,
    index,
    courses,
    issuer_known: bool,
) -> tuple[dict[str, Any], Decimal | None]:
    """One result's answer, and the credits it adds to its status in the summary (None: it has
    some that cannot be expressed in the receiving system)."""
    answer: dict[str, Any] = {
        "index": i,
        "code": result["code"],
        "title": result["title"],
        "result_status": result["status"],
        "status": "pending",
        "reason": "",
        "flags": [],
        "duplicate_of": None,
        "source_course": None,
        "credits": None,
        "grade": None,
        "articulation": None,
        "credits_granted": None,
        "suggestions": [],
    }
    if i in matched:
        answer["source_course"] = {
            **_course(matched[i]),
            "matched_on": "code" if result["code"] else "title",
        }
    elif issuer_known:
        answer["flags"].append("source_course_unknown")
    if result["credits"] is None:
        answer["flags"].append("no_credits")
    elif not case.known_system(result["credit_system"]):
        answer["flags"].append("unknown_credit_system")
    volume = None
    if "no_credits" not in answer["flags"] and "unknown_credit_system" not in answer["flags"]:
        value = Decimal(result["credits"])
        converted = case.convert(value, result["credit_system"], system)
        answer["credits"] = {
            "value": result["credits"],
            "system": result["credit_system"],
            "converted": converted.as_dict() if converted else None,
        }
        volume = converted.value if converted else None
    elif result["credits"] is not None:
        answer["credits"] = {
            "value": result["credits"],
            "system": result["credit_system"],
            "converted": None,
        }

    if i in repeated:
        keep = repeated[i]
        answer.update(
            status="not_applicable",
            duplicate_of=keep,
            reason=f"The same course is result #{keep}, which is evaluated instead.",
        )
        answer["flags"].append("duplicate")
        return answer, None
    status = result["status"]
    if status == "failed":
        answer.update(
            status="refused",
            reason="The result is failed: a failed result is never granted credit.",
        )
        return answer, volume
    if status in ("in_progress", "withdrawn"):
        answer["status"] = "not_applicable"
        answer["reason"] = (
            "The course is still in progress: only a completed, passed result earns credit."
            if status == "in_progress"
            else "The learner withdrew from the course: there is no result to credit."
        )
        return answer, None

    answer["grade"] = grade_of(case, result, scale)
    if i in applied:
        articulation, bundle = applied[i]
        answer.update(status="granted", articulation=_articulation(articulation, bundle, courses))
        codes = ", ".join(c["code"] for c in answer["articulation"]["target_courses"])
        if i == bundle[0]:
            granted = case.convert(
                articulation.credits_granted,
                articulation.credit_system,
                system or articulation.credit_system,
            )
            answer["credits_granted"] = granted.as_dict() if granted else None
            answer["reason"] = (
                f"Approved articulation {articulation.rule_id!r} counts it as {codes}."
            )
            # Without a receiving system the grant stays in the rule's, outside the sums.
            return answer, granted.value if granted and system else None
        answer["reason"] = (
            f"Approved articulation {articulation.rule_id!r} counts it, with "
            f"result #{bundle[0]}, as {codes}; the credits are on result "
            f"#{bundle[0]}."
        )
        return answer, Decimal(0)

    if status == "unknown":
        answer["flags"].append("status_unknown")
    ranked = rank(
        CourseFacts(
            result["title"], volume, case.eqf(result["level"]), result["level"], result["isced_f"]
        ),
        facts,
        index,
    )
    answer["suggestions"] = [
        {
            **_course(catalogue[position]),
            "credits": _plain(catalogue[position].credits),
            "credit_system": catalogue[position].credit_system,
            "score": score,
            "evidence": evidence,
        }
        for position, evidence, score in ranked
    ]
    gaps = {
        "no_credits": "the result states no credits",
        "unknown_credit_system": f"its credit system {result['credit_system']!r} is unknown "
        "to the registry",
        "status_unknown": "the transcript does not say whether it was passed",
        "source_course_unknown": "the course is not in the issuer's catalogue in the registry",
    }
    stated = [text for flag, text in gaps.items() if flag in answer["flags"]]
    if not issuer_known:
        stated.append("the issuing institution is not identified")
    if i in blocked:
        articulation, bundle = blocked[i]
        answer["articulation"] = _articulation(articulation, bundle, courses)
        why = f"Approved articulation {articulation.rule_id!r} would apply, but {'; '.join(stated)}"
    else:
        why = "; ".join(
            stated or [f"no approved articulation applies on {_day(result, case).isoformat()}"]
        )
        why = why[0].upper() + why[1:]
    answer["reason"] = (
        f"{why}. {len(ranked)} suggestion(s) from the receiving catalogue: a person decides."
    )
    return answer, volume


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _articulation(
    articulation: Articulation, bundle: list[int], courses: dict[int, Course]
) -> dict[str, Any]:
    return {
        "id": articulation.id,
        "rule_id": articulation.rule_id,
        "source_course_ids": articulation.source_course_ids,
        "target_courses": [
            _course(courses[course_id])
            for course_id in articulation.target_course_ids
            if course_id in courses
        ],
        "credits_granted": _plain(articulation.credits_granted),
        "credit_system": articulation.credit_system,
        "valid_from": audit.plain(articulation.valid_from),
        "valid_to": audit.plain(articulation.valid_to),
        "bundle": bundle,
    }


def _summary(
    system: str | None, answers: list[tuple[dict[str, Any], Decimal | None]]
) -> dict[str, Any]:
    """Credits by status in the receiving credit system; a result whose credits cannot be
    expressed in it is counted in `uncounted`, not in the sums."""
    totals = {status: Decimal(0) for status in ("granted", "pending", "refused")}
    counts = Counter(answer["status"] for answer, _ in answers)
    uncounted = 0
    for answer, volume in answers:
        status = answer["status"]
        if status not in totals:
            continue
        if volume is None:
            uncounted += 1
        else:
            totals[status] += volume
    return {
        "credit_system": system,
        **{status: _show(total) for status, total in totals.items()},
        "uncounted": uncounted,
        "results": {status: counts.get(status, 0) for status in STATUSES},
    }


# --- evaluations, stored ----------------------------------------------------------------------


def _target(institution_id: int) -> Target:
    return Target("transfer", str(institution_id), institution=str(institution_id))


def _receiving(session: Session, actor: Actor, institution_id: Any, operation: str) -> Institution:
    if not isinstance(institution_id, int) or isinstance(institution_id, bool):
        raise InvalidData(
            "Name the receiving institution by its id.",
            errors={"institution": ["An institution id."]},
        )
    authorize(actor, EVALUATE, _target(institution_id), operation)
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise InvalidData(
            f"No institution {institution_id}.",
            errors={"institution": [f"No institution {institution_id}."]},
        )
    return institution


def evaluate_transcript(
    session: Session,
    actor: Actor,
    transcript: Any,
    receiving_institution_id: int,
    *,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Evaluate a transcript (a stored transcript's id, or a JSON transcript) for the receiving
    institution, store the evaluation and answer it.

    `on` is the day for results that state no end date (default: today); it is an input, so it
    is part of the digest. Raises PermissionDenied unless the actor is the receiving
    institution's account or an admin, InvalidData listing every problem of the transcript.
    """
    receiving = _receiving(session, actor, receiving_institution_id, "transfer.evaluate")
    inputs = _inputs(session, actor, transcript, receiving.id, on or dt.date.today())
    result = {**run(session, inputs, receiving), "inputs_digest": digest(inputs)}
    row = TransferEvaluation(
        actor=actor.name,
        receiving_institution_id=receiving.id,
        transcript_id=inputs["transcript_id"],
        inputs=inputs,
        inputs_digest=result["inputs_digest"],
        result=result,
        decisions=[],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "transfer.evaluate",
        f"transfer_evaluation:{row.id}",
        after={"inputs_digest": row.inputs_digest, "summary": result["summary"]},
    )
    # An issuer found only ambiguously is queued for review (registry.match_reviews).
    sightings = Sightings()
    issuer = inputs["issuer"]
    sightings.met(
        issuer["name"],
        issuer["country"],
        result["source_institution"],
        "transfer_evaluation",
        row.id,
        institution_owner(receiving.id),
    )
    sightings.write(session)
    return present(row)


class TransferRequestSchema(Schema):
    transcript = fields.Raw(
        required=True,
        metadata={
            "description": "A stored transcript's id, or a transcript object (TranscriptSchema)."
        },
    )
    institution = id_field(
        required=True, strict=True, metadata={"description": "The receiving institution's id."}
    )
    on = fields.Date(
        load_default=None,
        metadata={"description": "The day for results that state no end date (default today)."},
    )


def evaluate_request(session: Session, actor: Actor, raw: Any) -> dict[str, Any]:
    """`evaluate_transcript` for a request body {"transcript", "institution", "on"}."""
    try:
        request = TransferRequestSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as error:
        raise InvalidData("The transfer request is invalid.", errors=error.messages) from error
    return evaluate_transcript(
        session, actor, request["transcript"], request["institution"], on=request["on"]
    )


def present(row: TransferEvaluation) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": audit.plain(row.created_at),
        "actor": row.actor,
        **row.result,
        "decisions": list(row.decisions or []),
    }


def get_evaluation(
    session: Session, actor: Actor, evaluation_id: int, operation: str = "transfer.read"
) -> TransferEvaluation:
    """A stored evaluation, for the receiving institution's accounts and admins (and the
    ministry the law lets read them); to anyone else, anonymous included, it answers as an
    unknown id does (NotFound; Hidden, audited when `operation` is a write)."""
    row = session.get(TransferEvaluation, evaluation_id)
    detail = f"No transfer evaluation {evaluation_id}."
    if row is None:
        raise NotFound(detail, id=evaluation_id)
    if not readable(session, actor, institution_owner(row.receiving_institution_id)):
        raise Hidden(
            detail,
            action=operation,
            target=f"transfer_evaluation:{evaluation_id}",
            id=evaluation_id,
        )
    return row


# Enough for a page of an office's recent work; older ones stay readable by id.
MAX_LISTED = 200


def _readable_institution(session: Session, actor: Actor, institution_id: int, what: str) -> None:
    """The records an institution received are for its accounts, admins and the ministry the
    law lets read them; to anyone else the institution has none (NotFound)."""
    if not readable(session, actor, institution_owner(institution_id)):
        raise NotFound(f"No {what} of institution {institution_id}.", id=institution_id)


def evaluations_for(
    session: Session, actor: Actor, institution_id: int
) -> list[TransferEvaluation]:
    """The latest MAX_LISTED evaluations made for a receiving institution, newest first, for
    those who may read them; NotFound to anyone else."""
    _readable_institution(session, actor, institution_id, "transfer evaluations")
    return list(
        session.scalars(
            select(TransferEvaluation)
            .where(TransferEvaluation.receiving_institution_id == institution_id)
            .order_by(TransferEvaluation.id.desc())
            .limit(MAX_LISTED)
        )
    )


def transcripts_received(session: Session, actor: Actor, institution_id: int) -> list[Transcript]:
    """The latest MAX_LISTED transcripts an institution received (those it may evaluate),
    newest first, for those who may read them; NotFound to anyone else."""
    _readable_institution(session, actor, institution_id, "transcripts")
    return list(
        session.scalars(
            select(Transcript)
            .where(Transcript.received_by_institution_id == institution_id)
            .order_by(Transcript.id.desc())
            .limit(MAX_LISTED)
        )
    )


class DecisionSchema(Schema):
    result_index = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    target_course_ids = fields.List(
        id_field(strict=True),
        required=True,
        validate=validate.Length(1, 50),
    )
    credits_granted = DecimalField(
        required=True, as_string=True, validate=validate.Range(0, MAX_CREDITS)
    )
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_to = fields.Date(load_default=None, allow_none=True)
    reason = text_field(2000, load_default=None, allow_none=True)


def authorise_decision(session: Session, actor: Actor, evaluation_id: int) -> None:
    """Whether the actor may decide on this evaluation: checked before its body is read, so
    that others learn nothing from a validation error (404 as for an unknown id; audited)."""
    row = get_evaluation(session, actor, evaluation_id, "transfer.decide")
    authorize(actor, "catalogue.edit", _target(row.receiving_institution_id), "transfer.decide")


def decision_request(session: Session, actor: Actor, evaluation_id: int, raw: Any) -> Articulation:
    """`save_decision` for a request body (DecisionSchema)."""
    authorise_decision(session, actor, evaluation_id)
    try:
        data = DecisionSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as error:
        raise InvalidData(
            "The decision is invalid; nothing was written.", errors=error.messages
        ) from error
    return save_decision(
        session,
        actor,
        evaluation_id,
        data["result_index"],
        data["target_course_ids"],
        data["credits_granted"],
        valid_from=data["valid_from"],
        valid_to=data["valid_to"],
        reason=data["reason"],
    )


def save_decision(
    session: Session,
    actor: Actor,
    evaluation_id: int,
    result_index: int,
    target_course_ids: list[int],
    credits_granted: Decimal | str,
    *,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    reason: str | None = None,
) -> Articulation:
    """A person's approval of a pending result, stored as an approved articulation of the
    receiving institution (its account, or an admin), so the same course on the next transcript
    is granted automatically. The rule holds from the day the course was completed (or
    `valid_from`), open-ended unless `valid_to`; credits are in the receiving credit system.

    InvalidData when the result is not pending or its source course is not in the registry
    (an articulation needs it); Conflict when the result was decided already, or when the rule
    would overlap another approved one.
    """
    row = get_evaluation(session, actor, evaluation_id, "transfer.decide")
    authorize(actor, "catalogue.edit", _target(row.receiving_institution_id), "transfer.decide")
    try:
        data = DecisionSchema().load(
            {
                "result_index": result_index,
                "target_course_ids": target_course_ids,
                "credits_granted": str(credits_granted),
                "valid_from": audit.plain(valid_from),
                "valid_to": audit.plain(valid_to),
                "reason": reason,
            }
        )
    except ValidationError as error:
        raise InvalidData(
            "The decision is invalid; nothing was written.", errors=error.messages
        ) from error
    results = row.result["results"]
    index = data["result_index"]
    if index >= len(results):
        raise InvalidData(
            f"Evaluation {row.id} has no result #{index}.",
            errors={"result_index": [f"0 to {len(results) - 1}."]},
        )
    entry = results[index]
    if entry["status"] != "pending":
        raise InvalidData(
            f"Result #{index} is {entry['status']}, not pending: {entry['reason']}",
            errors={"result_index": [f"Result #{index} is {entry['status']}."]},
        )
    if any(decision["result_index"] == index for decision in row.decisions or []):
        raise Conflict(
            f"Result #{index} of evaluation {row.id} was decided already.",
            action="transfer.decide",
            target=f"transfer_evaluation:{row.id}",
        )
    source = row.result["source_institution"]
    if entry["source_course"] is None:
        raise InvalidData(
            "An articulation needs the source course in the registry: "
            + (
                "the issuing institution is not identified."
                if source["verdict"] != "matched"
                else f"import {source['name']}'s course {entry['code'] or entry['title']!r} first."
            ),
            errors={"result_index": ["The source course is not in the registry."]},
        )
    system = row.result["receiving_institution"]["credit_system"]
    if system is None:
        raise InvalidData(
            "The receiving institution's courses state no credit system.",
            errors={"credits_granted": ["No credit system to count them in."]},
        )
    ended = row.inputs["results"][index]["ended_on"] or row.inputs["on"]
    articulation = create_articulation(
        session,
        actor,
        {
            "rule_id": f"transfer-{row.id}-{index}",
            "source_institution_id": source["id"],
            "target_institution_id": row.receiving_institution_id,
            "source_course_ids": [entry["source_course"]["id"]],
            "target_course_ids": data["target_course_ids"],
            "credits_granted": data["credits_granted"],
            "credit_system": system,
            "valid_from": audit.plain(data["valid_from"]) or ended,
            "valid_to": audit.plain(data["valid_to"]),
            "status": "approved",
            "reason": data["reason"]
            or f"Decided on transfer evaluation {row.id}, result #{index}.",
        },
    )
    decision = {
        "result_index": index,
        "outcome": "approved",
        "articulation_id": articulation.id,
        "target_courses": [
            _course(session.get(Course, course_id)) for course_id in articulation.target_course_ids
        ],
        "credits_granted": _plain(articulation.credits_granted),
        "credit_system": system,
        "decided_by": actor.name,
        "decided_on": dt.date.today().isoformat(),
    }
    row.decisions = [*(row.decisions or []), decision]
    session.flush()
    audit.record(session, actor, "transfer.decide", f"transfer_evaluation:{row.id}", after=decision)
    return articulation


class RejectionSchema(Schema):
    result_index = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    reason = text_field(2000, required=True)


def reject_result(
    session: Session, actor: Actor, evaluation_id: int, result_index: int, reason: str
) -> dict[str, Any]:
    """A person's refusal of a pending result (none of its suggestions counts for it), with the
    reason, required: appended to the evaluation's decisions (the receiving institution's
    account, or an admin); nothing becomes an articulation, so the next learner with the same
    course is pending again. Answers the decision.

    InvalidData without a reason or when the result is not pending; Conflict when it was
    decided already."""
    row = get_evaluation(session, actor, evaluation_id, "transfer.decide")
    authorize(actor, "catalogue.edit", _target(row.receiving_institution_id), "transfer.decide")
    try:
        data = RejectionSchema().load(
            {
                "result_index": result_index,
                "reason": reason.strip() if isinstance(reason, str) else reason,
            }
        )
    except ValidationError as error:
        raise InvalidData(
            "The decision is invalid; nothing was written.", errors=error.messages
        ) from error
    results = row.result["results"]
    index = data["result_index"]
    if index >= len(results) or results[index]["status"] != "pending":
        raise InvalidData(
            f"Evaluation {row.id} has no pending result #{index}.",
            errors={"result_index": ["Not a pending result."]},
        )
    if any(decision["result_index"] == index for decision in row.decisions or []):
        raise Conflict(
            f"Result #{index} of evaluation {row.id} was decided already.",
            action="transfer.decide",
            target=f"transfer_evaluation:{row.id}",
        )
    decision = {
        "result_index": index,
        "outcome": "rejected",
        "reason": data["reason"],
        "decided_by": actor.name,
        "decided_on": dt.date.today().isoformat(),
    }
    row.decisions = [*(row.decisions or []), decision]
    session.flush()
    audit.record(session, actor, "transfer.decide", f"transfer_evaluation:{row.id}", after=decision)
    return decision


def rejection_request(
    session: Session, actor: Actor, evaluation_id: int, raw: Any
) -> dict[str, Any]:
    """`reject_result` for a request body {"result_index", "reason"}; who may decide is checked
    before the body is read (authorise_decision)."""
    authorise_decision(session, actor, evaluation_id)
    body = raw if isinstance(raw, dict) else {}
    unknown = set(body) - {"result_index", "reason"}
    if unknown:
        raise InvalidData(
            "The decision is invalid; nothing was written.",
            errors={name: ["Unknown field."] for name in sorted(unknown)},
        )
    return reject_result(
        session, actor, evaluation_id, body.get("result_index"), body.get("reason")
    )


# --- the decision as ELMO ---------------------------------------------------------------------

ELMO = "https://github.com/emrex-eu/elmo-schemas/tree/v1"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Identifier schemes as ELMO issuers name them (EWP practice); the registry's own id otherwise.
ELMO_SCHEMES = {
    "schac": "schac",
    "erasmus": "erasmus",
    "pic": "pic",
    "ror": "ror",
    "domain": "domain",
    "national": "nationalIdentifier",
}
ELMO_STATUSES = ("passed", "failed", "in_progress")


def export_elmo(evaluation: TransferEvaluation) -> bytes:
    """The decision as an ELMO document for the sending institution: one `report` issued by the
    receiving institution, with a `resultOfRecognition` for each result decided on: Positive
    for credit granted (by an articulation, or by a decision saved afterwards), Negative for a
    failed result or one a person rejected (with its reason). Each names the sending
    institution's course (`recognitionBasis`), the receiving course(s) with the credits and the
    converted grade (`recognitionResult`), and maps one onto the other (`recognitionMapping`).
    Pending and not applicable results are left out: nothing was decided on them. Built from
    the stored evaluation alone."""
    ET.register_namespace("", ELMO)
    result, inputs = evaluation.result, evaluation.inputs
    created = evaluation.created_at
    stamp = (created if created.tzinfo else created.replace(tzinfo=dt.UTC)).isoformat(
        timespec="seconds"
    )
    root = ET.Element(_q("elmo"))
    _sub(root, "generatedDate", stamp)
    learner = _sub(root, "learner")
    person = inputs.get("learner") or {}
    _sub(learner, "givenNames", person.get("given_names") or "")
    _sub(learner, "familyName", person.get("family_name") or "")
    _sub(learner, "alternativeName", "")
    report = _sub(root, "report")
    _issuer(report, result["receiving_institution"])
    decided = {d["result_index"]: d for d in evaluation.decisions or []}
    entries = result["results"]
    done: set[int] = set()
    for entry in entries:
        index = entry["index"]
        if index in done:
            continue
        if entry["status"] == "granted":
            bundle = entry["articulation"]["bundle"]
            targets = entry["articulation"]["target_courses"]
            credits = entries[bundle[0]]["credits_granted"]
            status, day = "Positive", created.date()
        elif index in decided and decided[index].get("outcome") == "rejected":
            bundle, targets, credits = [index], [], None
            status = "Negative"
            day = dt.date.fromisoformat(decided[index]["decided_on"])
        elif index in decided:
            bundle, targets = [index], decided[index]["target_courses"]
            credits = {
                "value": decided[index]["credits_granted"],
                "unit": decided[index]["credit_system"],
            }
            status, day = "Positive", dt.date.fromisoformat(decided[index]["decided_on"])
        elif entry["status"] == "refused":
            bundle, targets, credits = [index], [], None
            status, day = "Negative", created.date()
        else:
            continue
        done.update(bundle)
        recognition = _sub(report, "resultOfRecognition")
        titles = ", ".join(entries[i]["title"] for i in bundle)
        _sub(recognition, "title", f"Recognition of {titles}", **{XML_LANG: "en"})
        description = (
            decided[index]["reason"]
            if status == "Negative" and index in decided
            else entry["reason"]
        )
        _sub(recognition, "description", description, **{XML_LANG: "en"})
        _sub(recognition, "status", status)
        _sub(recognition, "decisionDate", day.isoformat())
        basis = _sub(_sub(recognition, "recognitionBasis"), "recognitionReport")
        source = result["source_institution"]
        stated = inputs["issuer"]
        _issuer(
            basis,
            source
            if source["verdict"] == "matched"
            else {**stated, "identifiers": sorted(stated["identifiers"].items())},
        )
        local_ids = []
        for i in bundle:
            given = inputs["results"][i]
            local_ids.append(given["code"] or f"result-{i}")
            credit = (
                (given["credit_system"], given["credits"])
                if given["credits"] is not None and given["credit_system"]
                else None
            )
            _los(
                basis,
                local_ids[-1],
                given["title"],
                given["language"],
                given["isced_f"],
                given["status"].replace("_", "-") if given["status"] in ELMO_STATUSES else None,
                given["grade"],
                credit,
                given["ended_on"],
            )
        _sub(basis, "issueDate", stamp)
        grade = next(
            (
                entries[i]["grade"]["converted"]["value"]
                for i in bundle
                if entries[i]["grade"] and entries[i]["grade"]["converted"]
            ),
            None,
        )
        for number, course in enumerate(targets):
            credit = (credits["unit"], credits["value"]) if credits and number == 0 else None
            _los(
                _sub(recognition, "recognitionResult"),
                course["code"],
                course["title"],
                course["language"],
                course["isced_f"],
                "passed",
                grade,
                credit,
                None,
            )
        if targets:
            mapping = _sub(_sub(recognition, "recognitionMapping"), "mapping")
            for side, ids in (
                ("fromMapping", local_ids),
                ("toMapping", [course["code"] for course in targets]),
            ):
                holder = _sub(mapping, side)
                for local_id in ids:
                    _sub(holder, "ref", local_id)
    _sub(report, "issueDate", stamp)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _q(name: str) -> str:
    return f"{{{ELMO}}}{name}"


def _sub(parent: ET.Element, name: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(parent, _q(name), attributes)
    if text is not None:
        element.text = text
    return element


def _issuer(parent: ET.Element, institution: dict[str, Any]) -> None:
    """An ELMO issuer from an institution as the evaluation holds it (the registry's record, or
    what the transcript stated): ELMO requires an identifier, a name and a web address."""
    issuer = _sub(parent, "issuer")
    if institution.get("country"):
        _sub(issuer, "country", institution["country"])
    pairs = [(scheme, value) for scheme, value in institution.get("identifiers") or []]
    wanted = [(ELMO_SCHEMES[scheme], value) for scheme, value in pairs if scheme in ELMO_SCHEMES]
    if not wanted:
        wanted = (
            [("registry", str(institution["id"]))]
            if institution.get("id")
            else [("local", institution.get("name") or "unknown")]
        )
    for scheme, value in wanted:
        _sub(issuer, "identifier", value, type=scheme)
    _sub(issuer, "title", institution.get("name") or "")
    domain = next((value for scheme, value in pairs if scheme in ("domain", "schac")), None)
    _sub(issuer, "url", f"https://{domain}" if domain else "")


def _los(
    parent: ET.Element,
    local_id: str,
    title: str,
    language: str | None,
    isced_f: str | None,
    status: str | None,
    grade: str | None,
    credit: tuple[str, str] | None,
    date: str | None,
) -> None:
    """A course as an ELMO learningOpportunitySpecification with its instance."""
    los = _sub(parent, "learningOpportunitySpecification")
    _sub(los, "identifier", local_id, type="local")
    _sub(los, "title", title, **({XML_LANG: language} if language else {}))
    _sub(los, "type", "Course")
    if isced_f:
        _sub(los, "iscedCode", isced_f)
    instance = _sub(_sub(los, "specifies"), "learningOpportunityInstance")
    if date:
        _sub(instance, "date", date)
    if status:
        _sub(instance, "status", status)
    if grade:
        _sub(instance, "resultLabel", grade)
    if credit:
        credit_element = _sub(instance, "credit")
        _sub(credit_element, "scheme", credit[0].lower() if credit[0] == "ECTS" else credit[0])
        _sub(credit_element, "value", credit[1])
