"""Transcript evaluation for transfer credit: the pure suggestion core, then stories on a
database (granted, pending with suggestions, refused, flagged), decisions, the ELMO export, the
benchmark's figure and the API. Institutions and courses are the test data of
tests/registry/test_articulations.py."""

import copy
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from bench import transfer_suggestions
from frameworks.models import GradeDistribution
from mappings.transfer import elmo
from mappings.transfer import services as transfer
from mappings.transfer.evaluation import duplicates
from mappings.transfer.similarity import (
    NEUTRAL,
    WEIGHTS,
    CourseFacts,
    TitleIndex,
    rank,
    title_form,
)
from registry.catalogue.articulations import services as articulations
from registry.catalogue.articulations.models import TransferEvaluation
from registry.catalogue.models import Transcript, TranscriptResult
from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.core.errors import Conflict, InvalidData, NotFound, PermissionDenied, Unauthenticated
from registry.core.permissions import ANONYMOUS, OPERATOR, Actor
from tests.registry.test_articulations import World

ELMO = Path(__file__).resolve().parents[3] / "shared" / "formats" / "emrex-elmo"
PROBLEM = "application/problem+json"
ON = dt.date(2024, 9, 1)

# --- the pure core ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Introduction to Programming",
        "Einführung in die Programmierung",
        "Programmation 1",
        "Fundamentos de Programación",
        "Wstęp do programowania",
    ],
)
def test_one_course_in_five_languages_has_one_form(title):
    assert title_form(title) == title_form("Programming I")


def test_similar_titles_of_different_courses_differ():
    index = TitleIndex(
        [
            "Lineare Algebra",
            "Lineare Optimierung",
            "Organische Chemie I",
            "Anorganische Chemie I",
            "Organische Chemie II",
        ]
    )
    algebra, optimisation, organic, inorganic, organic2 = index.scores("Linear Algebra")
    assert algebra == 1.0 and optimisation < 0.5
    scores = index.scores("Organic Chemistry I")
    assert scores[2] == 1.0 and scores[3] < 0.5 and scores[4] < 0.5
    assert index.scores("Programmation linéaire")[1] == 1.0
    # Cognates outside the glossary still meet ("thermodynamik" / "thermodynamique").
    assert TitleIndex(["Thermodynamik", "Elektrodynamik"]).scores("Thermodynamique")[0] > 0.8


def test_ranking_gives_each_factor_and_the_combined_score():
    catalogue = [
        CourseFacts("Lineare Optimierung", Decimal(6), 6, "QF-EHEA:1", "0541"),
        CourseFacts("Lineare Algebra", Decimal(8), 6, "QF-EHEA:1", "0541"),
        CourseFacts("Organische Chemie I", Decimal(5), 6, "QF-EHEA:1", "0531"),
    ]
    ranked = rank(
        CourseFacts("Algebra lineare", Decimal(8), 6, None, "0541"),
        catalogue,
        TitleIndex([course.title for course in catalogue]),
    )
    assert [position for position, _, _ in ranked] == [1, 0]
    position, evidence, score = ranked[0]
    assert evidence == {"title": 1.0, "field": 1.0, "credits": 1.0, "level": 1.0}
    _, second, second_score = ranked[1]
    assert second["credits"] == 0.75 and second_score < score
    weighted = sum(WEIGHTS[name] * value for name, value in evidence.items())
    assert score == round(weighted, 3)
    # An unknown factor is neutral, neither for nor against.
    _, unknown, _ = rank(
        CourseFacts("Lineare Algebra"), catalogue[1:2], TitleIndex(["Lineare Algebra"])
    )[0]
    assert unknown["credits"] == unknown["field"] == unknown["level"] == NEUTRAL


