"""Private records (issue 16, finding 5): assessments, transfer evaluations, transcripts and
import jobs with their rejections are read only by the office that made or received them, its
other accounts, admins, and the ministry of its country where the law gives it that; to
everyone else, anonymous included, they answer exactly as an id that does not exist (404).

Every GET route of the application is listed here, either as public or as a read of a private
record that the matrix below runs with an allowed actor, a wrong tenant of each kind and
anonymous: a new GET route fails `test_every_get_route_is_public_or_a_tested_private_read`
until it is sorted into one or the other.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from mappings.models import Assessment
from registry.catalogue.models import Qualification, Transcript
from registry.core import accounts, permissions
from registry.core.audit import AuditEvent
from registry.core.permissions import Actor, may_read_private, owner_of
from registry.institutions.models import Institution
from tests.importers.test_elmo import course, document, report

PROBLEM = "application/problem+json"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "credential.json"

# GET routes anyone may read: published, reference or documentation data, and pages that show
# only what is public (drafts and impact reports are checked by their own services and tests).
PUBLIC_READS = {
    "/",
    "/login",
    "/frameworks",
    "/frameworks/<code>",
    "/frameworks/<code>/versions/<version>/impact",
    "/equivalents",
    "/credits",
    "/grades",
    "/compare",
    # The matcher's names for the assessment form, as public as GET /api/v1/institutions.
    "/institutions/suggest",
    "/compare.svg",
    # An institution's catalogue is public, and so are approved pathways (the pages show no
    # other).
    "/catalogue",
    "/pathways/where",
    "/pathways/toward",
    "/api/docs",
    "/api/docs/assets/<path:filename>",
    "/api/v1/openapi.json",
    "/static/<path:filename>",
    "/web/static/<path:filename>",
    "/api/v1/frameworks",
    "/api/v1/frameworks/<code>",
    "/api/v1/frameworks/<code>/levels",
    "/api/v1/frameworks/<code>/levels/<level>",
    "/api/v1/frameworks/<code>/versions/<version>",
    "/api/v1/equivalents",
    "/api/v1/credits/convert",
    "/api/v1/grades/convert",
    "/api/v1/institutions",
    "/api/v1/institutions/<int:institution_id>",
    "/api/v1/rules",
    "/api/v1/grade-tables",
    "/api/v1/grade-tables/<code>",
    "/api/v1/articulations",
    "/api/v1/articulations/<int:articulation_id>",
    # Approved pathways are public; proposed and rejected ones answer 404 to all but their
    # institution and admins: test_pathways.py.
    "/api/v1/pathways",
    "/api/v1/pathways/<int:pathway_id>",
    # Their CTDL export shows what these show: tests/importers/test_pathways_ctdl.py.
    "/api/v1/pathways/ctdl",
    "/api/v1/pathways/<int:pathway_id>/ctdl",
    # Approved pathways only, whoever asks: tests/mappings/test_pathways.py.
    "/api/v1/pathways/where",
    "/api/v1/pathways/toward",
    # The audit trail has its own rule (owners of the entity, admins): test_governance.py.
    "/api/v1/audit",
    # The review queue of ambiguous matches has its own rule (admins, the ministry of the
    # entry's country) and shows only the places the reader may read: test_match_reviews.py.
    "/api/v1/match-reviews",
    "/api/v1/match-reviews/<int:review_id>",
    # The registry's public key, and the check by a statement's code, which proves its holder
    # was given the statement: test_statements.py.
    "/api/v1/keys",
    "/.well-known/did.json",
    "/check",
    "/check/<code>",
    "/check/<code>/statement.jwt",
    "/check/<code>/statement.json",
}

# Each private read: the record it shows, and its URL for a record's id.
PRIVATE_READS = {
    "/api/v1/assessments/<int:assessment_id>": ("assessment", "/api/v1/assessments/{}"),
    "/api/v1/transfers/<int:evaluation_id>": ("evaluation", "/api/v1/transfers/{}"),
    "/api/v1/transfers/<int:evaluation_id>/elmo": ("evaluation", "/api/v1/transfers/{}/elmo"),
    "/api/v1/imports/<int:job_id>": ("job", "/api/v1/imports/{}"),
    "/api/v1/pathway-evaluations/<int:evaluation_id>": (
        "pathway_evaluation",
        "/api/v1/pathway-evaluations/{}",
    ),
    "/api/v1/imports/<int:job_id>/errors.csv": ("job", "/api/v1/imports/{}/errors.csv"),
    "/api/v1/verifications/<int:verification_id>": ("verification", "/api/v1/verifications/{}"),
    # Signed statements, read as their records are.
    "/api/v1/assessments/<int:assessment_id>/credential": (
        "assessment",
        "/api/v1/assessments/{}/credential",
    ),
    "/api/v1/transfers/<int:evaluation_id>/credential": (
        "evaluation",
        "/api/v1/transfers/{}/credential",
    ),
    "/api/v1/pathway-evaluations/<int:evaluation_id>/credential": (
        "pathway_evaluation",
        "/api/v1/pathway-evaluations/{}/credential",
    ),
}

# The pages behind a sign-in, each with the module whose tests refuse it to the wrong role and
# to another tenant (crafted URLs included).
GUARDED_PAGES = {
    "/drafts": "test_web_ministry.py",
    "/frameworks/<code>/audit": "test_web_ministry.py",
    "/frameworks/<code>/levels/<level>/edit": "test_web_ministry.py",
    "/frameworks/<code>/levels/<level>/links": "test_web_ministry.py",
    "/frameworks/<code>/versions/<version>/levels/new": "test_web_ministry.py",
    "/assessments": "test_web_desk.py",
    "/assessments/new": "test_web_desk.py",
    "/assessments/<int:assessment_id>": "test_web_desk.py",
    "/assessments/<int:assessment_id>/statement": "test_web_desk.py",
    "/assessments/<int:assessment_id>/statement.pdf": "test_web_desk.py",
    # The forms of an import and a batch, and the pages of private records and the lists that
    # show only the reader's own.
    "/imports": "test_web_workspace.py",
    "/imports/new": "test_web_workspace.py",
    "/imports/<int:job_id>": "test_web_workspace.py",
    "/imports/<int:job_id>/status.json": "test_web_workspace.py",
    "/imports/<int:job_id>/errors.csv": "test_web_workspace.py",
    "/transfers": "test_web_workspace.py",
    "/transfers/<int:evaluation_id>": "test_web_workspace.py",
    "/batch": "test_web_workspace.py",
    "/match-reviews": "test_web_reviews.py",
    "/match-reviews/<int:review_id>": "test_web_reviews.py",
    # An institution's own pathways (drafts included), their form, and evaluations.
    "/pathways": "test_web_pathways.py",
    "/pathways/new": "test_web_pathways.py",
    "/pathways/evaluate": "test_web_pathways.py",
    "/pathways/evaluations/<int:evaluation_id>": "test_web_pathways.py",
}


def test_every_get_route_is_public_or_a_tested_private_read(app):
    routes = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert not PUBLIC_READS & set(PRIVATE_READS)
    assert not (PUBLIC_READS | set(PRIVATE_READS)) & set(GUARDED_PAGES)
    assert routes == PUBLIC_READS | set(PRIVATE_READS) | set(GUARDED_PAGES)
    for route, module in GUARDED_PAGES.items():
        tests = (Path(__file__).parent / module).read_text()
        parts = [part for part in re.split(r"<[^>]+>", route) if part.strip("/")]
        assert all(part in tests for part in parts), f"{module} never requests {route}"


# --- the tenants ----------------------------------------------------------------------------


@pytest.fixture
def tenants(session):
    """Two institutions of Ireland (A, B), and one bearer header per kind of caller."""
    made = {}
    for key, name in (("a", "Private Test University A"), ("b", "Private Test University B")):
        institution = Institution(name=name, name_key=name.lower(), country="IE")
        session.add(institution)
        session.flush()
        made[key] = institution.id
    # A programme of A's catalogue, for pathway evaluations.
    programme = Qualification(
        institution_id=made["a"],
        country="IE",
        code="MSC-DA",
        title="MSc Data Analytics",
        title_key="msc data analytics",
    )
    session.add(programme)
    session.flush()
    made["programme_a"] = programme.id
    specs = {
        "inst-a": ("institution", [str(made["a"])]),
        "inst-a-2": ("institution", [str(made["a"])]),  # another account of the same office
        "inst-b": ("institution", [str(made["b"])]),
        "ministry-ie": ("ministry", ["IE"]),
        "ministry-de": ("ministry", ["DE"]),
        "registrar": ("registrar", []),
        "registrar-2": ("registrar", []),
        "admin": ("admin", []),
    }
    headers = {"anonymous": {}}
    for key, (role, scopes) in specs.items():
        account = accounts.get_or_create_account(session, f"private-{key}", role, scopes)
        headers[key] = {"Authorization": f"Bearer {accounts.create_token(session, account)[1]}"}
    session.commit()
    made["headers"] = headers
    return made


def assess(client, headers):
    body = json.loads(EXAMPLE.read_text())
    response = client.post("/api/v1/assessments?target=DE", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def evaluate(client, headers, institution_id, transcript):
    response = client.post(
        "/api/v1/transfers",
        json={"transcript": transcript, "institution": institution_id, "on": "2024-09-01"},
        headers=headers,
    )
    return response


INLINE = {
    "issuer": {"name": "University of Warsaw", "country": "PL", "identifiers": {}},
    "learner": {"given_names": "Ada", "family_name": "Byron"},
    "results": [
        {
            "code": "C1",
            "title": "Linear algebra",
            "credits": "6",
            "credit_system": "ECTS",
            "status": "passed",
            "ended_on": "2024-02-01",
        }
    ],
}


def import_elmo(client, headers, data, options=None):
    form = {"format": "elmo", "file": (io.BytesIO(data), "transcripts.xml")}
    if options is not None:
        form["options"] = json.dumps(options)
    response = client.post(
        "/api/v1/imports", data=form, headers=headers, content_type="multipart/form-data"
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response.get_json()


# One record of each kind, made by its owner; who may read it, and who may not (each kind of
# wrong tenant, and anonymous).
CASES = {
    # A registrar's office is its account: another registrar, institutions, ministries: 404.
    "assessment-by-registrar": (
        "assessment",
        "registrar",
        {"registrar", "admin"},
        {"registrar-2", "inst-a", "ministry-ie", "anonymous"},
    ),
    # An institution's assessment is its office's, whichever account made it.
    "assessment-by-institution": (
        "assessment",
        "inst-a",
        {"inst-a", "inst-a-2", "admin"},
        {"inst-b", "ministry-ie", "ministry-de", "registrar", "anonymous"},
    ),
    "assessment-by-ministry": (
        "assessment",
        "ministry-ie",
        {"ministry-ie", "admin"},
        {"ministry-de", "inst-a", "registrar", "anonymous"},
    ),
    "evaluation": (
        "evaluation",
        "inst-a",
        {"inst-a", "inst-a-2", "admin"},
        {"inst-b", "ministry-ie", "ministry-de", "registrar", "anonymous"},
    ),
    "job": (
        "job",
        "inst-a",
        {"inst-a", "inst-a-2", "admin"},
        {"inst-b", "ministry-ie", "ministry-de", "registrar", "anonymous"},
    ),
    # A stored verification is its office's, as an assessment is.
    "verification-by-registrar": (
        "verification",
        "registrar",
        {"registrar", "admin"},
        {"registrar-2", "inst-a", "ministry-ie", "anonymous"},
    ),
    "verification-by-institution": (
        "verification",
        "inst-a",
        {"inst-a", "inst-a-2", "admin"},
        {"inst-b", "ministry-ie", "ministry-de", "registrar", "anonymous"},
    ),
    # The programme's institution's, whichever of its accounts made it.
    "pathway_evaluation": (
        "pathway_evaluation",
        "inst-a",
        {"inst-a", "inst-a-2", "admin"},
        {"inst-b", "ministry-ie", "ministry-de", "registrar", "anonymous"},
    ),
}


def make(client, tenants, kind, who):
    headers = tenants["headers"][who]
    if kind == "assessment":
        return assess(client, headers)
    if kind == "evaluation":
        response = evaluate(client, headers, tenants["a"], INLINE)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["id"]
    if kind == "pathway_evaluation":
        credential = {
            "title": "Certificate in Data Analytics",
            "institution": {"name": "University of Warsaw", "country": "PL"},
            "awarded_on": "2024-02-01",
        }
        response = client.post(
            "/api/v1/pathway-evaluations",
            json={"programme": tenants["programme_a"], "credentials": [credential]},
            headers=headers,
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["id"]
    if kind == "verification":
        response = client.post(
            "/api/v1/verifications",
            data={"file": (io.BytesIO(document(report(course("A")))), "t.xml")},
            headers=headers,
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["id"]
    # An import with one rejected record, so that its rejections are there to be read.
    bad = course("B", before="<iscedCode>x</iscedCode>")
    job = import_elmo(client, headers, document(report(course("A"), bad)))
    assert job["rejected"] == 1
    return job["id"]


@pytest.mark.parametrize(
    "case, route",
    [
        (case, route)
        for case, (kind, *_) in CASES.items()
        for route, (shows, _) in PRIVATE_READS.items()
        if shows == kind
    ],
)
def test_a_private_record_is_read_by_its_owner_and_admins_only(client, tenants, case, route):
    kind, maker, allowed, refused = CASES[case]
    url = PRIVATE_READS[route][1]
    record = make(client, tenants, kind, maker)
    unknown = client.get(url.format(999_999), headers=tenants["headers"]["admin"])
    assert unknown.status_code == 404
    for who in sorted(allowed):
        response = client.get(url.format(record), headers=tenants["headers"][who])
        assert response.status_code == 200, (who, response.get_data(as_text=True))
    for who in sorted(refused):
        response = client.get(url.format(record), headers=tenants["headers"][who])
        assert response.status_code == 404 and response.mimetype == PROBLEM, who
        # Exactly the answer of an id that does not exist: nothing tells them apart.
        nothing = client.get(url.format(999_999), headers=tenants["headers"][who]).get_json()
        assert response.get_json() == {
            **nothing,
            "detail": nothing["detail"].replace("999999", str(record)),
            "id": record,
        }


def test_reading_an_assessment_by_its_number_without_a_token_finds_nothing(client, tenants):
    """The reproduction: `curl $B/assessments/1` answered every stored assessment, inputs
    included, to anyone."""
    first = assess(client, tenants["headers"]["registrar"])
    for number in range(1, first + 1):
        response = client.get(f"/api/v1/assessments/{number}")
        assert response.status_code == 404 and "inputs" not in response.get_json()


def test_the_ministry_reads_its_institutions_records_only_where_the_law_gives_it_that(
    client, tenants, monkeypatch
):
    assessment = make(client, tenants, "assessment", "inst-a")
    evaluation = make(client, tenants, "evaluation", "inst-a")
    job = make(client, tenants, "job", "inst-a")
    urls = [
        f"/api/v1/assessments/{assessment}",
        f"/api/v1/transfers/{evaluation}",
        f"/api/v1/imports/{job}",
    ]
    headers = tenants["headers"]
    assert {client.get(url, headers=headers["ministry-ie"]).status_code for url in urls} == {404}
    monkeypatch.setitem(permissions.LAWFUL_OVERSIGHT, "IE", "a law of Ireland (test)")
    assert {client.get(url, headers=headers["ministry-ie"]).status_code for url in urls} == {200}
    # Another country's ministry, and the law of a country the record is not of, give nothing.
    assert {client.get(url, headers=headers["ministry-de"]).status_code for url in urls} == {404}
    monkeypatch.setitem(permissions.LAWFUL_OVERSIGHT, "DE", "a law of Germany (test)")
    assert {client.get(url, headers=headers["ministry-de"]).status_code for url in urls} == {404}
    # Reading is not deciding: the ministry decides nothing on the institution's evaluation.
    decision = {"result_index": 0, "target_course_ids": [1], "credits_granted": "6"}
    refused = client.post(
        f"/api/v1/transfers/{evaluation}/decisions", json=decision, headers=headers["ministry-ie"]
    )
    assert refused.status_code == 403


# --- transcripts: used only by the institution that received them -----------------------------


def test_a_transcript_is_used_only_by_the_institution_that_received_it(client, session, tenants):
    """The reproduction: a transcript imported without `--received-by` was usable by any
    institution, and the ELMO export of its evaluation showed the learner's name."""
    headers = tenants["headers"]
    # An institution's import is received by that institution, without naming it.
    mine = import_elmo(client, headers["inst-a"], document(report(course("A"))))
    # An admin's import naming no receiver is the registry's own: admins only.
    registrys = import_elmo(client, headers["admin"], document(report(course("R", title="R"))))
    assert mine["inserted"] == registrys["inserted"] == 1
    rows = session.execute(
        select(Transcript.id, Transcript.received_by_institution_id).order_by(Transcript.id)
    ).all()
    assert [receiver for _, receiver in rows] == [tenants["a"], None]
    theirs, registry_only = rows[0][0], rows[1][0]

    def unknown_to(who, transcript, institution):
        response = evaluate(client, headers[who], institution, transcript)
        nothing = evaluate(client, headers[who], institution, 999_999)
        assert response.status_code == nothing.status_code == 400, who
        assert response.get_json()["errors"] == {"transcript": [f"No transcript {transcript}."]}
        assert nothing.get_json()["errors"] == {"transcript": ["No transcript 999999."]}

    # Another institution cannot use it, nor anyone the registry's own but an admin.
    unknown_to("inst-b", theirs, tenants["b"])
    unknown_to("inst-a", registry_only, tenants["a"])
    unknown_to("inst-b", registry_only, tenants["b"])
    # The receiver uses it; its evaluation, with the learner's name in its ELMO export, is its.
    made = evaluate(client, headers["inst-a-2"], tenants["a"], theirs)
    assert made.status_code == 201, made.get_data(as_text=True)
    export = client.get(
        f"/api/v1/transfers/{made.get_json()['id']}/elmo", headers=headers["inst-a"]
    )
    assert b"Byron" in export.data
    other = client.get(f"/api/v1/transfers/{made.get_json()['id']}/elmo", headers=headers["inst-b"])
    assert other.status_code == 404 and b"Byron" not in other.data
    # Even an admin evaluates a transcript only for the institution that received it.
    response = evaluate(client, headers["admin"], tenants["b"], theirs)
    assert response.status_code == 403
    assert evaluate(client, headers["admin"], tenants["b"], registry_only).status_code == 201


