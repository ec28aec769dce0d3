"""Pathway agreements (issue 21, item 1): services, the API and the command line, with the
decision flow, audit events, the privacy of drafts and the tenancy of every write.

The institutions are real; the programme codes, the pathways and their terms are test data
written for these tests (the MicroMasters courses are named as the programme names them).
"""

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.catalogue.pathways import services
from registry.catalogue.pathways.models import Pathway
from registry.catalogue.schemas import CourseRecordSchema, QualificationRecordSchema
from registry.catalogue.services import upsert_courses, upsert_qualifications
from registry.cli import main
from registry.core import accounts
from registry.core.audit import AuditEvent
from registry.core.db import make_engine
from registry.core.errors import Conflict, InvalidData, NotFound, PermissionDenied, Unauthenticated
from registry.core.permissions import ANONYMOUS, OPERATOR, Actor
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many

PROBLEM = "application/problem+json"
ON = "2026-12-07"

INSTITUTIONS = {
    "mit": ("Massachusetts Institute of Technology", "US", "mit.edu"),
    "ucd": ("University College Dublin", "IE", "ucd.ie"),
    "klu": ("Kühne Logistics University", "DE", "the-klu.org"),
}
# institution, code, title, type, level, credits, credit system
QUALIFICATIONS = [
    (
        "mit",
        "MM-SCM",
        "MicroMasters Program in Supply Chain Management",
        "micro_credential",
        None,
        None,
        None,
    ),
    ("ucd", "MSC-SCM", "MSc Supply Chain Management", "master", "IE-NFQ:9", "90", "ECTS"),
    ("ucd", "MSC-BA", "MSc Business Analytics", "master", "IE-NFQ:9", "90", "ECTS"),
    (
        "klu",
        "MSC-GLSCM",
        "MSc Global Logistics and Supply Chain Management",
        "master",
        "DE-DQR:7",
        "120",
        "ECTS",
    ),
]
COURSES = [
    ("SC0x", "Supply Chain Analytics"),
    ("SC1x", "Supply Chain Fundamentals"),
    ("SC2x", "Supply Chain Design"),
    ("SC3x", "Supply Chain Dynamics"),
    ("SC4x", "Supply Chain Technology and Systems"),
]


class World:
    """The issuer, the two receiving universities, their catalogues and an account of each."""

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
                        "identifiers": [{"scheme": "schac", "value": schac}],
                    }
                )
                for name, country, schac in INSTITUTIONS.values()
            ],
        )
        self.ids = {key: o.institution.id for key, o in zip(INSTITUTIONS, outcomes, strict=True)}
        records = [
            QualificationRecordSchema().load(
                {
                    "institution_id": self.ids[key],
                    "code": code,
                    "title": title,
                    "qualification_type": kind,
                    "level": level,
                    "credits": credits,
                    "credit_system": system,
                }
            )
            for key, code, title, kind, level, credits, system in QUALIFICATIONS
        ]
        self.qualifications = {
            o.item.code: o.item.id for o in upsert_qualifications(session, records)
        }
        courses = [
            CourseRecordSchema().load(
                {"institution_id": self.ids["mit"], "code": code, "title": title, "language": "en"}
            )
            for code, title in COURSES
        ]
        self.courses = {o.item.code: o.item.id for o in upsert_courses(session, courses)}
        self.actors = {
            key: Actor(f"{key} admissions office", "institution", frozenset({str(self.ids[key])}))
            for key in INSTITUTIONS
        }
        session.flush()

    def micromasters(self, key="ucd", **changes):
        """The MicroMasters credential for a semester of credit toward the MSc."""
        programme, credits = {"ucd": ("MSC-SCM", "30"), "klu": ("MSC-GLSCM", "20")}[key]
        return {
            "rule_id": f"{key.upper()}-MM-SCM-2026",
            "institution_id": self.ids[key],
            "title": "MicroMasters in Supply Chain Management toward the MSc",
            "programme_code": programme,
            "credentials": [{"qualification_id": self.qualifications["MM-SCM"]}],
            "credits": credits,
            "credit_system": "ECTS",
            "supervision": "supervised_identity_verified",
            "quality_assured": True,
            "max_age_months": 60,
            "valid_from": "2026-01-01",
            "status": "approved",
            "source": f"https://www.{INSTITUTIONS[key][2]}/micromasters-pathway",
            **changes,
        }

    def three_of_five(self, **changes):
        """Any three of the five MicroMasters courses, named by code or by title."""
        mit = self.ids["mit"]
        return {
            "rule_id": "KLU-SC-3OF5",
            "institution_id": self.ids["klu"],
            "title": "Three MicroMasters courses toward the MSc",
            "programme_id": self.qualifications["MSC-GLSCM"],
            "credentials": [
                {"institution_id": mit, "kind": "course", "code": "SC0x"},
                {"institution_id": mit, "kind": "course", "code": "SC1x"},
                {"institution_id": mit, "kind": "course", "title": "supply chain design"},
                {"institution_id": mit, "kind": "course", "code": "SC3x"},
                {"course_id": self.courses["SC4x"]},
            ],
            "choose": 3,
            "credits": "12",
            "credit_system": "ECTS",
            "min_grade": "3.0",
            "min_grade_scale": "us-gpa-4",
            "status": "proposed",
            **changes,
        }