def test_duplicates_keep_the_passed_retake():
    results = [
        {"code": "CH1", "title": "Chimie", "status": "failed", "ended_on": "2023-02-01"},
        {"code": "ch1", "title": "Chimie", "status": "passed", "ended_on": "2023-07-01"},
        {"code": None, "title": "Physik", "status": "passed", "ended_on": None},
        {"code": None, "title": "PHYSIK", "status": "passed", "ended_on": None},
    ]
    assert duplicates(results) == {0: 1, 3: 2}


# --- evaluations ------------------------------------------------------------------------------


@pytest.fixture
def world(session):
    world = World(session)
    articulations.create_articulation(
        session,
        OPERATOR,
        world.rule("TUM-01", source=("70101", "70104"), target=("IN0002",), credits="8"),
    )
    articulations.create_articulation(
        session,
        OPERATOR,
        world.rule(
            "TUM-02", source=("70102",), target=("MA0901",), credits="8", valid_from="2020-10-01"
        ),
    )
    articulations.create_articulation(
        session,
        OPERATOR,
        world.rule(
            "TUM-03", source=("70103",), target=("CH0101",), credits="5", valid_to="2022-10-01"
        ),
    )
    articulations.create_articulation(
        session,
        OPERATOR,
        world.rule(
            "LEEDS-01", source=("70102",), target=("MATH1012",), credits="7.5", target_key="leeds"
        ),
    )
    return world


def result(
    code,
    title,
    credits="6",
    *,
    status="passed",
    grade="27",
    scheme="IT-30",
    ended_on="2024-02-15",
    **extra,
):
    return {
        "code": code,
        "title": title,
        "language": "it",
        "credits": credits,
        "credit_system": "ECTS",
        "grade": grade,
        "grading_scheme": scheme,
        "status": status,
        "level": "QF-EHEA:1",
        "isced_f": extra.pop("isced_f", "0541"),
        "ended_on": ended_on,
        **extra,
    }


def transcript(*results, issuer=None):
    return {
        "issuer": issuer
        or {
            "name": "Alma Mater Studiorum - Università di Bologna",
            "country": "IT",
            "identifiers": {"schac": "unibo.it"},
        },
        "results": list(results),
    }


def evaluate(session, world, body, key="tum", actor=None, **options):
    return transfer.evaluate_transcript(
        session,
        actor or world.actors[key],
        body,
        world.ids[key],
        on=options.pop("on", ON),
        **options,
    )


def test_granted_through_articulations_bundles_first(session, world):
    answer = evaluate(
        session,
        world,
        transcript(
            result("70101", "Fondamenti di programmazione", "9", isced_f="0613"),
            result("70104", "Laboratorio di programmazione", "3", isced_f="0613", grade="30"),
            result("70102", "Algebra lineare", "6"),
        ),
    )
    first, second, third = answer["results"]
    assert answer["source_institution"]["matched_on"] == "identifier"
    assert [r["status"] for r in answer["results"]] == ["granted"] * 3
    assert first["articulation"]["rule_id"] == "TUM-01"
    assert first["articulation"]["bundle"] == [0, 1]
    assert first["credits_granted"]["value"] == "8" and second["credits_granted"] is None
    assert third["articulation"]["target_courses"][0]["code"] == "MA0901"
    # No grading tables for DE-1-5: linear, 1 + 3 x (30 - 27) / (30 - 18) = 1.75, truncated.
    assert first["grade"]["converted"] == {
        **first["grade"]["converted"],
        "value": "1.7",
        "method": "linear",
        "scale": "DE-1-5",
    }
    assert answer["summary"] == {
        "credit_system": "ECTS",
        "granted": "16",
        "pending": "0",
        "refused": "0",
        "uncounted": 0,
        "results": {"granted": 3, "pending": 0, "refused": 0, "not_applicable": 0},
    }


