"""The registrar's desk in the web pages: the credential form (typed in or read from a file), the
decision page, the statement of comparability (page and PDF), the registrar's own history, and
who may read what (the API's rule)."""

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from mappings.models import Assessment
from registry.core.accounts import create_token, get_or_create_account, set_password
from registry.core.permissions import OPERATOR
from registry.institutions import services as institutions
from registry.web import desk as desk_module
from tests.registry.test_web import PASSWORD, csrf_token, html, sign_in, submit

REGISTRAR = "Admissions, Trinity College Dublin"
FORM = {
    "title": "BA (Hons) History",
    "institution.name": "University College Dublin",
    "institution.country": "IE",
    "level": "IE-NFQ:8",
    "credits.value": "240",
    "credits.system": "ECTS",
    "awarded_on": "2020-06-30",
    "target": "DE",
    "target_qualification_type": "master",
}


@pytest.fixture
def desk(session):
    """Two registrars, an institution account, and UCD in the registry."""
    institutions.create_institution(
        session,
        OPERATOR,
        {"name": "University College Dublin", "country": "IE", "city": "Dublin"},
    )
    for name, role, scopes in [
        (REGISTRAR, "registrar", []),
        ("Admissions, another office", "registrar", []),
        ("Registry office, somewhere", "institution", ["1"]),
    ]:
        set_password(get_or_create_account(session, name, role, scopes), PASSWORD)
    session.commit()


def assess(client, **changes) -> int:
    response = submit(client, "/assessments/new", "/assessments/new", **(FORM | changes))
    assert response.status_code == 302, html(response)
    return int(re.search(r"/assessments/(\d+)$", response.location).group(1))


def test_the_form_gives_a_decision_with_its_explanation(client, session, desk):
    sign_in(client, REGISTRAR)
    form = html(client.get("/assessments/new"))
    assert 'name="csrf_token"' in form and 'name="institution.name"' in form
    assert '<option value="IE-NFQ:8">' in form and "desk.js" in form
    number = assess(client)
    row = session.get(Assessment, number)
    assert row.actor == REGISTRAR and row.decision == "not_recognised"
    page = html(client.get(f"/assessments/{number}"))
    assert f"Assessment {number}: not recognised" in page
    # The explanation step by step, the difference, the alternative, the sources, the digest.
    assert "University College Dublin (IE), matched on its name" in page
    assert "1 level(s) below the qualification asked for" in page
    assert "Alternative offered" in page and "DE-DQR:6" in page
    assert "Referencing of the Irish National Framework" in page
    assert row.inputs_digest in page


def test_bad_input_shows_the_form_again_with_each_message_by_its_field(client, desk):
    sign_in(client, REGISTRAR)
    response = submit(
        client,
        "/assessments/new",
        "/assessments/new",
        **(FORM | {"title": "", "awarded_on": "2999-01-01"}),
    )
    assert response.status_code == 400
    page = html(response)
    assert 'id="f-title-error"' in page and 'aria-describedby="f-title-hint f-title-error"' in page
    assert 'href="#f-title"' in page and "An award date cannot be in the future." in page
    # What was typed stays.
    assert 'value="University College Dublin"' in page
    unknown = html(
        submit(
            client, "/assessments/new", "/assessments/new", **(FORM | {"credits.system": "NOPE"})
        )
    )
    assert "Unknown credit system" in unknown and 'id="f-credits-system-error"' in unknown


@pytest.fixture
def elmo(shared):
    path = shared / "formats" / "emrex-elmo" / "example.xml"
    if not path.is_file():
        pytest.skip(f"{path} is absent: the ELMO sample sits in the shared formats in CI")
    return path