@pytest.fixture
def world(session):
    return World(session)


def events(session):
    return [
        (e.action, e.outcome, e.entity)
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.startswith("pathway."))
            .order_by(AuditEvent.id)
        )
    ]


# --- services ---------------------------------------------------------------------------------


def test_two_universities_accept_the_micromasters_for_different_credits(session, world):
    ucd = services.create_pathway(session, world.actors["ucd"], world.micromasters("ucd"))
    klu = services.create_pathway(session, world.actors["klu"], world.micromasters("klu"))
    assert (ucd.decided_by, ucd.credits, klu.credits) == (
        "ucd admissions office",
        Decimal(30),
        Decimal(20),
    )
    day = services.dt.date(2026, 12, 7)
    accepting = services.approved_on(
        session, day, qualification_ids=[world.qualifications["MM-SCM"]]
    )
    assert accepting == [ucd, klu]
    toward = services.approved_on(session, day, programme_id=world.qualifications["MSC-SCM"])
    assert toward == [ucd]
    assert services.approved_on(session, services.dt.date(2025, 12, 31)) == []

    shown = services.present(ucd)
    assert shown["institution"] == {
        "id": world.ids["ucd"],
        "name": "University College Dublin",
        "country": "IE",
    }
    assert shown["programme"] == {
        "id": world.qualifications["MSC-SCM"],
        "code": "MSC-SCM",
        "title": "MSc Supply Chain Management",
        "level": "IE-NFQ:9",
        "credits": "90",
        "credit_system": "ECTS",
        "qualification_type": "master",
    }
    [credential] = shown["credentials"]
    assert credential["kind"] == "qualification"
    assert credential["qualification_type"] == "micro_credential"
    assert credential["institution"]["country"] == "US"
    assert (shown["credits"], shown["credit_system"], shown["valid_from"]) == (
        "30",
        "ECTS",
        "2026-01-01",
    )
    assert shown["conditions"] == {
        "min_grade": None,
        "min_grade_scale": None,
        "supervision": "supervised_identity_verified",
        "quality_assured": True,
        "max_age_months": 60,
        "max_total_credits": None,
    }
    assert shown["source"] == "https://www.ucd.ie/micromasters-pathway"
    assert json.loads(json.dumps(shown)) == shown
    assert [e[:2] for e in events(session)] == [("pathway.create", "allowed")] * 2
    stored = session.scalar(select(AuditEvent).where(AuditEvent.entity == f"pathway:{ucd.id}"))
    assert stored.after["credentials"] == [
        {"kind": "qualification", "id": world.qualifications["MM-SCM"]}
    ]
    assert stored.after["credits"] == "30"


def test_any_three_of_five_courses_named_by_code_and_title(session, world):
    pathway = services.create_pathway(session, world.actors["klu"], world.three_of_five())
    assert pathway.choose == 3 and pathway.min_grade_scale == "US-GPA-4"
    assert pathway.course_ids == [world.courses[code] for code, _ in COURSES]
    shown = services.present(pathway)
    assert [c["code"] for c in shown["credentials"]] == ["SC0x", "SC1x", "SC2x", "SC3x", "SC4x"]
    assert all("qualification_type" not in c for c in shown["credentials"])
    day = services.dt.date(2026, 12, 7)
    assert services.approved_on(session, day, course_ids=[world.courses["SC2x"]]) == []
    services.decide(session, world.actors["klu"], pathway.id, {"status": "approved"})
    assert services.approved_on(session, day, course_ids=[world.courses["SC2x"]]) == [pathway]
    assert (
        services.approved_on(
            session,
            day,
            course_ids=[world.courses["SC2x"]],
            programme_id=world.qualifications["MSC-SCM"],
        )
        == []
    )