def test_credits_and_grade_converted_to_the_receiving_units(session, world):
    answer = evaluate(session, world, transcript(result("70102", "Algebra lineare")), key="leeds")
    granted = answer["results"][0]
    assert answer["receiving_institution"]["credit_system"] == "GB-CATS"
    assert (granted["credits_granted"]["value"], granted["credits_granted"]["unit"]) == (
        "15",
        "GB-CATS",
    )
    assert granted["credits"]["converted"]["value"] == "12"
    # GB-PCT: 40 + 60 x (27 - 18) / (30 - 18) = 85.
    assert granted["grade"]["converted"]["value"] == "85.00"


def test_grade_by_grading_tables_when_both_sides_have_them(session, world):
    session.add(
        GradeDistribution(
            scale_code="DE-1-5",
            reference_group="default",
            citation="test",
            rows=[
                {"grade": "1.0", "percent": "10"},
                {"grade": "1.7", "percent": "20"},
                {"grade": "2.3", "percent": "30"},
                {"grade": "3.0", "percent": "25"},
                {"grade": "4.0", "percent": "15"},
            ],
        )
    )
    session.flush()
    table = [
        {"grade": "30", "percent": "12"},
        {"grade": "28", "percent": "18"},
        {"grade": "27", "percent": "20"},
        {"grade": "24", "percent": "30"},
        {"grade": "18", "percent": "20"},
    ]
    answer = evaluate(
        session,
        world,
        transcript(
            result("70102", "Algebra lineare", grade_distribution=table),
            result(
                "70106",
                "Analisi matematica 1",
                "9",
                grade="B",
                scheme="UNIBO-LOCAL",
                grade_distribution=[
                    {"grade": "A", "percent": "10"},
                    {"grade": "B", "percent": "40"},
                    {"grade": "C", "percent": "50"},
                ],
            ),
        ),
    )
    by_table, local = (r["grade"] for r in answer["results"])
    # 27 spans 30-50 % of passing grades, midpoint 40 %: DE 2.3 spans 30-60 %.
    assert (by_table["converted"]["method"], by_table["converted"]["value"]) == (
        "distribution",
        "2.3",
    )
    # A local scheme unknown to the registry is read through its own table: B spans 10-50 %,
    # midpoint 30 %, on the boundary of DE 1.7 and 2.3, so the better grade.
    assert local["converted"]["method"] == "distribution" and local["converted"]["value"] == "1.7"


def test_no_conversion_without_a_receiving_scale(session, world):
    answer = evaluate(session, world, transcript(result("70102", "Algebra lineare")), key="uw")
    grade = answer["results"][0]["grade"]
    assert grade["converted"] is None and "no grading scale" in grade["reason"]
    assert answer["receiving_institution"]["grading_scale"] is None


def test_failed_withdrawn_and_unfinished_never_earn_credit(session, world):
    answer = evaluate(
        session,
        world,
        transcript(
            result("70102", "Algebra lineare", status="failed", grade="15"),
            result("70101", "Fondamenti di programmazione", status="in_progress", grade=None),
            result("70104", "Laboratorio di programmazione", status="withdrawn", grade=None),
        ),
    )
    statuses = [(r["status"], r["credits_granted"], r["suggestions"]) for r in answer["results"]]
    assert statuses == [
        ("refused", None, []),
        ("not_applicable", None, []),
        ("not_applicable", None, []),
    ]
    assert "failed" in answer["results"][0]["reason"]
    assert "in progress" in answer["results"][1]["reason"]
    assert "withdrew" in answer["results"][2]["reason"]
    assert answer["summary"]["granted"] == "0" and answer["summary"]["refused"] == "6"


def test_duplicate_course_is_evaluated_once(session, world):
    answer = evaluate(
        session,
        world,
        transcript(
            result("70102", "Algebra lineare", status="failed", grade="12", ended_on="2023-02-01"),
            result("70102", "Algebra lineare", ended_on="2023-07-01"),
        ),
    )
    duplicate, kept = answer["results"]
    assert duplicate["status"] == "not_applicable" and duplicate["duplicate_of"] == 1
    assert "duplicate" in duplicate["flags"] and kept["status"] == "granted"
    assert answer["summary"]["granted"] == "8" and answer["summary"]["refused"] == "0"