def test_an_institution_imports_transcripts_only_as_their_receiver(client, tenants):
    headers = tenants["headers"]
    data = document(report(course("A")))
    form = {
        "format": "elmo",
        "file": (io.BytesIO(data), "x.xml"),
        "options": json.dumps({"received_by": tenants["b"]}),
    }
    refused = client.post(
        "/api/v1/imports", data=form, headers=headers["inst-a"], content_type="multipart/form-data"
    )
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    for who in ("registrar", "ministry-ie"):
        form["file"] = (io.BytesIO(data), "x.xml")
        response = client.post(
            "/api/v1/imports", data=form, headers=headers[who], content_type="multipart/form-data"
        )
        assert response.status_code == 403, who
    form["file"] = (io.BytesIO(data), "x.xml")
    assert client.post("/api/v1/imports", data=form).status_code == 401


# --- writes on private records -------------------------------------------------------------------


def test_a_decision_on_anothers_evaluation_is_a_404_and_audited(client, session, tenants):
    evaluation = make(client, tenants, "evaluation", "inst-a")
    decision = {"result_index": 0, "target_course_ids": [1], "credits_granted": "6"}
    url = f"/api/v1/transfers/{evaluation}/decisions"
    for who in ("inst-b", "registrar", "ministry-de", "anonymous"):
        response = client.post(url, json=decision, headers=tenants["headers"][who])
        nothing = client.post(
            "/api/v1/transfers/999999/decisions", json=decision, headers=tenants["headers"][who]
        )
        assert response.status_code == nothing.status_code == 404, who
        assert response.get_json()["detail"] == f"No transfer evaluation {evaluation}."
        assert set(response.get_json()) == set(nothing.get_json())
    refusals = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity == f"transfer_evaluation:{evaluation}",
            AuditEvent.outcome == "refused",
        )
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor) for e in refusals] == [
        ("transfer.decide", "private-inst-b"),
        ("transfer.decide", "private-registrar"),
        ("transfer.decide", "private-ministry-de"),
        ("transfer.decide", "anonymous"),
    ]