def test_a_credential_file_fills_in_the_form_and_stores_nothing(client, session, desk, elmo):
    sign_in(client, REGISTRAR)
    before = session.query(Assessment).count()
    response = client.post(
        "/assessments/new/file",
        data={
            "format": "elmo",
            "file": (io.BytesIO(elmo.read_bytes()), "example.xml"),
            "csrf_token": csrf_token(client.get("/assessments/new")),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, html(response)
    page = html(response)
    assert 'value="Master of Science in Biology"' in page
    assert 'value="University of Warsaw"' in page and 'value="PL"' in page
    assert 'value="uw.edu.pl"' in page and 'value="2009-06-15"' in page
    # The others of the file are offered, each as a link that fills the form.
    assert "Compiler construction" in page and "Assess this one" in page
    # A grade stated in words only: its scheme is shown to choose the registry's scale.
    link = re.search(r'href="(/assessments/new\?[^"]*Compiler[^"]*)"', page).group(1)
    prefilled = html(client.get(link.replace("&amp;", "&")))
    assert 'value="Compiler construction"' in prefilled and 'value="EQF:5"' in prefilled
    assert session.query(Assessment).count() == before


def test_a_file_of_more_credentials_than_offered_says_how_many_it_holds(
    client, desk, elmo, monkeypatch
):
    """Past the first OFFERED, credentials are counted, not silently dropped."""
    monkeypatch.setattr(desk_module, "OFFERED", 1)
    sign_in(client, REGISTRAR)
    response = client.post(
        "/assessments/new/file",
        data={
            "format": "elmo",
            "file": (io.BytesIO(elmo.read_bytes()), "example.xml"),
            "csrf_token": csrf_token(client.get("/assessments/new")),
        },
        content_type="multipart/form-data",
    )
    page = html(response)
    count = int(re.search(r"Read from example.xml: (\d+) credential", page).group(1))
    assert count > 1 and "The first 1 are offered below." in page


@pytest.mark.parametrize("fmt", ["elmo", "elm", "open-badges"])
@pytest.mark.parametrize("content", [b"<not xml", b"{not json", b"", b"\xff\xfe\x00"])
def test_an_unreadable_file_is_a_message_on_the_form(client, desk, fmt, content):
    sign_in(client, REGISTRAR)
    response = client.post(
        "/assessments/new/file",
        data={
            "format": fmt,
            "file": (io.BytesIO(content), "broken"),
            "csrf_token": csrf_token(client.get("/assessments/new")),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = html(response)
    assert "The file cannot be read" in page or "no credential that can be assessed" in page


def test_the_statement_names_the_decision_its_digest_and_where_to_check_it(client, session, desk):
    sign_in(client, REGISTRAR)
    number = assess(client)
    digest = session.get(Assessment, number).inputs_digest
    page = html(client.get(f"/assessments/{number}/statement"))
    assert "Statement of comparability" in page and digest in page
    assert f"http://localhost/assessments/{number}" in page and "desk-statement.css" in page
    response = client.get(f"/assessments/{number}/statement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="statement-of-comparability-{number}.pdf"'
    )
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    flat = re.sub(r"\s+", "", text)
    assert "Statement of comparability" in text and "not recognised" in text
    assert digest in flat and f"http://localhost/assessments/{number}" in flat


def test_the_history_is_mine_searchable_and_paginated(client, session, desk):
    sign_in(client, REGISTRAR)
    first = assess(client)
    second = assess(client, title="MSc Data Science", level="IE-NFQ:9", target="DE-DQR")
    other = client.application.test_client()
    sign_in(other, "Admissions, another office")
    theirs = assess(other, title="BA (Hons) History of Art")

    page = html(client.get("/assessments"))
    assert "2 decisions found." in page
    assert f"/assessments/{first}" in page and f"/assessments/{second}" in page
    assert f'/assessments/{theirs}"' not in page
    found = html(client.get("/assessments", query_string={"q": "data science"}))
    assert "1 decision found." in found and f'/assessments/{second}"' in found
    by_decision = html(client.get("/assessments", query_string={"q": "not recognised"}))
    assert f'/assessments/{first}"' in by_decision
    today = dt.date.today()
    later = (today + dt.timedelta(days=1)).isoformat()
    assert "0 decisions found." in html(client.get("/assessments", query_string={"from": later}))
    assert "2 decisions found." in html(
        client.get("/assessments", query_string={"from": today.isoformat(), "to": today})
    )
    assert "Not a date" in html(client.get("/assessments", query_string={"from": "yesterday"}))


def test_the_history_pages(client, session, desk, monkeypatch):
    from registry.web import desk_decisions

    monkeypatch.setattr(desk_decisions, "PER_PAGE", 1)
    sign_in(client, REGISTRAR)
    first, second = assess(client), assess(client, title="MSc Data Science")
    page = html(client.get("/assessments", query_string={"q": "a"}))
    assert f'/assessments/{second}"' in page and f'/assessments/{first}"' not in page
    assert "Page 1 of 2" in page and "page=2" in page and "q=a" in page
    older = html(client.get("/assessments", query_string={"q": "a", "page": 2}))
    assert f'/assessments/{first}"' in older and "Newer" in older


def test_another_office_cannot_read_my_decision(client, desk):
    sign_in(client, REGISTRAR)
    number = assess(client)
    for name in ("Admissions, another office", "Registry office, somewhere"):
        other = client.application.test_client()
        sign_in(other, name)
        for path in ("", "/statement", "/statement.pdf"):
            response = other.get(f"/assessments/{number}{path}")
            assert response.status_code == 404, (name, path)
            assert "No assessment" in html(response)


def test_anonymous_visitors_are_asked_to_sign_in(client, desk):
    sign_in(client, REGISTRAR)
    number = assess(client)
    anonymous = client.application.test_client()
    for path in ("/assessments/new", "/assessments", f"/assessments/{number}"):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert "/login?next=" in html(response)
    refused = anonymous.post("/assessments/new", data=FORM)
    assert refused.status_code == 400  # no CSRF token: the form is refused before anything


def test_the_tasks_are_offered_to_those_who_may_assess(client, desk):
    anonymous = html(client.get("/"))
    assert "Assess a credential" not in anonymous and "My assessments" not in anonymous
    sign_in(client, REGISTRAR)
    home = html(client.get("/"))
    assert 'href="/assessments/new"' in home and 'href="/assessments"' in home


def test_suggestions_come_from_the_matcher(client, desk):
    answer = client.get("/institutions/suggest", query_string={"q": "univ college dublin"})
    assert answer.status_code == 200
    candidates = answer.get_json()["candidates"]
    assert candidates[0]["name"] == "University College Dublin"
    assert candidates[0]["country"] == "IE"
    assert client.get("/institutions/suggest?q=u").get_json()["candidates"] == []
    bad = client.get("/institutions/suggest", query_string={"q": "dublin", "country": "XX"})
    assert bad.status_code == 400 and bad.get_json()["candidates"] == []


def test_a_stack_made_through_the_api_shows_on_the_desk(client, session, desk):
    account = get_or_create_account(session, REGISTRAR, "registrar", [])
    token = create_token(session, account)[1]
    session.commit()
    part = {
        "title": "Data literacy",
        "institution": {"name": "University College Dublin", "country": "IE"},
        "level": "IE-NFQ:8",
        "credits": {"value": "10", "system": "ECTS"},
        "field": "0611",
        "awarded_on": "2023-01-31",
    }
    made = client.post(
        "/api/v1/assessments/stack?target=DE",
        json={"credentials": [part, part | {"title": "Data engineering"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201, made.get_json()
    number = made.get_json()["id"]
    sign_in(client, REGISTRAR)
    page = html(client.get(f"/assessments/{number}"))
    assert "Data literacy" in page and "Data engineering" in page
    assert made.get_json()["inputs_digest"] in html(client.get(f"/assessments/{number}/statement"))
    assert "Data literacy; Data engineering" in html(client.get("/assessments"))