def test_no_credits_or_unknown_scheme_is_flagged_not_granted(session, world):
    answer = evaluate(
        session,
        world,
        transcript(
            result("70102", "Algebra lineare", None),
            {**result("70106", "Analisi matematica 1"), "credit_system": "CFU-OLD"},
            {**result("70103", "Chimica organica I", isced_f="0531"), "status": "unknown"},
        ),
    )
    none, unknown, unstated = answer["results"]
    assert none["status"] == "pending" and "no_credits" in none["flags"]
    assert "TUM-02" in none["reason"] and none["articulation"]["rule_id"] == "TUM-02"
    assert unknown["status"] == "pending" and "unknown_credit_system" in unknown["flags"]
    assert unstated["status"] == "pending" and "status_unknown" in unstated["flags"]
    assert all(r["suggestions"] for r in answer["results"])
    assert answer["summary"]["uncounted"] == 2 and answer["summary"]["pending"] == "6"


def test_no_articulation_gives_ranked_suggestions_with_evidence(session, world):
    # TUM-03 ended before the course was taken; Analisi has no rule at all.
    answer = evaluate(
        session,
        world,
        transcript(
            result("70103", "Chimica organica I", isced_f="0531"),
            result("70106", "Analisi matematica 1", "9"),
        ),
    )
    organic, analysis = answer["results"]
    assert organic["status"] == "pending"
    assert organic["reason"].startswith("No approved articulation applies on 2024-02-15")
    assert [s["code"] for s in organic["suggestions"]][:2] == ["CH0101", "CH0102"]
    assert analysis["suggestions"][0]["code"] == "MA0903"
    best = analysis["suggestions"][0]
    assert set(best["evidence"]) == {"title", "field", "credits", "level"}
    assert best["score"] >= analysis["suggestions"][1]["score"]


def test_unknown_institution_is_flagged_and_still_gets_suggestions(session, world):
    answer = evaluate(
        session,
        world,
        transcript(
            result("X1", "Algebra lineare"),
            issuer={"name": "Università degli Studi Immaginari", "country": "IT"},
        ),
    )
    assert answer["source_institution"]["verdict"] == "no_match"
    assert "institution_unknown" in answer["flags"]
    only = answer["results"][0]
    assert only["status"] == "pending" and only["suggestions"][0]["code"] == "MA0901"
    assert "not identified" in only["reason"]


def test_same_input_same_result_and_digest(session, world):
    body = transcript(result("70102", "Algebra lineare"), result("70106", "Analisi matematica 1"))
    first = evaluate(session, world, copy.deepcopy(body))
    second = evaluate(session, world, copy.deepcopy(body))
    strip = {"id", "created_at"}
    assert first["id"] != second["id"]
    assert {k: v for k, v in first.items() if k not in strip} == {
        k: v for k, v in second.items() if k not in strip
    }
    other_day = evaluate(session, world, body, on=dt.date(2024, 9, 2))
    assert other_day["inputs_digest"] != first["inputs_digest"]
    stored = session.get(TransferEvaluation, first["id"])
    assert stored.inputs_digest == first["inputs_digest"] and stored.inputs["results"][0]["code"]


