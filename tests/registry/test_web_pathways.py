"""Pathways in the browser's shape (a session login, forms with their CSRF token): "Where does
this count?" and "What counts toward this programme?" for anyone; an institution's own pathways,
proposed through the form (credentials found by a search posted with it), approved and
rejected; an evaluation toward a programme from a credential file, stored on a page of its own;
and nothing private of one institution reachable by another, whatever the URL or the form.

The institutions, catalogues and agreements are test data written for these tests: a
micro-credential provider in Ireland whose "Supply Chain Fundamentals" counts toward a logistics
master's in Germany and another in Portugal, for different credits.
"""

import io
import json
import re

import pytest
from sqlalchemy import select

from registry.catalogue.pathways import services as pathway_services
from registry.catalogue.pathways.models import Pathway, PathwayEvaluation
from registry.catalogue.schemas import CourseRecordSchema, QualificationRecordSchema
from registry.catalogue.services import upsert_courses, upsert_qualifications
from registry.core.accounts import get_or_create_account, set_password
from registry.core.permissions import OPERATOR
from registry.institutions.models import Institution
from tests.registry.test_web import PASSWORD, csrf_token, html, sign_in

BREMEN = "Registry office, Hochschule Bremen (pathway test)"
PORTO = "Registry office, Universidade do Porto (pathway test)"
REGISTRAR = "Admissions desk (pathway test)"
INSTITUTIONS = {
    "academy": ("Supply Chain Academy Dublin (test)", "IE", "recognised"),
    "bremen": ("Hochschule Bremen (test)", "DE", "recognised"),
    "porto": ("Universidade do Porto (test)", "PT", "recognised"),
}
# key: (institution, code, title, credits, qualification type)
QUALIFICATIONS = {
    "fundamentals": ("academy", "SC01", "Supply Chain Fundamentals", "6", "micro_credential"),
    "analytics": ("academy", "SC02", "Supply Chain Analytics", "6", "micro_credential"),
    "bremen_msc": ("bremen", "MSC-LOG", "Master of Science in Logistics", "120", "master"),
    "porto_msc": ("porto", "MEL", "Mestrado em Engenharia Logística", "120", "master"),
}
COURSES = {"procurement": ("academy", "SC10", "Procurement Basics", "5")}


def post(client, page: str, action: str, data=None, **fields):
    return client.post(
        action, data={**(data or {}), **fields, "csrf_token": csrf_token(client.get(page))}
    )


def sign_out(client):
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/"))})


@pytest.fixture
def world(session):
    ids = {}
    for key, (name, country, status) in INSTITUTIONS.items():
        institution = Institution(name=name, name_key=name.lower(), country=country, status=status)
        session.add(institution)
        session.flush()
        ids[key] = institution.id
    outcomes = upsert_qualifications(
        session,
        [
            QualificationRecordSchema().load(
                {
                    "institution_id": ids[owner],
                    "code": code,
                    "title": title,
                    "credits": credits,
                    "credit_system": "ECTS",
                    "qualification_type": kind,
                }
            )
            for owner, code, title, credits, kind in QUALIFICATIONS.values()
        ],
    )
    ids.update({key: o.item.id for key, o in zip(QUALIFICATIONS, outcomes, strict=True)})
    outcomes = upsert_courses(
        session,
        [
            CourseRecordSchema().load(
                {
                    "institution_id": ids[owner],
                    "code": code,
                    "title": title,
                    "credits": credits,
                    "credit_system": "ECTS",
                }
            )
            for owner, code, title, credits in COURSES.values()
        ],
    )
    ids.update({key: o.item.id for key, o in zip(COURSES, outcomes, strict=True)})
    for name, role, scopes in [
        (BREMEN, "institution", [str(ids["bremen"])]),
        (PORTO, "institution", [str(ids["porto"])]),
        (REGISTRAR, "registrar", []),
    ]:
        set_password(get_or_create_account(session, name, role, scopes), PASSWORD)
    session.commit()
    return ids


def agreement(session, ids, owner: str, programme: str, rule_id: str, status: str, **terms):
    """A pathway stored through the service, as the operator; approved or rejected after."""
    record = {
        "rule_id": rule_id,
        "institution_id": ids[owner],
        "title": f"{rule_id} (test agreement)",
        "programme_id": ids[programme],
        "credentials": [{"qualification_id": ids["fundamentals"]}],
        "credits": "6",
        "credit_system": "ECTS",
        **terms,
    }
    pathway = pathway_services.create_pathway(session, OPERATOR, record)
    if status != "proposed":
        pathway_services.decide(session, OPERATOR, pathway.id, {"status": status, "reason": None})
    session.commit()
    return pathway.id