def _errors(session, world, raw, actor=OPERATOR):
    with pytest.raises(InvalidData) as refused:
        services.create_pathway(session, actor, raw)
    return refused.value.errors


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"programme_code": "MSC-NONE"}, "programme_code", "No qualification 'MSC-NONE'"),
        ({"choose": 2}, "choose", "At most the number of credentials (1)"),
        ({"choose": 0}, "choose", "greater than or equal to 1"),
        ({"min_grade": "3.0"}, "min_grade_scale", "both or neither"),
        ({"min_grade_scale": "US-GPA-4"}, "min_grade", "both or neither"),
        ({"min_grade": "3.0", "min_grade_scale": "XX-9"}, "min_grade_scale", "Unknown grading"),
        ({"min_grade": "5.5", "min_grade_scale": "US-GPA-4"}, "min_grade", "from 0.0 to 4.0"),
        ({"min_grade": "A*", "min_grade_scale": "GB-HONS"}, "min_grade", "use one of First"),
        ({"credit_system": "NOPE"}, "credit_system", "Unknown credit system"),
        ({"valid_to": "2026-01-01"}, "valid_to", "later than valid_from"),
        ({"max_total_credits": "-1"}, "max_total_credits", "greater than or equal to 0"),
        ({"credits": "0"}, "credits", "greater than 0"),
        ({"supervision": "unsupervised"}, "supervision", "Must be one of"),
        ({"credentials": []}, "credentials", "Length must be between 1 and 50"),
        ({"credentials": [{"course_id": 1, "code": "SC0x"}]}, "credentials", "Give"),
        ({"programme_id": 1}, "programme_code", "not both"),
        ({"programme_code": None}, "programme_id", "Required"),
        ({"colour": "blue"}, "colour", "Unknown field"),
    ],
)
def test_each_invalid_field_is_named(session, world, changes, field, message):
    errors = _errors(session, world, world.micromasters(**changes))
    assert message in json.dumps(errors[field]), errors
    assert services.list_pathways(session, OPERATOR) == []


def test_the_programme_is_in_the_owners_catalogue_and_every_credential_resolves(session, world):
    klu_programme = world.qualifications["MSC-GLSCM"]
    errors = _errors(
        session, world, world.micromasters("ucd", programme_code=None, programme_id=klu_programme)
    )
    assert (
        f"Qualification {klu_programme} (MSC-GLSCM) is not in institution"
        in errors["programme_id"][0]
    )
    mit = world.ids["mit"]
    errors = _errors(
        session,
        world,
        world.three_of_five(
            credentials=[
                {"institution_id": mit, "kind": "course", "code": "SC0x"},
                {"course_id": world.courses["SC0x"]},
                {"institution_id": mit, "kind": "course", "code": "SC9x"},
                {"institution_id": mit, "kind": "qualification", "title": "Supply Chain Design"},
                {"qualification_id": 2_000_000_000},
                {"institution_id": 2_000_000_000, "kind": "course", "code": "SC0x"},
            ]
        ),
    )
    assert errors["credentials"] == {
        "1": [f"Repeats credential 0 (course {world.courses['SC0x']})."],
        "2": [f"No course 'SC9x' in institution {mit}'s catalogue."],
        "3": [f"No qualification titled 'Supply Chain Design' in institution {mit}'s catalogue."],
        "4": ["No qualification 2000000000."],
        "5": ["No institution 2000000000."],
    }
    errors = _errors(
        session,
        world,
        world.micromasters(credentials=[{"qualification_id": world.qualifications["MSC-SCM"]}]),
    )
    assert "toward itself" in errors["credentials"][0]
    with pytest.raises(InvalidData) as resolved:
        services.resolve_credentials(session, [{"course_id": 2_000_000_000}])
    assert resolved.value.errors == {"credentials": {"0": ["No course 2000000000."]}}