def test_a_decision_answers_the_next_learner(session, world):
    body = transcript(
        result("70106", "Analisi matematica 1", "9"),
        result("70102", "Algebra lineare", status="failed", grade="10"),
    )
    first = evaluate(session, world, body)
    assert first["results"][0]["status"] == "pending"
    with pytest.raises(InvalidData) as elsewhere:
        transfer.save_decision(
            session, world.actors["tum"], first["id"], 0, [world.courses["70102"]], "9"
        )
    assert "target_course_ids" in elsewhere.value.errors
    made = transfer.save_decision(
        session, world.actors["tum"], first["id"], 0, [world.courses["MA0903"]], "9"
    )
    assert (made.status, made.valid_from, made.credits_granted) == (
        "approved",
        dt.date(2024, 2, 15),
        9,
    )
    nxt = evaluate(
        session,
        world,
        transcript(result("70106", "Analisi matematica 1", "9", ended_on="2025-02-10")),
    )
    assert nxt["results"][0]["status"] == "granted"
    assert nxt["results"][0]["articulation"]["rule_id"] == f"transfer-{first['id']}-0"
    with pytest.raises(Conflict):
        transfer.save_decision(
            session, world.actors["tum"], first["id"], 0, [world.courses["MA0903"]], "9"
        )
    with pytest.raises(InvalidData) as refused:
        transfer.save_decision(
            session, world.actors["tum"], first["id"], 1, [world.courses["MA0901"]], "8"
        )
    assert "refused" in refused.value.detail
    # Another institution's evaluation is not there for it at all.
    with pytest.raises(NotFound):
        transfer.save_decision(
            session, world.actors["unibo"], first["id"], 0, [world.courses["MA0903"]], "9"
        )
    trail = [
        e.action
        for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if e.action.startswith(("transfer.", "articulation."))
    ]
    assert trail[-4:] == [
        "transfer.evaluate",
        "articulation.create",
        "transfer.decide",
        "transfer.evaluate",
    ]


def test_stored_transcript_evaluates_its_courses(session, world):
    stored = Transcript(
        source_format="elmo",
        source_key="k" * 64,
        issuer_name="Bologna",
        issuer_country="IT",
        issuer_identifiers={"erasmus": "I BOLOGNA01"},
        learner_name="Ada Rossi",
        received_by_institution_id=world.ids["tum"],
    )
    stored.results = [
        TranscriptResult(
            local_id="deg",
            kind="Degree Programme",
            title="Laurea in Matematica",
            status="in_progress",
        ),
        TranscriptResult(
            local_id="c1",
            parent_local_id="deg",
            kind="Course",
            code="70102",
            title="Algebra lineare",
            credits=Decimal(6),
            credit_system="ECTS",
            grade="27",
            grading_scheme="IT-30",
            status="passed",
            eqf_level=6,
            ended_on=dt.date(2024, 2, 1),
        ),
    ]
    session.add(stored)
    session.flush()
    answer = evaluate(session, world, stored.id)
    assert [r["title"] for r in answer["results"]] == ["Algebra lineare"]
    assert answer["results"][0]["status"] == "granted"
    # Another institution's transcript answers exactly as one that does not exist.
    with pytest.raises(InvalidData) as theirs:
        evaluate(session, world, stored.id, key="leeds")
    with pytest.raises(InvalidData) as nobodys:
        evaluate(session, world, 999999)
    assert theirs.value.errors == {"transcript": [f"No transcript {stored.id}."]}
    assert nobodys.value.errors == {"transcript": ["No transcript 999999."]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"results": []}, "issuer"),
        (transcript(), "results"),
        (transcript({"title": "X", "credits": "-1"}), "results"),
        (transcript({"title": "X", "status": "excellent"}), "results"),
        ({**transcript(result("1", "X")), "extra": 1}, "extra"),
        ([], None),
    ],
)
def test_bad_transcripts_are_refused_naming_the_field(session, world, body, field):
    with pytest.raises(InvalidData) as refused:
        evaluate(session, world, body)
    if field:
        assert field in refused.value.errors["transcript"]


def test_only_the_receiving_institution_or_an_admin_evaluates(session, world):
    body = transcript(result("70102", "Algebra lineare"))
    with pytest.raises(PermissionDenied):
        evaluate(session, world, body, actor=world.actors["unibo"])
    with pytest.raises(PermissionDenied):
        evaluate(session, world, body, actor=Actor("r", "registrar"))
    with pytest.raises(Unauthenticated):
        evaluate(session, world, body, actor=ANONYMOUS)
    assert evaluate(session, world, body, actor=OPERATOR)["results"][0]["status"] == "granted"