@pytest.fixture
def agreements(session, world):
    return {
        "bremen": agreement(
            session,
            world,
            "bremen",
            "bremen_msc",
            "HB-SCM-2026",
            "approved",
            credentials=[
                {"qualification_id": world["fundamentals"]},
                {"qualification_id": world["analytics"]},
                {"course_id": world["procurement"]},
            ],
            choose=2,
            credits="12",
            supervision="supervised_identity_verified",
            max_total_credits="30",
            source="https://www.hs-bremen.example/anerkennung/scm-2026.pdf",
        ),
        "porto": agreement(
            session,
            world,
            "porto",
            "porto_msc",
            "UP-LOG-7",
            "approved",
            credits="5",
            min_grade="14",
            min_grade_scale="FR-0-20",
            max_age_months=36,
            source="Despacho n.º 7/2026, Conselho Científico",
        ),
        "draft": agreement(
            session, world, "bremen", "bremen_msc", "HB-DRAFT", "proposed", credits="3"
        ),
    }


# --- for everyone ----------------------------------------------------------------------------


def test_where_does_it_count_finds_the_credential_then_its_pathways(client, world, agreements):
    search = html(client.get("/pathways/where?q=supply+chain"))
    assert "2 entries found." in search
    assert (
        "Supply Chain Fundamentals" in search
        and "Supply Chain Academy Dublin (test) (IE)" in search
    )
    assert f'href="/pathways/where?unit=ECTS&amp;qualification={world["fundamentals"]}"' in search
    courses = html(client.get("/pathways/where?q=procurement&kind=courses"))
    assert "SC10" in courses and f"course={world['procurement']}" in courses
    assert "Type at least two letters" in html(client.get("/pathways/where?q=s"))

    page = html(client.get(f"/pathways/where?qualification={world['fundamentals']}"))
    assert "Where Supply Chain Fundamentals counts" in page
    assert "2 approved pathways valid today accept it." in page
    # Two countries, two institutions, different credits; the proposed one is nobody's business.
    assert "Master of Science in Logistics" in page and "Hochschule Bremen (test) (DE)" in page
    assert (
        "Mestrado em Engenharia Logística" in page and "Universidade do Porto (test) (PT)" in page
    )
    assert "HB-DRAFT" not in page
    assert "any 2 of these 3" in page
    assert "Besides it, 1 more of the others is needed. (SC02, SC10)" in page
    assert "an assessment at least supervised, with the identity verified" in page
    assert "a grade of at least 14 on the scale FR-0-20" in page
    assert "awarded at most 36 months before the evaluation" in page
    assert "at most 30 ECTS toward the programme from pathways in all" in page
    assert '<a href="https://www.hs-bremen.example/anerkennung/scm-2026.pdf"' in page
    assert "<cite>Despacho n.º 7/2026, Conselho Científico</cite>" in page

    # Another unit: the credits converted, with the method named.
    cats = html(client.get(f"/pathways/where?qualification={world['fundamentals']}&unit=GB-CATS"))
    assert "12 ECTS = <strong>24 GB-CATS</strong>" in cats
    assert "1 approved pathway valid today accepts it." in html(
        client.get(f"/pathways/where?course={world['procurement']}")
    )


def test_what_counts_toward_a_programme(client, world, agreements):
    search = html(client.get("/pathways/toward?q=logistic"))
    assert "Master of Science in Logistics" in search and "Supply Chain Fundamentals" not in search
    page = html(client.get(f"/pathways/toward?programme={world['bremen_msc']}"))
    assert "What counts toward Master of Science in Logistics" in page
    assert "1 approved pathway valid today counts toward it." in page
    assert "SC01" in page and "SC02" in page and "SC10" in page and "HB-DRAFT" not in page