def test_the_decision_flow_is_audited(session, world):
    actor = world.actors["ucd"]
    proposal = services.create_pathway(session, actor, world.micromasters(status="proposed"))
    assert proposal.decided_by is None
    rejected = services.decide(
        session, actor, proposal.id, {"status": "rejected", "reason": "No proctored exam."}
    )
    assert (rejected.status, rejected.decided_by, rejected.reason) == (
        "rejected",
        "ucd admissions office",
        "No proctored exam.",
    )
    assert services.present(proposal)["programme"]["code"] == "MSC-SCM"
    changed = services.update_pathway(
        session,
        actor,
        proposal.id,
        {"credits": "25", "max_total_credits": "30", "programme_code": "MSC-BA"},
    )
    assert changed.credits == Decimal(25) and changed.decided_by == "ucd admissions office"
    assert services.present(changed)["programme"]["code"] == "MSC-BA"
    reopened = services.update_pathway(session, actor, proposal.id, {"status": "proposed"})
    assert reopened.decided_by is None
    approved = services.decide(
        session, OPERATOR, proposal.id, {"status": "approved", "reason": "Proctored since 2025."}
    )
    assert approved.decided_by == OPERATOR.name
    entity = f"pathway:{proposal.id}"
    assert events(session) == [
        ("pathway.create", "allowed", entity),
        ("pathway.decide", "allowed", entity),
        ("pathway.update", "allowed", entity),
        ("pathway.decide", "allowed", entity),
        ("pathway.decide", "allowed", entity),
    ]
    update = session.scalars(select(AuditEvent).where(AuditEvent.action == "pathway.update")).one()
    assert (update.before["credits"], update.after["credits"]) == ("30", "25")
    assert update.after["programme_id"] == world.qualifications["MSC-BA"]
    for raw in ({"status": "maybe"}, {}, ["approved"]):
        with pytest.raises(InvalidData):
            services.decide(session, actor, proposal.id, raw)


def test_approved_pathways_stating_the_same_may_not_overlap(session, world):
    actor = world.actors["klu"]
    old = services.create_pathway(
        session,
        actor,
        world.three_of_five(status="approved", valid_from="2024-01-01", valid_to="2026-01-01"),
    )
    new = services.create_pathway(
        session,
        actor,
        world.three_of_five(rule_id="KLU-SC-2026", status="approved", valid_from="2026-01-01"),
    )
    with pytest.raises(Conflict) as conflict:
        services.create_pathway(
            session,
            actor,
            world.three_of_five(rule_id="KLU-SC-AGAIN", status="approved", valid_from="2025-06-01"),
        )
    assert conflict.value.data["existing"]["id"] in (old.id, new.id)
    # Drafts may overlap; approving one is what is refused, and nothing changes.
    draft = services.create_pathway(session, actor, world.three_of_five(rule_id="KLU-SC-DRAFT"))
    with pytest.raises(Conflict):
        services.decide(session, actor, draft.id, {"status": "approved"})
    assert (draft.status, draft.decided_by) == ("proposed", None)
    # All five for more credit is another statement.
    services.create_pathway(
        session,
        actor,
        world.three_of_five(rule_id="KLU-SC-ALL", choose=None, credits="20", status="approved"),
    )


def test_an_institution_writes_only_its_own_pathways(session, world):
    ucd, klu = world.actors["ucd"], world.actors["klu"]
    for actor, error in (
        (klu, PermissionDenied),
        (Actor("registrar", "registrar"), PermissionDenied),
        (Actor("ministry", "ministry", frozenset({"IE"})), PermissionDenied),
        (ANONYMOUS, Unauthenticated),
    ):
        with pytest.raises(error):
            services.create_pathway(session, actor, world.micromasters("ucd"))
    # Its own institution with another's programme: named, not stored.
    errors = _errors(
        session,
        world,
        world.micromasters(
            "klu", programme_code=None, programme_id=world.qualifications["MSC-SCM"]
        ),
        actor=klu,
    )
    assert "programme_id" in errors
    approved = services.create_pathway(session, ucd, world.micromasters("ucd"))
    draft = services.create_pathway(
        session,
        ucd,
        world.micromasters("ucd", rule_id="UCD-DRAFT", valid_from="2027-01-01", status="proposed"),
    )
    # Another's approved pathway: refused; another's draft: it does not exist.
    for call in (
        lambda pid: services.update_pathway(session, klu, pid, {"credits": "60"}),
        lambda pid: services.update_pathway(session, klu, pid, {"status": "approved"}),
        lambda pid: services.decide(session, klu, pid, {"status": "rejected"}),
    ):
        with pytest.raises(PermissionDenied) as refused:
            call(approved.id)
        # Recorded against the pathway by its id, as its own events are (a rule_id is unique
        # only within one institution).
        assert refused.value.data["target"] == f"pathway:{approved.id}"
        with pytest.raises(NotFound):
            call(draft.id)
    with pytest.raises(PermissionDenied) as refused:
        services.create_pathway(session, klu, world.micromasters("ucd", rule_id="KLU-OWN"))
    assert refused.value.data["target"] == f"pathway:{world.ids['ucd']}/KLU-OWN"
    # The key and the owner stay; a programme of another's catalogue is refused.
    for change, field in (
        ({"institution_id": world.ids["klu"]}, "institution_id"),
        ({"rule_id": "KLU-MINE"}, "rule_id"),
        ({"programme_id": world.qualifications["MSC-GLSCM"]}, "programme_id"),
        ({"programme_code": "MSC-GLSCM"}, "programme_code"),
        ({"programme_id": None}, "programme_id"),
    ):
        with pytest.raises(InvalidData) as refused:
            services.update_pathway(session, ucd, approved.id, change)
        assert field in refused.value.errors
    assert (approved.institution_id, approved.credits) == (world.ids["ucd"], Decimal(30))
    assert len(events(session)) == 2