# --- the ELMO export --------------------------------------------------------------------------

# The schema imports these by URL; offline, the two namespaces it needs but does not ship are
# given the few definitions it uses.
XML_XSD = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
  targetNamespace="http://www.w3.org/XML/1998/namespace">
  <xs:attribute name="lang" type="xs:language"/></xs:schema>"""
ADDRESS_XSD = b"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
  targetNamespace="https://github.com/erasmus-without-paper/ewp-specs-types-address/tree/stable-v1">
  <xs:complexType name="FlexibleAddress"><xs:sequence>
  <xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  </xs:complexType></xs:schema>"""


class _Offline(etree.Resolver):
    def resolve(self, url, _public_id, context):
        if url.endswith("/xml.xsd"):
            return self.resolve_string(XML_XSD, context)
        if "ewp-specs-types-address" in url:
            return self.resolve_string(ADDRESS_XSD, context)
        return self.resolve_filename(str(ELMO / "references" / url.rsplit("/", 1)[-1]), context)


def elmo_schema() -> etree.XMLSchema:
    if not (ELMO / "schema.xsd").is_file():
        pytest.skip(f"the shared ELMO schema is not at {ELMO}")
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Offline())
    return etree.XMLSchema(etree.parse(str(ELMO / "schema.xsd"), parser))


def test_elmo_export_validates_and_names_each_recognition(session, world):
    answer = evaluate(
        session,
        world,
        transcript(
            result("70101", "Fondamenti di programmazione", "9", isced_f="0613"),
            result("70104", "Laboratorio di programmazione", "3", isced_f="0613"),
            result("70106", "Analisi matematica 1", "9"),
            result("70105", "Basi di dati", "9", status="failed", grade="12"),
            result("70103", "Chimica organica I", status="in_progress", grade=None),
        ),
    )
    transfer.save_decision(
        session, world.actors["tum"], answer["id"], 2, [world.courses["MA0903"]], "9"
    )
    document = elmo.export_elmo(session.get(TransferEvaluation, answer["id"]))
    tree = etree.parse(io.BytesIO(document))
    schema = elmo_schema()
    assert schema.validate(tree), schema.error_log
    ns = {"e": elmo.ELMO}
    recognitions = tree.findall(".//e:report/e:resultOfRecognition", ns)
    assert [r.findtext("e:status", namespaces=ns) for r in recognitions] == [
        "Positive",
        "Positive",
        "Negative",
    ]
    bundle = recognitions[0]
    assert [ref.text for ref in bundle.findall(".//e:fromMapping/e:ref", ns)] == ["70101", "70104"]
    assert [ref.text for ref in bundle.findall(".//e:toMapping/e:ref", ns)] == ["IN0002"]
    granted = bundle.find("e:recognitionResult//e:credit", ns)
    assert (
        granted.findtext("e:scheme", namespaces=ns),
        granted.findtext("e:value", namespaces=ns),
    ) == ("ects", "8")
    assert tree.findtext(".//e:report/e:issuer/e:title", namespaces=ns) == (
        "Technische Universität München"
    )
    sending = bundle.find(".//e:recognitionReport/e:issuer", ns)
    assert sending.findtext("e:identifier[@type='schac']", namespaces=ns) == "unibo.it"


# --- the benchmark's figure -------------------------------------------------------------------


def test_suggestions_meet_the_target_and_nothing_is_granted_unasked(session):
    figures = transfer_suggestions.measure(session)
    assert figures["top1"] >= transfer_suggestions.TARGET
    assert figures["granted"] == 0
    assert figures["top1"] > figures["baseline"]