def test_bad_questions_are_answered_with_a_message(client, world, agreements):
    for url, status, text in [
        ("/pathways/where?qualification=abc", 400, "named by its number"),
        ("/pathways/where?qualification=99999999", 404, "No qualification 99999999."),
        ("/pathways/where?course=99999999", 404, "No course 99999999."),
        ("/pathways/toward?programme=1.5", 400, "named by its number"),
        ("/pathways/toward?programme=99999999", 404, "No programme 99999999."),
        (f"/pathways/where?qualification={world['fundamentals']}&unit=PARSECS", 400, "PARSECS"),
        ("/pathways/where?q=" + "x" * 5000, 200, "Nothing found."),
    ]:
        response = client.get(url)
        assert response.status_code == status, url
        assert text in html(response), url


# --- the institution's own -------------------------------------------------------------------


def test_an_institution_proposes_a_pathway_and_approves_it(client, session, world, agreements):
    sign_in(client, BREMEN)
    home = html(client.get("/"))
    for label, url in [
        ("Our pathways", "/pathways"),
        ("Evaluate toward a programme", "/pathways/evaluate"),
        ("Where does this count?", "/pathways/where"),
    ]:
        assert f'<a href="{url}">{label}</a>' in home
    own = html(client.get("/pathways"))
    assert "Pathways of Hochschule Bremen (test)" in own
    assert "HB-DRAFT" in own and "HB-SCM-2026" in own and "UP-LOG-7" not in own

    fields = {
        "rule_id": "HB-PROC-1",
        "title": "Procurement toward the logistics master",
        "programme_id": str(world["bremen_msc"]),
        "credits": "5",
        "credit_system": "ECTS",
        "max_age_months": "24",
        "source": "Prüfungsausschuss, Beschluss 2026/14",
    }
    # The search posted with the form keeps what was typed and offers what it finds.
    found = post(
        client,
        "/pathways/new",
        "/pathways/new",
        fields,
        step="search",
        search="procurement",
        search_kind="courses",
    )
    page = html(found)
    assert found.status_code == 200 and "1 entry found." in page
    assert f'value="course:{world["procurement"]}"' in page
    assert 'value="HB-PROC-1"' in page and "Beschluss 2026/14" in page
    response = post(
        client,
        "/pathways/new",
        "/pathways/new",
        fields,
        step="propose",
        credential=f"course:{world['procurement']}",
    )
    assert response.status_code == 302, html(response)
    made = session.scalar(select(Pathway).where(Pathway.rule_id == "HB-PROC-1"))
    assert made.status == "proposed" and made.institution_id == world["bremen"]
    assert [c.course_id for c in made.credentials] == [world["procurement"]]
    assert "proposed" in html(client.get("/pathways"))
    where = f"/pathways/where?course={world['procurement']}"
    assert "Procurement toward the logistics master" not in html(client.get(where))

    approved = post(client, "/pathways", f"/pathways/{made.id}/decision", status="approved")
    assert approved.status_code == 302
    assert "approved: it counts from now on" in html(client.get(approved.headers["Location"]))
    session.expire_all()
    assert session.get(Pathway, made.id).decided_by == BREMEN
    assert "Procurement toward the logistics master" in html(client.get(where))

    rejected = post(
        client,
        "/pathways",
        f"/pathways/{agreements['draft']}/decision",
        status="rejected",
        reason="Covered by HB-SCM-2026.",
    )
    assert rejected.status_code == 302
    listing = html(client.get("/pathways"))
    assert "Covered by HB-SCM-2026." in listing and "status-rejected" in listing


def test_a_bad_proposal_comes_back_with_its_messages(client, session, world, agreements):
    sign_in(client, BREMEN)
    response = post(
        client,
        "/pathways/new",
        "/pathways/new",
        rule_id="HB-BAD",
        programme_id=str(world["porto_msc"]),
        credits="-3",
        credit_system="ECTS",
        choose="4",
        min_grade="14",
        credential=f"qualification:{world['fundamentals']}",
        valid_from="2026-13-01",
        step="propose",
    )
    page = html(response)
    assert response.status_code == 400
    assert 'id="f-title-error"' in page and 'id="f-credits-error"' in page
    assert 'id="f-valid_from-error"' in page
    # Kept as typed, the chosen credential still ticked.
    assert 'value="HB-BAD"' in page
    assert f'value="qualification:{world["fundamentals"]}" checked' in page
    assert session.scalar(select(Pathway).where(Pathway.rule_id == "HB-BAD")) is None
    # Checks that need the database: the programme is another's, k exceeds n, no scale.
    response = post(
        client,
        "/pathways/new",
        "/pathways/new",
        rule_id="HB-BAD",
        title="Bad",
        programme_id=str(world["porto_msc"]),
        credits="3",
        credit_system="ECTS",
        choose="4",
        min_grade="14",
        credential=f"qualification:{world['fundamentals']}",
        step="propose",
    )
    page = html(response)
    assert response.status_code == 400
    assert 'id="f-programme_id-error"' in page and 'id="f-choose-error"' in page
    assert 'id="f-min_grade' in page
    assert session.scalar(select(Pathway).where(Pathway.rule_id == "HB-BAD")) is None
    # Nothing chosen, and a crafted credential value that the form never offers.
    response = post(
        client,
        "/pathways/new",
        "/pathways/new",
        rule_id="HB-BAD",
        title="Bad",
        programme_id=str(world["bremen_msc"]),
        credits="3",
        credit_system="ECTS",
        credential="wizard:7",
        step="propose",
    )
    assert response.status_code == 400 and 'id="f-credential"' in html(response)
    unknown = post(
        client,
        "/pathways",
        f"/pathways/{agreements['draft']}/decision",
        status="pending",
    )
    assert unknown.status_code == 400