def test_drafts_are_private_to_their_owner(session, world):
    ucd = world.actors["ucd"]
    approved = services.create_pathway(session, ucd, world.micromasters("ucd"))
    draft = services.create_pathway(
        session,
        ucd,
        world.micromasters("ucd", rule_id="UCD-DRAFT", status="proposed", valid_from="2027-01-01"),
    )
    rejected = services.create_pathway(
        session,
        world.actors["klu"],
        world.micromasters("klu", status="rejected", reason="Not yet."),
    )
    for actor in (world.actors["klu"], ANONYMOUS, Actor("registrar", "registrar")):
        with pytest.raises(NotFound):
            services.get_pathway(session, actor, draft.id)
        assert services.get_pathway(session, actor, approved.id) is approved
    assert services.get_pathway(session, ucd, draft.id) is draft
    assert services.list_pathways(session, ANONYMOUS) == [approved]
    assert services.list_pathways(session, ucd) == [approved, draft]
    assert services.list_pathways(session, world.actors["klu"]) == [approved, rejected]
    assert services.list_pathways(session, OPERATOR) == [approved, draft, rejected]
    assert services.list_pathways(session, ANONYMOUS, status="proposed") == []
    assert services.list_pathways(
        session, OPERATOR, institution_id=world.ids["ucd"], status="proposed"
    ) == [draft]
    assert services.list_pathways(
        session, OPERATOR, programme_id=world.qualifications["MSC-GLSCM"]
    ) == [rejected]
    with pytest.raises(NotFound):
        services.get_pathway(session, OPERATOR, 2_000_000_000)


