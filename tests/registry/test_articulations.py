"""Articulations: services, the CSV import and the API, with permissions and audit events.

The institutions and courses below are test data written for these tests (course codes and
titles invented in the style of each university's catalogue).
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from importers.articulations import import_articulations
from registry.catalogue.articulations import services as service
from registry.catalogue.articulations.models import Articulation
from registry.catalogue.schemas import CourseRecordSchema
from registry.catalogue.services import upsert_courses
from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.core.errors import Conflict, InvalidData, PermissionDenied, Unauthenticated
from registry.core.permissions import ANONYMOUS, OPERATOR, Actor
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many

PROBLEM = "application/problem+json"

INSTITUTIONS = {
    "tum": ("Technische Universität München", "DE", [("schac", "tum.de")]),
    "unibo": ("Università di Bologna", "IT", [("schac", "unibo.it"), ("erasmus", "I BOLOGNA01")]),
    "leeds": ("University of Leeds", "GB", [("schac", "leeds.ac.uk")]),
    "uw": ("Uniwersytet Warszawski", "PL", [("schac", "uw.edu.pl")]),
}
# code, title, language, credits, credit system, ISCED-F, level
COURSES = {
    "tum": [
        ("IN0001", "Einführung in die Informatik", "de", "6", "ECTS", "0613", "QF-EHEA:1"),
        ("IN0002", "Grundlagen der Programmierung", "de", "8", "ECTS", "0613", "QF-EHEA:1"),
        ("IN0008", "Datenbanksysteme", "de", "6", "ECTS", "0612", "QF-EHEA:1"),
        ("MA0901", "Lineare Algebra", "de", "8", "ECTS", "0541", "QF-EHEA:1"),
        ("MA0902", "Lineare Optimierung", "de", "6", "ECTS", "0541", "QF-EHEA:1"),
        ("CH0101", "Organische Chemie I", "de", "5", "ECTS", "0531", "QF-EHEA:1"),
        ("CH0102", "Anorganische Chemie I", "de", "5", "ECTS", "0531", "QF-EHEA:1"),
        ("MA0903", "Analysis 1", "de", "9", "ECTS", "0541", "QF-EHEA:1"),
    ],
    "unibo": [
        ("70101", "Fondamenti di programmazione", "it", "9", "ECTS", "0613", "QF-EHEA:1"),
        ("70102", "Algebra lineare", "it", "6", "ECTS", "0541", "QF-EHEA:1"),
        ("70103", "Chimica organica I", "it", "6", "ECTS", "0531", "QF-EHEA:1"),
        ("70104", "Laboratorio di programmazione", "it", "3", "ECTS", "0613", "QF-EHEA:1"),
        ("70105", "Basi di dati", "it", "9", "ECTS", "0612", "QF-EHEA:1"),
        ("70106", "Analisi matematica 1", "it", "9", "ECTS", "0541", "QF-EHEA:1"),
    ],
    "leeds": [
        ("COMP1721", "Object Oriented Programming", "en", "20", "GB-CATS", "0613", "QF-EHEA:1"),
        ("MATH1012", "Linear Algebra", "en", "15", "GB-CATS", "0541", "QF-EHEA:1"),
        ("CHEM1201", "Organic Chemistry 1", "en", "10", "GB-CATS", "0531", "QF-EHEA:1"),
    ],
    "uw": [
        ("1000-111", "Wstęp do programowania", "pl", "9", "ECTS", "0613", "QF-EHEA:1"),
        ("1000-112", "Algebra liniowa", "pl", "6", "ECTS", "0541", "QF-EHEA:1"),
    ],
}


class World:
    """The test institutions (by key), their courses (by code) and an account of each."""

    def __init__(self, session):
        outcomes = upsert_many(
            session,
            [
                InstitutionRecordSchema().load(
                    {
                        "name": name,
                        "country": country,
                        "status": "recognised",
                        "status_source": "Test list (test data)",
                        "identifiers": [{"scheme": s, "value": v} for s, v in identifiers],
                    }
                )
                for name, country, identifiers in INSTITUTIONS.values()
            ],
        )
        self.ids = {
            key: outcome.institution.id for key, outcome in zip(INSTITUTIONS, outcomes, strict=True)
        }
        self.courses = {}
        for key, rows in COURSES.items():
            records = [
                CourseRecordSchema().load(
                    {
                        "institution_id": self.ids[key],
                        "code": code,
                        "title": title,
                        "language": language,
                        "credits": credits,
                        "credit_system": system,
                        "isced_f": isced_f,
                        "level": level,
                    }
                )
                for code, title, language, credits, system, isced_f, level in rows
            ]
            for outcome in upsert_courses(session, records):
                self.courses[outcome.item.code] = outcome.item.id
        self.actors = {
            key: Actor(f"{key} registry office", "institution", frozenset({str(self.ids[key])}))
            for key in INSTITUTIONS
        }
        session.flush()

    def rule(
        self,
        rule_id="R1",
        source=("70102",),
        target=("MA0901",),
        *,
        status="approved",
        valid_from=None,
        valid_to=None,
        credits="8",
        system="ECTS",
        source_key="unibo",
        target_key="tum",
    ):
        return {
            "rule_id": rule_id,
            "source_institution_id": self.ids[source_key],
            "target_institution_id": self.ids[target_key],
            "source_course_ids": [self.courses[c] for c in source],
            "target_course_ids": [self.courses[c] for c in target],
            "credits_granted": credits,
            "credit_system": system,
            "valid_from": valid_from,
            "valid_to": valid_to,
            "status": status,
        }


@pytest.fixture
def world(session):
    return World(session)


def events(session, entity_prefix="articulation:"):
    return [
        (e.action, e.outcome)
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity.startswith(entity_prefix))
            .order_by(AuditEvent.id)
        )
    ]


# --- services ---------------------------------------------------------------------------------


def test_create_an_approved_bundle_and_find_it(session, world):
    bundle = service.create_articulation(
        session,
        world.actors["tum"],
        world.rule("TUM-IN-2024-01", source=("70101", "70104"), target=("IN0002",), credits="8"),
    )
    single = service.create_articulation(
        session,
        world.actors["tum"],
        world.rule("TUM-IN-2024-02", source=("70101",), target=("IN0001",), credits="6"),
    )
    assert bundle.decided_by == "tum registry office" and bundle.credits_granted == Decimal("8")
    day = dt.date(2024, 6, 30)
    both = {world.courses["70101"], world.courses["70104"]}
    assert service.approved_for(session, both, day, world.ids["tum"]) == [bundle, single]
    assert service.approved_for(session, {world.courses["70101"]}, day) == [single]
    assert service.approved_for(session, set(), day) == []
    assert [a.id for a in service.articulations_for_course(session, world.courses["IN0002"])] == [
        bundle.id
    ]
    assert events(session) == [("articulation.create", "allowed")] * 2


def test_same_institution_is_refused(session, world):
    with pytest.raises(InvalidData) as refused:
        service.create_articulation(
            session, OPERATOR, world.rule(source=("IN0001",), target=("IN0002",), source_key="tum")
        )
    assert "same" in refused.value.errors["target_institution_id"][0]


def test_courses_must_belong_to_the_stated_institutions(session, world):
    with pytest.raises(InvalidData) as refused:
        service.create_articulation(
            session, OPERATOR, world.rule(source=("MA0901",), target=("70102",))
        )
    errors = refused.value.errors
    assert "not to the source institution" in errors["source_course_ids"][0]
    assert "not to the target institution" in errors["target_course_ids"][0]
    with pytest.raises(InvalidData) as unknown:
        service.create_articulation(
            session,
            OPERATOR,
            {**world.rule(), "source_course_ids": [999999], "credit_system": "NOPE"},
        )
    assert "No course 999999." in unknown.value.errors["source_course_ids"]
    assert "credit_system" in unknown.value.errors


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"source_course_ids": []}, "source_course_ids"),
        ({"credits_granted": "-1"}, "credits_granted"),
        ({"status": "maybe"}, "status"),
        ({"valid_from": "2024-13-01"}, "valid_from"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_input_names_the_field(session, world, raw, field):
    with pytest.raises(InvalidData) as refused:
        service.create_articulation(session, OPERATOR, {**world.rule(), **raw})
    assert field in refused.value.errors


def test_validity_is_half_open_and_approved_rules_may_not_overlap(session, world):
    actor = world.actors["tum"]
    old = service.create_articulation(
        session,
        actor,
        world.rule("R-2020", valid_from=dt.date(2020, 10, 1).isoformat(), valid_to="2023-10-01"),
    )
    new = service.create_articulation(session, actor, world.rule("R-2023", valid_from="2023-10-01"))
    assert old.valid_on(dt.date(2023, 9, 30)) and not old.valid_on(dt.date(2023, 10, 1))
    assert service.approved_for(session, {world.courses["70102"]}, dt.date(2023, 10, 1)) == [new]
    with pytest.raises(Conflict) as conflict:
        service.create_articulation(
            session, actor, world.rule("R-again", valid_from="2022-01-01", valid_to="2022-02-01")
        )
    assert conflict.value.data["existing"]["id"] == old.id
    # Proposed rules may overlap; approving one is what is refused, and nothing changes.
    proposal = service.create_articulation(
        session, actor, world.rule("R-proposal", status="proposed", target=("MA0902",))
    )
    with pytest.raises(Conflict):
        service.decide(session, actor, proposal.id, {"status": "approved", "reason": "Checked."})
    assert proposal.status == "proposed" and proposal.decided_by is None
    # Another receiving institution has rules of its own.
    service.create_articulation(
        session,
        world.actors["leeds"],
        world.rule("L1", target=("MATH1012",), target_key="leeds", credits="15", system="GB-CATS"),
    )


def test_decide_and_update(session, world):
    actor = world.actors["tum"]
    proposal = service.create_articulation(session, actor, world.rule(status="proposed"))
    assert proposal.decided_by is None
    rejected = service.decide(
        session, actor, proposal.id, {"status": "rejected", "reason": "Content differs."}
    )
    assert (rejected.status, rejected.decided_by, rejected.reason) == (
        "rejected",
        "tum registry office",
        "Content differs.",
    )
    changed = service.update_articulation(
        session, actor, proposal.id, {"target_course_ids": [world.courses["MA0902"]]}
    )
    assert changed.target_course_ids == [world.courses["MA0902"]]
    with pytest.raises(InvalidData) as key:
        service.update_articulation(session, actor, proposal.id, {"rule_id": "other"})
    assert "rule_id" in key.value.errors
    assert events(session) == [
        ("articulation.create", "allowed"),
        ("articulation.decide", "allowed"),
        ("articulation.update", "allowed"),
    ]


def test_only_the_receiving_institution_writes_its_rules(session, world):
    with pytest.raises(PermissionDenied):
        service.create_articulation(session, world.actors["unibo"], world.rule())
    with pytest.raises(PermissionDenied):
        service.create_articulation(session, Actor("r", "registrar"), world.rule())
    with pytest.raises(PermissionDenied):
        service.create_articulation(
            session, Actor("m", "ministry", frozenset({"DE"})), world.rule()
        )
    with pytest.raises(Unauthenticated):
        service.create_articulation(session, ANONYMOUS, world.rule())
    made = service.create_articulation(session, OPERATOR, world.rule())
    with pytest.raises(PermissionDenied):
        service.decide(session, world.actors["unibo"], made.id, {"status": "rejected"})


# --- the CSV import ---------------------------------------------------------------------------

HEADER = (
    "rule_id,source_scheme,source_institution,source_course,target_scheme,"
    "target_institution,target_course,credits_granted,credit_system,valid_from,valid_to,"
    "status\n"
)


def csv(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def run_import(session, data: bytes, actor=OPERATOR, **options):
    return import_articulations(lambda: session, actor, io.BytesIO(data), "rules.csv", **options)


def adds_up(report):
    return report.read == report.inserted + report.updated + report.unchanged + report.rejected


RULES = csv(
    "TUM-01,schac,unibo.it,70101,schac,tum.de,IN0002,8,ECTS,2020-10-01,,approved",
    'TUM-02,erasmus,I BOLOGNA01,70102,schac,tum.de,MA0901,"8,0",ects,2020-10-01,,approved',
    "TUM-01,schac,unibo.it,70104,schac,tum.de,IN0002,8,ECTS,2020-10-01,,approved",
    "TUM-03,schac,unibo.it,70105,schac,tum.de,IN0008,6,ECTS,,,",
)


def test_import_bundles_and_reimport_changes_nothing(session, world):
    report = run_import(session, RULES)
    assert (report.read, report.inserted, report.rejected, report.state) == (4, 4, 0, "completed")
    bundle = service.find_articulation(session, world.ids["tum"], "TUM-01")
    assert bundle.source_course_ids == sorted([world.courses["70101"], world.courses["70104"]])
    assert bundle.target_course_ids == [world.courses["IN0002"]]
    assert service.find_articulation(session, world.ids["tum"], "TUM-02").credits_granted == 8
    assert service.find_articulation(session, world.ids["tum"], "TUM-03").status == "proposed"
    again = run_import(session, RULES)
    assert (again.read, again.unchanged, again.inserted, again.updated) == (4, 4, 0, 0)
    # A bundle loses a course: its rows count as updated; the others stay unchanged.
    smaller = run_import(
        session,
        csv(
            "TUM-01,schac,unibo.it,70101,schac,tum.de,IN0002,8,ECTS,2020-10-01,,approved",
            f"TUM-02,schac,unibo.it,70102,id,{world.ids['tum']},MA0901,8,ECTS,2020-10-01,,approved",
        ),
    )
    assert (smaller.updated, smaller.unchanged) == (1, 1) and adds_up(smaller)
    bundle = service.find_articulation(session, world.ids["tum"], "TUM-01")
    assert bundle.source_course_ids == [world.courses["70101"]]
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "import.articulations-csv"))


def test_import_rejects_a_rule_whole_naming_the_rows(session, world):
    report = run_import(
        session,
        csv(
            "B1,schac,unibo.it,70101,schac,tum.de,IN0002,8,ECTS,,,approved",
            "B1,schac,unibo.it,70104,schac,tum.de,IN0002,9,ECTS,,,approved",
            "B2,schac,unibo.it,70101,schac,tum.de,IN0001,6,ECTS,,,approved",
            "B2,schac,unibo.it,70104,schac,tum.de,IN0001,6,ECTS,not a date,,approved",
            "B3,schac,unibo.it,NOPE,schac,tum.de,IN0001,6,ECTS,,,approved",
            "B4,schac,nowhere.example,70101,schac,tum.de,IN0001,6,ECTS,,,approved",
            "B5,schac,tum.de,IN0001,schac,tum.de,IN0002,6,ECTS,,,approved",
            "B6,schac,unibo.it,70105,schac,tum.de,IN0008,6,ECTS,,,approved",
            "B7,schac,unibo.it,70105,schac,tum.de,IN0008,6,ECTS,2020-01-01,,approved",
            "too,few,cells",
        ),
    )
    assert (report.read, report.inserted, report.rejected) == (10, 1, 9) and adds_up(report)
    reasons = {error.position: error.reason for error in report.errors}
    assert "row 3 states credits_granted 9" in reasons["row 2"]
    assert reasons["row 2"] == reasons["row 3"]
    assert "valid_from" in reasons["row 5"] and "row 5 is invalid" in reasons["row 4"]
    assert "no course 'NOPE'" in reasons["row 6"]
    assert "no source institution with schac 'nowhere.example'" in reasons["row 7"]
    assert "same" in reasons["row 8"]
    assert "overlap" in reasons["row 10"]
    assert "cells" in reasons["row 11"]
    assert [a.rule_id for a in service.list_articulations(session)] == ["B6"]


def test_import_rows_of_another_institution_are_refused(session, world):
    rows = csv(
        "TUM-01,schac,unibo.it,70101,schac,tum.de,IN0002,8,ECTS,,,approved",
        "L-01,schac,unibo.it,70102,schac,leeds.ac.uk,MATH1012,15,GB-CATS,,,approved",
    )
    report = run_import(session, rows, actor=world.actors["leeds"])
    assert (report.inserted, report.rejected) == (1, 1)
    assert "outside its scope" in report.errors[0].reason
    with pytest.raises(PermissionDenied):
        run_import(session, rows, actor=Actor("r", "registrar"))


def test_atomic_import_is_all_or_nothing_and_a_broken_file_applies_nothing(session, world):
    report = run_import(
        session,
        csv(
            "A1,schac,unibo.it,70101,schac,tum.de,IN0002,8,ECTS,,,approved",
            "A2,schac,unibo.it,NOPE,schac,tum.de,IN0001,6,ECTS,,,approved",
        ),
        atomic=True,
    )
    assert report.state == "rolled_back" and report.inserted == 0 and adds_up(report)
    broken = run_import(
        session,
        csv("A1,schac,unibo.it,70101,schac,tum.de,IN0002,8,ECTS,,,approved", '"A2,unterminated'),
    )
    assert broken.state == "failed" and broken.inserted == 0 and adds_up(broken)
    assert service.list_articulations(session) == []


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def tokens(session, world):
    made = {}
    for key, role, scopes in [
        ("tum", "institution", [str(world.ids["tum"])]),
        ("unibo", "institution", [str(world.ids["unibo"])]),
        ("admin", "admin", []),
        ("registrar", "registrar", []),
    ]:
        account = accounts.get_or_create_account(session, f"articulations-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    return made


def body(world, **changes):
    rule = world.rule(**changes)
    return {**rule, "credits_granted": str(rule["credits_granted"])}


def test_api_articulations_allowed_and_refused(client, session, world, tokens):
    assert client.post("/api/v1/articulations", json=body(world)).status_code == 401
    refused = client.post("/api/v1/articulations", json=body(world), headers=tokens["unibo"])
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert (
        client.post(
            "/api/v1/articulations", json=body(world), headers=tokens["registrar"]
        ).status_code
        == 403
    )
    made = client.post(
        "/api/v1/articulations", json=body(world, status="proposed"), headers=tokens["tum"]
    )
    assert made.status_code == 201, made.get_json()
    article = made.get_json()
    assert article["credits_granted"] == "8" and article["status"] == "proposed"
    twice = client.post("/api/v1/articulations", json=body(world), headers=tokens["tum"])
    assert twice.status_code == 409 and twice.get_json()["existing"]["id"] == article["id"]
    bad = client.post(
        "/api/v1/articulations",
        json=body(world, rule_id="R2", source_key="tum", source=("IN0001",)),
        headers=tokens["admin"],
    )
    assert bad.status_code == 400 and "target_institution_id" in bad.get_json()["errors"]

    url = f"/api/v1/articulations/{article['id']}"
    refused = client.patch(url, json={"status": "approved"}, headers=tokens["unibo"])
    assert refused.status_code == 403
    approved = client.patch(
        url, json={"status": "approved", "reason": "Same syllabus."}, headers=tokens["tum"]
    )
    assert approved.status_code == 200 and approved.get_json()["decided_by"] == "articulations-tum"
    assert client.patch(url, json={"status": "maybe"}, headers=tokens["tum"]).status_code == 400
    assert client.get(url).get_json()["status"] == "approved"
    assert client.get("/api/v1/articulations/999999").status_code == 404
    listed = client.get(f"/api/v1/articulations?course={world.courses['70102']}&status=approved")
    assert [a["id"] for a in listed.get_json()] == [article["id"]]
    assert client.get("/api/v1/articulations?status=maybe").status_code == 400

    trail = [
        (e.action, e.outcome)
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.startswith("articulation."))
            .order_by(AuditEvent.id)
        )
    ]
    assert trail == [
        ("articulation.create", "refused"),
        ("articulation.create", "refused"),
        ("articulation.create", "refused"),
        ("articulation.create", "allowed"),
        ("articulation.create", "refused"),
        ("articulation.decide", "refused"),
        ("articulation.decide", "allowed"),
    ]
    assert session.get(Articulation, article["id"]).reason == "Same syllabus."