def test_the_wrong_role_and_anonymous_are_refused(client, world, agreements):
    for url in ("/pathways", "/pathways/new", "/pathways/evaluate"):
        assert client.get(url).status_code == 401, url
    sign_in(client, REGISTRAR)
    assert client.get("/pathways").status_code == 403
    assert client.get("/pathways/new").status_code == 403
    assert "Our pathways" not in html(client.get("/"))
    decision = post(client, "/", f"/pathways/{agreements['draft']}/decision", status="approved")
    assert decision.status_code == 404


def test_another_institution_can_neither_see_nor_decide_nor_propose(
    client, session, world, agreements
):
    sign_in(client, PORTO)
    own = html(client.get("/pathways"))
    assert "Pathways of Universidade do Porto (test)" in own
    assert "UP-LOG-7" in own and "HB-" not in own
    # Bremen's list, asked for by its id: only what is public.
    theirs = html(client.get(f"/pathways?institution={world['bremen']}"))
    assert "HB-SCM-2026" in theirs and "HB-DRAFT" not in theirs
    assert "only the approved ones" in theirs and "Reject HB-SCM-2026" not in theirs
    hidden = post(
        client, "/pathways", f"/pathways/{agreements['draft']}/decision", status="approved"
    )
    assert hidden.status_code == 404
    public = post(
        client, "/pathways", f"/pathways/{agreements['bremen']}/decision", status="rejected"
    )
    assert public.status_code == 403
    crafted = post(
        client,
        "/pathways/new",
        "/pathways/new",
        institution=str(world["bremen"]),
        rule_id="UP-IN-HB",
        title="Written into Bremen's catalogue",
        programme_id=str(world["bremen_msc"]),
        credits="3",
        credit_system="ECTS",
        credential=f"qualification:{world['fundamentals']}",
        step="propose",
    )
    assert crafted.status_code == 403
    session.expire_all()
    assert session.get(Pathway, agreements["draft"]).status == "proposed"
    assert session.get(Pathway, agreements["bremen"]).status == "approved"
    assert session.scalar(select(Pathway).where(Pathway.rule_id == "UP-IN-HB")) is None


# --- evaluations -----------------------------------------------------------------------------

LEARNER = {
    "title": "Supply Chain Fundamentals",
    "institution": {"name": "Supply Chain Academy Dublin (test)", "country": "IE"},
    "awarded_on": "2025-06-30",
    "micro_credential": {"assessment_supervision": "supervised_identity_verified"},
}


def evaluate(client, files, **fields):
    return client.post(
        "/pathways/evaluate",
        data={
            "csrf_token": csrf_token(client.get("/pathways/evaluate")),
            "file": [(io.BytesIO(body), name) for name, body in files],
            **fields,
        },
        content_type="multipart/form-data",
    )