def test_upsert_for_imports(session, world):
    ucd = world.actors["ucd"]
    record = world.micromasters("ucd", reason="Senate decision 2025/14.")
    first = services.upsert_pathway(session, ucd, record)
    assert first.outcome == "inserted"
    assert services.upsert_pathway(session, ucd, record).outcome == "unchanged"
    # Without a reason the stored one stays; a changed value updates in place.
    again = services.upsert_pathway(session, ucd, {**record, "reason": None})
    assert again.outcome == "unchanged"
    changed = services.upsert_pathway(session, ucd, {**record, "credits": "25", "reason": None})
    assert (changed.outcome, changed.pathway.id, changed.pathway.credits) == (
        "updated",
        first.pathway.id,
        Decimal(25),
    )
    assert changed.pathway.reason == "Senate decision 2025/14."
    rejected = services.upsert_pathway(
        session, ucd, {**record, "credits": "25", "status": "rejected"}
    )
    assert rejected.outcome == "updated" and rejected.pathway.decided_by == "ucd admissions office"
    # Another institution's rule_id, named with that institution: refused, nothing changes.
    taken = services.upsert_pathway(session, world.actors["klu"], {**record, "credits": "1"})
    assert taken.outcome == "rejected" and "outside its scope" in taken.reason
    bad = services.upsert_pathway(
        session, ucd, {**record, "credentials": [{"course_id": 2_000_000_000}]}
    )
    assert bad.outcome == "rejected" and "credentials: 0: No course 2000000000." in bad.reason
    assert services.upsert_pathway(session, ucd, "not a record").outcome == "rejected"
    assert first.pathway.credits == Decimal(25) and first.pathway.status == "rejected"
    assert [e[0] for e in events(session)] == ["pathway.create", "pathway.update", "pathway.decide"]


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def tokens(session, world):
    made = {}
    for key, role, scopes in [
        ("ucd", "institution", [str(world.ids["ucd"])]),
        ("klu", "institution", [str(world.ids["klu"])]),
        ("admin", "admin", []),
        ("registrar", "registrar", []),
    ]:
        account = accounts.get_or_create_account(session, f"pathways-{key}", role, scopes)
        made[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    made["anonymous"] = {}
    session.commit()
    return made


def call(client, method, url, headers, json=None, status=200):
    response = client.open(url, method=method, headers=headers, json=json)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == PROBLEM
    return response.get_json()


def test_api_create_read_decide(client, session, world, tokens):
    url = "/api/v1/pathways"
    body = world.micromasters("ucd", status="proposed")
    call(client, "POST", url, tokens["anonymous"], body, status=401)
    call(client, "POST", url, tokens["registrar"], body, status=403)
    call(client, "POST", url, tokens["klu"], body, status=403)
    made = call(client, "POST", url, tokens["ucd"], body, status=201)
    assert made["status"] == "proposed" and made["credits"] == "30"
    assert made["programme"]["code"] == "MSC-SCM"
    assert (
        call(client, "POST", url, tokens["ucd"], body, status=409)["existing"]["id"] == made["id"]
    )
    bad = call(
        client, "POST", url, tokens["ucd"], {**body, "rule_id": "X", "choose": 4}, status=400
    )
    assert "choose" in bad["errors"]

    one = f"{url}/{made['id']}"
    # A draft: its owner and admins read it; to anyone else it does not exist.
    assert call(client, "GET", one, tokens["ucd"]) == made
    call(client, "GET", one, tokens["admin"])
    for who in ("klu", "registrar", "anonymous"):
        call(client, "GET", one, tokens[who], status=404)
        assert made["id"] not in [p["id"] for p in call(client, "GET", url, tokens[who])]
    listed = call(
        client, "GET", f"{url}?institution={world.ids['ucd']}&status=proposed", tokens["ucd"]
    )
    assert [p["id"] for p in listed] == [made["id"]]
    call(client, "GET", f"{url}?status=maybe", tokens["ucd"], status=400)
    call(client, "GET", f"{url}/999999", tokens["admin"], status=404)

    # Another institution's draft answers 404 to its writes too; bad input is a 400 to its owner.
    call(client, "PATCH", one, tokens["klu"], {"credits": "60"}, status=404)
    call(client, "POST", f"{one}/decision", tokens["klu"], {"status": "approved"}, status=404)
    call(client, "PATCH", one, tokens["ucd"], {"credits": "-1"}, status=400)
    call(client, "PATCH", one, tokens["ucd"], {"institution_id": world.ids["klu"]}, status=400)
    changed = call(client, "PATCH", one, tokens["ucd"], {"max_age_months": 36})
    assert changed["conditions"]["max_age_months"] == 36
    moved = call(client, "PATCH", one, tokens["ucd"], {"programme_code": "MSC-BA"})
    assert moved["programme"]["title"] == "MSc Business Analytics"
    assert call(client, "GET", one, tokens["ucd"])["programme"]["code"] == "MSC-BA"
    call(client, "PATCH", one, tokens["ucd"], {"programme_code": "MSC-SCM"})
    decided = call(
        client,
        "POST",
        f"{one}/decision",
        tokens["ucd"],
        {"status": "approved", "reason": "Senate."},
    )
    assert (decided["status"], decided["decided_by"], decided["reason"]) == (
        "approved",
        "pathways-ucd",
        "Senate.",
    )
    call(client, "POST", f"{one}/decision", tokens["ucd"], {"status": "maybe"}, status=400)
    # Approved: public to read, still the owner's alone to write.
    assert call(client, "GET", one, tokens["anonymous"])["status"] == "approved"
    assert [p["id"] for p in call(client, "GET", url, tokens["anonymous"])] == [made["id"]]
    call(client, "PATCH", one, tokens["klu"], {"credits": "60"}, status=403)
    call(client, "POST", f"{one}/decision", tokens["klu"], {"status": "rejected"}, status=403)
    call(client, "PATCH", one, tokens["anonymous"], {"credits": "60"}, status=401)
    call(client, "PATCH", one, tokens["registrar"], {"credits": "60"}, status=403)
    assert session.get(Pathway, made["id"]).credits == Decimal(30)

    trail = [
        (e.action, e.outcome)
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.startswith("pathway."))
            .order_by(AuditEvent.id)
        )
    ]
    assert trail == [
        ("pathway.create", "refused"),
        ("pathway.create", "refused"),
        ("pathway.create", "refused"),
        ("pathway.create", "allowed"),
        ("pathway.create", "refused"),
        ("pathway.update", "refused"),
        ("pathway.decide", "refused"),
        ("pathway.update", "allowed"),
        ("pathway.update", "allowed"),
        ("pathway.update", "allowed"),
        ("pathway.decide", "allowed"),
        ("pathway.update", "refused"),
        ("pathway.decide", "refused"),
        ("pathway.update", "refused"),
        ("pathway.update", "refused"),
    ]