# --- the rule itself, and the migration ------------------------------------------------------


def test_the_rule():
    registrar = Actor("r", "registrar", frozenset(), account_id=1)
    other_registrar = Actor("r2", "registrar", frozenset(), account_id=2)
    institution = Actor("i", "institution", frozenset({"7"}), account_id=3)
    colleague = Actor("i2", "institution", frozenset({"7"}), account_id=4)
    ministry = Actor("m", "ministry", frozenset({"IE"}), account_id=5)
    admin = Actor("a", "admin", frozenset(), account_id=6)
    anonymous = Actor("anonymous", None)
    assert may_read_private(registrar, owner_of(registrar))
    assert not may_read_private(other_registrar, owner_of(registrar))
    assert may_read_private(colleague, owner_of(institution))
    assert not may_read_private(ministry, owner_of(institution))
    assert not may_read_private(ministry, owner_of(institution), frozenset({"IE"}))  # no law
    assert may_read_private(admin, owner_of(institution)) and may_read_private(admin, None)
    for actor in (registrar, institution, ministry, anonymous):
        assert not may_read_private(actor, None)  # without an owner: admins only
    assert not may_read_private(anonymous, owner_of(anonymous))
    # An owner that says no account does not match an actor without one.
    assert not may_read_private(Actor("x", "registrar"), {"role": "registrar", "account_id": None})


def test_the_migration_gives_old_assessments_their_makers_owner(tmp_path):
    from registry.core.db import make_engine
    from registry.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    upgrade(url, "c1e3a5b7d9f2")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO account (id, name, role, scopes) VALUES "
                "(7, 'anna', 'registrar', '[]'), (8, 'uni', 'institution', '[\"42\"]')"
            )
        )
        for actor in ("anna", "uni", "operator (command line)"):
            connection.execute(
                text(
                    "INSERT INTO assessment (actor, inputs, target, inputs_digest, "
                    "target_framework, decision, confidence, result, framework_versions) "
                    "VALUES (:actor, '{}', 'DE', 'x', 'DE-DQR', 'recognised', '1', '{}', '{}')"
                ),
                {"actor": actor},
            )
    upgrade(url)
    with engine.connect() as connection:
        owners = dict(connection.execute(select(Assessment.actor, Assessment.owner)).all())
    engine.dispose()
    assert owners == {
        "anna": {"role": "registrar", "scopes": [], "account_id": 7},
        "uni": {"role": "institution", "scopes": ["42"], "account_id": 8},
        "operator (command line)": None,  # no account: admins only
    }