def test_the_labelled_set_is_as_documented():
    data = transfer_suggestions.load_pairs()
    pairs = data["pairs"]
    assert len(pairs) >= 150 and {p["label"] for p in pairs} == {"same", "different"}
    languages = {p[side]["language"] for p in pairs for side in ("source", "target")}
    assert len(languages) >= 4
    courses = {
        (lang, c["code"]): c for lang, cat in data["catalogues"].items() for c in cat["courses"]
    }
    for pair in pairs:
        assert courses[(pair["target"]["language"], pair["target"]["code"])] == pair["target"]


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def tokens(session, world):
    made = {}
    for key, role, scopes in [
        ("tum", "institution", [str(world.ids["tum"])]),
        ("unibo", "institution", [str(world.ids["unibo"])]),
        ("registrar", "registrar", []),
    ]:
        account = accounts.get_or_create_account(session, f"transfer-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


def test_api_transfers_allowed_and_refused(client, session, world, tokens):
    body = {
        "transcript": transcript(
            result("70102", "Algebra lineare"), result("70106", "Analisi matematica 1", "9")
        ),
        "institution": world.ids["tum"],
        "on": "2024-09-01",
    }
    assert client.post("/api/v1/transfers", json=body).status_code == 401
    for refused in ("unibo", "registrar"):
        response = client.post("/api/v1/transfers", json=body, headers=tokens[refused])
        assert response.status_code == 403 and response.mimetype == PROBLEM
    made = client.post("/api/v1/transfers", json=body, headers=tokens["tum"])
    assert made.status_code == 201, made.get_json()
    evaluation = made.get_json()
    assert [r["status"] for r in evaluation["results"]] == ["granted", "pending"]
    bad = client.post(
        "/api/v1/transfers", json={**body, "transcript": {"results": []}}, headers=tokens["tum"]
    )
    assert bad.status_code == 400 and "transcript" in bad.get_json()["errors"]
    assert (
        client.post("/api/v1/transfers", json={"transcript": 1}, headers=tokens["tum"]).status_code
        == 400
    )

    url = f"/api/v1/transfers/{evaluation['id']}"
    assert (
        client.get(url, headers=tokens["tum"]).get_json()["inputs_digest"]
        == evaluation["inputs_digest"]
    )
    assert client.get(url, headers=tokens["unibo"]).status_code == 404
    assert client.get("/api/v1/transfers/999999", headers=tokens["tum"]).status_code == 404

    decision = {
        "result_index": 1,
        "target_course_ids": [world.courses["MA0903"]],
        "credits_granted": "9",
    }
    assert (
        client.post(f"{url}/decisions", json=decision, headers=tokens["unibo"]).status_code == 404
    )
    assert (
        client.post(
            f"{url}/decisions", json={**decision, "extra": 1}, headers=tokens["tum"]
        ).status_code
        == 400
    )
    saved = client.post(f"{url}/decisions", json=decision, headers=tokens["tum"])
    assert saved.status_code == 201 and saved.get_json()["status"] == "approved"
    assert client.post(f"{url}/decisions", json=decision, headers=tokens["tum"]).status_code == 409
    assert (
        client.get(url, headers=tokens["tum"]).get_json()["decisions"][0]["articulation_id"]
        == (saved.get_json()["id"])
    )

    elmo = client.get(f"{url}/elmo", headers=tokens["tum"])
    assert elmo.status_code == 200 and elmo.mimetype == "application/xml"
    assert b"resultOfRecognition" in elmo.data
    assert client.get(f"{url}/elmo", headers=tokens["unibo"]).status_code == 404

    trail = [
        (e.action, e.outcome)
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.startswith("transfer."))
            .order_by(AuditEvent.id)
        )
    ]
    assert trail == [
        ("transfer.evaluate", "refused"),
        ("transfer.evaluate", "refused"),
        ("transfer.evaluate", "refused"),
        ("transfer.evaluate", "allowed"),
        ("transfer.decide", "refused"),
        ("transfer.decide", "allowed"),
        ("transfer.decide", "refused"),
    ]