def test_api_answers_fit_the_documented_schema(client, world, tokens):
    from openapi_schema_validator import OAS30Validator

    made = call(
        client, "POST", "/api/v1/pathways", tokens["klu"], world.three_of_five(), status=201
    )
    document = client.get("/api/v1/openapi.json").get_json()
    listed = document["paths"]["/api/v1/pathways"]["get"]
    assert {p["name"] for p in listed["parameters"]} == {"institution", "programme", "status"}
    schema = listed["responses"]["200"]["content"]["application/json"]["schema"]
    validator = OAS30Validator({**schema, "components": document["components"]})
    assert list(validator.iter_errors(call(client, "GET", "/api/v1/pathways", tokens["klu"]))) == []
    assert made["credentials"][2]["title"] == "Supply Chain Design"
    for path, method in (
        ("/api/v1/pathways", "post"),
        ("/api/v1/pathways/{pathway_id}/decision", "post"),
    ):
        assert document["paths"][path][method]["requestBody"]["required"] is True


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    runner = CliRunner(env={"DATABASE_URL": url})

    def run(*args, code=0):
        result = runner.invoke(main, list(args))
        assert result.exit_code == code, (result.output, result.stderr)
        return result

    run("db", "upgrade")
    run("load-reference")
    engine = make_engine(url)
    with Session(engine) as session:
        run.world = World(session)
        session.commit()
    engine.dispose()
    return run


def test_the_command_line_creates_lists_shows_and_decides(cli, tmp_path):
    world = cli.world
    file = tmp_path / "pathway.json"
    file.write_text(json.dumps(world.three_of_five()))
    made = json.loads(cli("pathways", "create", str(file), "--json").output)
    assert (made["choose"], made["status"], len(made["credentials"])) == (3, "proposed", 5)
    again = cli("pathways", "create", str(file), code=2)
    assert "already has pathway 'KLU-SC-3OF5'" in again.stderr
    file.write_text(json.dumps(world.micromasters("ucd", choose=3)))
    refused = cli("pathways", "create", str(file), code=2)
    assert "choose: At most the number of credentials (1)" in refused.stderr

    text = cli("pathways", "show", str(made["id"])).output
    assert "KLU-SC-3OF5" in text and "any 3 of" in text and "Kühne Logistics University" in text
    assert json.loads(cli("pathways", "show", str(made["id"]), "--json").output) == made
    cli("pathways", "show", "999999", code=2)

    decided = json.loads(
        cli(
            "pathways",
            "decide",
            str(made["id"]),
            "--status",
            "approved",
            "--reason",
            "Board.",
            "--json",
        ).output
    )
    assert (decided["status"], decided["decided_by"]) == ("approved", "operator (command line)")
    cli("pathways", "decide", str(made["id"]), "--status", "maybe", code=2)

    listed = json.loads(cli("pathways", "list", "--status", "approved", "--json").output)
    assert [p["id"] for p in listed] == [made["id"]]
    programme = str(world.qualifications["MSC-SCM"])
    assert json.loads(cli("pathways", "list", "--programme", programme, "--json").output) == []
    text = cli("pathways", "list", "--institution", str(world.ids["klu"])).output
    assert f"#{made['id']} approved" in text and "12 ECTS" in text
    assert cli("pathways", "list", "--status", "rejected").output.strip() == "No pathways."
    cli("pathways", "list", "--status", "maybe", code=2)