def test_an_evaluation_is_shown_step_by_step_and_stored(client, session, world, agreements):
    sign_in(client, BREMEN)
    form = html(client.get("/pathways/evaluate"))
    assert f'<option value="{world["bremen_msc"]}">MSC-LOG' in form
    analytics = {
        **LEARNER,
        "title": "Supply Chain Analytics",
        "qualification_id": world["analytics"],
    }
    held = json.dumps([{**LEARNER, "qualification_id": world["fundamentals"]}, analytics])
    response = evaluate(
        client,
        [("learner.json", held.encode())],
        format="json",
        programme=str(world["bremen_msc"]),
        on="2026-09-01",
    )
    assert response.status_code == 302, html(response)
    url = response.headers["Location"]
    evaluation_id = int(re.search(r"/pathways/evaluations/(\d+)$", url).group(1))
    stored = session.get(PathwayEvaluation, evaluation_id)
    assert stored.institution_id == world["bremen"] and stored.programme_id == world["bremen_msc"]
    page = html(client.get(url))
    assert "Master of Science in Logistics" in page and "HB-SCM-2026" in page
    assert stored.inputs_digest in page
    assert "supervised_identity_verified" in page
    assert "12" in page
    listed = html(client.get("/pathways/evaluate"))
    assert f'href="/pathways/evaluations/{evaluation_id}"' in listed

    # Another institution, a registrar and anonymous: as if it did not exist.
    sign_out(client)
    assert client.get(url).status_code == 404
    sign_in(client, PORTO)
    assert client.get(url).status_code == 404
    assert f"/pathways/evaluations/{evaluation_id}" not in html(client.get("/pathways/evaluate"))
    assert client.get(f"/pathways/evaluate?institution={world['bremen']}").status_code == 404
    refused = evaluate(
        client,
        [("learner.json", held.encode())],
        format="json",
        programme=str(world["bremen_msc"]),
    )
    assert refused.status_code in (403, 404)
    sign_out(client)
    sign_in(client, REGISTRAR)
    assert client.get(url).status_code == 404


def test_a_bad_evaluation_request_shows_its_messages(client, session, world, agreements):
    sign_in(client, BREMEN)
    for files, fields, text in [
        ([], {"programme": str(world["bremen_msc"])}, "credentials"),
        (
            [("learner.json", b"{not json")],
            {"programme": str(world["bremen_msc"]), "format": "json"},
            "is not JSON",
        ),
        (
            [("learner.json", b"42")],
            {"programme": str(world["bremen_msc"]), "format": "json"},
            "holds no credential",
        ),
        (
            [("learner.xml", b"<broken")],
            {"programme": str(world["bremen_msc"]), "format": "elmo"},
            "cannot be read",
        ),
        (
            [("learner.json", json.dumps(LEARNER).encode())],
            {"programme": "abc", "format": "json"},
            'id="f-programme-error"',
        ),
        (
            [("learner.json", json.dumps(LEARNER).encode())],
            {"programme": str(world["bremen_msc"]), "format": "json", "on": "someday"},
            'id="f-on-error"',
        ),
        (
            [("learner.json", json.dumps({"title": 5}).encode())],
            {"programme": str(world["bremen_msc"]), "format": "json"},
            "credentials.0",
        ),
    ]:
        response = evaluate(client, files, **fields)
        assert response.status_code == 400, (fields, html(response))
        assert text in html(response), fields
    assert session.scalars(select(PathwayEvaluation)).all() == []


def test_transcripts_received_and_elmo_files_are_evaluated(
    client, session, world, agreements, shared
):
    """The EMREX ELMO example (University of Warsaw), imported as a transcript Bremen received
    and uploaded as a file: each passed course is a held credential, identified or not."""
    elmo = (shared / "formats" / "emrex-elmo" / "example.xml").read_bytes()
    sign_in(client, BREMEN)
    imported = client.post(
        "/imports/new",
        data={
            "csrf_token": csrf_token(client.get("/imports/new")),
            "format": "elmo",
            "file": (io.BytesIO(elmo), "example.xml"),
        },
        content_type="multipart/form-data",
    )
    assert imported.status_code == 302
    form = html(client.get("/pathways/evaluate"))
    transcript = re.search(r'name="transcript" value="(\d+)"', form).group(1)
    response = evaluate(
        client,
        [("example.xml", elmo)],
        format="elmo",
        programme=str(world["bremen_msc"]),
        transcript=transcript,
    )
    assert response.status_code == 302, html(response)
    page = html(client.get(response.headers["Location"]))
    assert f"transcript {transcript}" in page and "University of Warsaw" in page
    assert "not found" in page and "0 ECTS" in page
    stored = session.scalars(select(PathwayEvaluation)).one()
    assert [t["transcript_id"] for t in stored.inputs["transcripts"]] == [int(transcript)]
    assert stored.inputs["credentials"]
