"""The institution's workspace in the browser's shape (a session login, forms with their CSRF
token): imports with their rejections, the catalogue, transfer evaluations decided, batch
assessment; and nothing of one institution reachable by another, whatever the URL or the form.

The transcripts are the EMREX ELMO example of /work/shared/formats (University of Warsaw), once
with one course's credits made negative so that the import has a rejection to show. The
institutions' courses are test data written for these tests.
"""

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from importers import jobs
from importers.batch import CSV_COLUMNS
from mappings.models import Assessment
from mappings.transfer import services as transfer
from mappings.transfer.elmo import export_elmo
from registry.catalogue.articulations.models import Articulation, TransferEvaluation
from registry.catalogue.schemas import CourseRecordSchema
from registry.catalogue.services import upsert_courses
from registry.core.accounts import Account, create_token, get_or_create_account, set_password
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many
from tests.registry.test_web import PASSWORD, csrf_token, html, sign_in

UCD = "Registry office, University College Dublin (test)"
HEIDELBERG = "Registry office, Heidelberg University (test)"
REGISTRAR = "Admissions desk (workspace test)"
INSTITUTIONS = {
    "ucd": ("University College Dublin", "IE", [("schac", "ucd.ie")]),
    "heidelberg": ("Universität Heidelberg", "DE", [("schac", "uni-heidelberg.de")]),
    "uw": (
        "University of Warsaw",
        "PL",
        [("schac", "uw.edu.pl"), ("erasmus", "PL WARSZAW01"), ("pic", "999572294")],
    ),
}
# code, title, credits, ISCED-F: Warsaw's are the example transcript's own courses.
COURSES = {
    "ucd": [
        ("COMP30330", "Compiler Lab Classes", "5", "0612"),
        ("COMP30340", "Compiler Lectures", "5", "0612"),
        ("COMP20010", "Web Markup and HTML", "5", "0612"),
        ("BIOL40020", "Identifying Fungi", "15", "0511"),
    ],
    "uw": [
        ("2829051", "Lecture", "5", "0612"),
        ("2829515", "Lab classes", "5", "0612"),
    ],
}
# A course of the example with credits no record may have: one rejection, with its reason.
BROKEN = (b"<value>15</value>", b"<value>-15</value>")


def add_courses(session, ids: dict[str, int], courses: dict[str, list[tuple]]) -> None:
    """The catalogues: (code, title, credits, ISCED-F) rows for each institution's key."""
    for key, rows in courses.items():
        upsert_courses(
            session,
            [
                CourseRecordSchema().load(
                    {
                        "institution_id": ids[key],
                        "code": code,
                        "title": title,
                        "language": "en",
                        "credits": credits,
                        "credit_system": "ECTS",
                        "isced_f": field,
                        "level": "QF-EHEA:1",
                    }
                )
                for code, title, credits, field in rows
            ],
        )


@pytest.fixture
def world(session):
    outcomes = upsert_many(
        session,
        [
            InstitutionRecordSchema().load(
                {
                    "name": name,
                    "country": country,
                    "identifiers": [{"scheme": s, "value": v} for s, v in identifiers],
                }
            )
            for name, country, identifiers in INSTITUTIONS.values()
        ],
    )
    ids = {key: o.institution.id for key, o in zip(INSTITUTIONS, outcomes, strict=True)}
    add_courses(session, ids, COURSES)
    for name, role, scopes in [
        (UCD, "institution", [str(ids["ucd"])]),
        (HEIDELBERG, "institution", [str(ids["heidelberg"])]),
        (REGISTRAR, "registrar", []),
    ]:
        set_password(get_or_create_account(session, name, role, scopes), PASSWORD)
    session.commit()
    return ids


@pytest.fixture
def elmo(shared) -> bytes:
    path = shared / "formats" / "emrex-elmo" / "example.xml"
    if not path.exists():
        pytest.skip(f"{path} is absent: the ELMO example sits in the shared formats in CI")
    return path.read_bytes()


def upload(client, data: bytes, fmt="elmo", name="example.xml", **fields):
    token = csrf_token(client.get("/imports/new"))
    return client.post(
        "/imports/new",
        data={"csrf_token": token, "format": fmt, "file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def job_id_of(response) -> int:
    return int(re.search(r"/imports/(\d+)$", response.headers["Location"]).group(1))


def post(client, page: str, action: str, **fields):
    return client.post(action, data={**fields, "csrf_token": csrf_token(client.get(page))})


# --- imports ---------------------------------------------------------------------------------


def test_an_elmo_upload_shows_its_job_its_rejections_and_their_csv(client, world, elmo):
    sign_in(client, UCD)
    form = html(client.get("/imports/new"))
    offered = re.findall(r'<option value="([^"]+)"', form)
    # Every format the importers read that an institution may import; not the institution lists.
    assert set(offered) == {
        fmt for fmt, (action, _, _) in jobs.FORMATS.items() if action != "institution.import"
    }

    response = upload(client, elmo.replace(*BROKEN))
    assert response.status_code == 302
    job_id = job_id_of(response)
    page = html(client.get(f"/imports/{job_id}"))
    assert "completed" in page and "example.xml" in page
    assert re.search(r'data-count="read">6<', page) and re.search(r'data-count="rejected">1<', page)
    assert "hasPart[1]/learningOpportunitySpecification" in page
    assert "Must be greater than or equal to 0" in page

    download = client.get(f"/imports/{job_id}/errors.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0] == ["position", "reason"] and len(rows) == 2
    assert "credits" in rows[1][1]

    status = client.get(f"/imports/{job_id}/status.json").get_json()
    assert status == {
        "state": "completed",
        "running": False,
        "read": 6,
        "inserted": 5,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
    }
    listing = html(client.get("/imports"))
    assert f'href="/imports/{job_id}"' in listing


def test_an_upload_the_service_refuses_is_a_clear_page(client, world):
    sign_in(client, UCD)
    response = upload(client, b"", name="empty.xml")
    assert response.status_code == 400 and "The file is empty." in html(response)
    response = upload(client, b"{}", fmt="ror", name="ror.json")
    assert response.status_code == 403 and "may not institution.import" in html(response)
    no_token = client.post(
        "/imports/new",
        data={"format": "elmo", "file": (io.BytesIO(b"<x/>"), "x.xml")},
        content_type="multipart/form-data",
    )
    assert no_token.status_code == 400 and "Form not accepted" in html(no_token)


def test_the_wrong_role_is_refused_the_imports(client, world):
    anonymous = client.get("/imports/new")
    assert anonymous.status_code == 401 and 'href="/login?next=' in html(anonymous)
    sign_in(client, REGISTRAR)
    refused = client.get("/imports/new")
    assert refused.status_code == 403
    assert "role or scope does not cover this" in html(refused)
    assert client.get("/imports").status_code == 403
    home = html(client.get("/"))
    assert "Imports" not in home and "Batch assessment" not in home


def test_the_institution_s_home_offers_its_tasks(client, world):
    sign_in(client, UCD)
    home = html(client.get("/"))
    for label, url in [
        ("Imports", "/imports"),
        ("Catalogue", "/catalogue"),
        ("Transfer evaluations", "/transfers"),
        ("Batch assessment", "/batch"),
    ]:
        assert f'<a href="{url}">{label}</a>' in home


# --- catalogue -------------------------------------------------------------------------------


def test_the_catalogue_is_browsed_searched_and_paged(client, session, world):
    upsert_courses(
        session,
        [
            CourseRecordSchema().load(
                {"institution_id": world["ucd"], "code": f"MATH{n:05}", "title": f"Mathematics {n}"}
            )
            for n in range(30)
        ],
    )
    session.commit()
    sign_in(client, UCD)
    first = html(client.get("/catalogue"))
    assert "Catalogue of University College Dublin" in first
    assert "34 entries found." in first and first.count('<th scope="row">') == 25
    assert "Next page" in first and "Previous page" not in first
    second = html(client.get("/catalogue?page=2"))
    assert second.count('<th scope="row">') == 9 and "Previous page" in second
    found = html(client.get("/catalogue?q=compiler"))
    assert "2 entries found." in found
    assert "COMP30330" in found and "COMP30340" in found and "MATH00001" not in found
    assert "COMP20010" in html(client.get("/catalogue?q=comp2"))
    assert "Nothing found." in html(client.get("/catalogue?q=100%25"))
    assert "no entries of this kind" in html(client.get("/catalogue?kind=qualifications"))
    # A catalogue is public (DESIGN): another's is read, only by naming it, and stays its own.
    other = html(client.get(f"/catalogue?institution={world['uw']}"))
    assert "Catalogue of University of Warsaw" in other and "COMP30330" not in other
    assert client.get("/catalogue?institution=999999").status_code == 404


# --- transfer evaluations --------------------------------------------------------------------


def evaluated(client, session, elmo) -> tuple[int, dict]:
    """Import the example as UCD's and evaluate its transcript; the evaluation's id and answer."""
    upload(client, elmo)
    page = html(client.get("/transfers"))
    transcript = re.search(r'<option value="(\d+)">#\d+ · University of Warsaw', page).group(1)
    response = post(client, "/transfers", "/transfers", transcript=transcript, on="2024-09-01")
    assert response.status_code == 302, html(response)
    evaluation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return evaluation_id, transfer.present(session.get(TransferEvaluation, evaluation_id))


def pending_with(answer: dict, code: str) -> dict:
    return next(r for r in answer["results"] if r["code"] == code and r["status"] == "pending")


def test_a_suggestion_approved_becomes_an_articulation(client, session, world, elmo):
    sign_in(client, UCD)
    evaluation_id, _ = evaluated(client, session, elmo)
    page_url = f"/transfers/{evaluation_id}"
    page = html(client.get(page_url))
    assert "Compiler Lab Classes" in page and "Approve COMP30330" in page
    result = pending_with(
        transfer.present(session.get(TransferEvaluation, evaluation_id)), "2829515"
    )
    suggestion = next(s for s in result["suggestions"] if s["code"] == "COMP30330")

    response = post(
        client,
        page_url,
        f"/transfers/{evaluation_id}/results/{result['index']}/approve",
        target_course_id=str(suggestion["id"]),
        credits_granted="5",
    )
    assert response.status_code == 302
    articulation = session.scalar(
        select(Articulation).where(
            Articulation.rule_id == f"transfer-{evaluation_id}-{result['index']}"
        )
    )
    assert articulation.status == "approved" and articulation.target_institution_id == world["ucd"]
    assert articulation.target_course_ids == [suggestion["id"]]
    after = html(client.get(page_url))
    assert "now grants it automatically" in after and "Approved by " + UCD in after
    again = post(
        client,
        page_url,
        f"/transfers/{evaluation_id}/results/{result['index']}/approve",
        target_course_id=str(suggestion["id"]),
        credits_granted="5",
    )
    assert again.status_code == 409 and "decided already" in html(again)
    # The next evaluation of the same course finds the articulation (the example's result states
    # no credits, so it names the rule and leaves the grant to a person: the domain's rule).
    _, next_answer = evaluated(client, session, elmo)
    found = next(r for r in next_answer["results"] if r["code"] == "2829515")
    assert found["articulation"]["rule_id"] == articulation.rule_id


def test_a_rejection_needs_its_reason_and_is_kept(client, session, world, elmo):
    sign_in(client, UCD)
    evaluation_id, answer = evaluated(client, session, elmo)
    index = pending_with(answer, "2829051")["index"]
    action = f"/transfers/{evaluation_id}/results/{index}/reject"
    page_url = f"/transfers/{evaluation_id}"
    blank = post(client, page_url, action, reason="   ")
    assert blank.status_code == 400 and "nothing was written" in html(blank)
    assert session.get(TransferEvaluation, evaluation_id).decisions == []

    response = post(client, page_url, action, reason="Our lectures cover another syllabus.")
    assert response.status_code == 302
    (decision,) = session.get(TransferEvaluation, evaluation_id).decisions
    assert decision["outcome"] == "rejected" and decision["decided_by"] == UCD
    assert decision["reason"] == "Our lectures cover another syllabus."
    assert "Our lectures cover another syllabus." in html(client.get(page_url))
    assert session.scalars(select(Articulation)).all() == []
    # The ELMO answer to the sending institution says Negative, with the reason.
    exported = export_elmo(session.get(TransferEvaluation, evaluation_id)).decode()
    assert ">Negative</" in exported
    assert "Our lectures cover another syllabus." in exported


# --- batch assessment ------------------------------------------------------------------------


def test_a_batch_is_shown_and_downloaded_as_csv(client, session, world, elmo):
    sign_in(client, UCD)
    fields = {"format": "elmo", "target": "IE", "target_type": ""}

    def run(output):
        return client.post(
            "/batch",
            data={
                "csrf_token": csrf_token(client.get("/batch")),
                "file": (io.BytesIO(elmo), "example.xml"),
                "output": output,
                **fields,
            },
            content_type="multipart/form-data",
        )

    shown = html(run("page"))
    assert "Results for example.xml" in shown and "Master of Science in Biology" in shown
    download = run("csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[-1]["position"] == "summary"
    assert any(r["title"] == "Master of Science in Biology" and r["decision"] for r in rows)
    # The results page downloads its own decisions: none is made again.
    made = session.scalar(select(func.count()).select_from(Assessment))
    page = run("page")
    stored = session.scalar(select(func.count()).select_from(Assessment))
    kept = re.search(r'name="csv" value="([^"]*)"', html(page)).group(1)
    again = client.post(
        "/batch/results.csv",
        data={"csrf_token": csrf_token(page), "csv": unescape(kept)},
    )
    assert again.status_code == 200 and again.mimetype == "text/csv"
    assert "attachment" in again.headers["Content-Disposition"]
    shown_rows = list(csv.DictReader(io.StringIO(again.get_data(as_text=True))))
    assert [r["title"] for r in shown_rows] == [r["title"] for r in rows]
    assert session.scalar(select(func.count()).select_from(Assessment)) == stored > made
    refused = client.post(
        "/batch",
        data={
            "csrf_token": csrf_token(client.get("/batch")),
            "file": (io.BytesIO(elmo), "example.xml"),
            "format": "elmo",
            "target": "IE",
            "target_type": "wizard",
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400 and "The target cannot be used as given." in html(refused)


# --- another institution's records ----------------------------------------------------------


def test_another_institution_s_records_are_hidden_even_by_crafted_urls(
    client, session, world, elmo
):
    sign_in(client, UCD)
    job_id = job_id_of(upload(client, elmo.replace(*BROKEN)))
    evaluation_id, answer = evaluated(client, session, elmo)
    index = pending_with(answer, "2829515")["index"]
    transcript_id = session.get(TransferEvaluation, evaluation_id).transcript_id
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/"))})

    sign_in(client, HEIDELBERG)
    for url in [
        f"/imports/{job_id}",
        f"/imports/{job_id}/status.json",
        f"/imports/{job_id}/errors.csv",
        f"/transfers/{evaluation_id}",
        f"/transfers?institution={world['ucd']}",
    ]:
        assert client.get(url).status_code == 404, url
    assert f"/imports/{job_id}" not in html(client.get("/imports"))
    assert f"/transfers/{evaluation_id}" not in html(client.get("/transfers"))
    approve = post(
        client,
        "/transfers",
        f"/transfers/{evaluation_id}/results/{index}/approve",
        target_course_id="1",
        credits_granted="5",
    )
    reject = post(
        client, "/transfers", f"/transfers/{evaluation_id}/results/{index}/reject", reason="No."
    )
    assert approve.status_code == reject.status_code == 404
    # UCD's transcript, evaluated for Heidelberg or for UCD by Heidelberg's account: refused.
    own = post(client, "/transfers", "/transfers", transcript=str(transcript_id))
    assert own.status_code == 400 and f"No transcript {transcript_id}." in html(own)
    for_ucd = post(
        client, "/transfers", "/transfers", transcript=str(transcript_id), institution=world["ucd"]
    )
    assert for_ucd.status_code == 403
    session.expire_all()
    assert session.get(TransferEvaluation, evaluation_id).decisions == []
    assert session.scalars(select(Articulation)).all() == []
    assert (
        session.scalar(select(TransferEvaluation).where(TransferEvaluation.id > evaluation_id))
        is None
    )


def test_the_api_rejects_as_the_page_does(client, session, world, elmo):
    """POST /transfers/{id}/rejections: the same service as the page's form, for a token."""
    sign_in(client, UCD)
    evaluation_id, answer = evaluated(client, session, elmo)
    index = pending_with(answer, "2829051")["index"]
    url = f"/api/v1/transfers/{evaluation_id}/rejections"
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/"))})
    bearer = {}
    for name in (UCD, HEIDELBERG, REGISTRAR):
        account = session.scalar(select(Account).where(Account.name == name))
        bearer[name] = {"Authorization": f"Bearer {create_token(session, account)[1]}"}
    session.commit()
    body = {"result_index": index, "reason": "Another syllabus."}
    for name in (HEIDELBERG, REGISTRAR):
        refused = client.post(url, json=body, headers=bearer[name])
        assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    assert client.post(url, json=body).status_code == 404
    invalid = client.post(url, json={"result_index": index, "reason": 5}, headers=bearer[UCD])
    assert invalid.status_code == 400 and "reason" in invalid.get_json()["errors"]
    extra = client.post(url, json={**body, "articulation": 1}, headers=bearer[UCD])
    assert extra.status_code == 400 and "articulation" in extra.get_json()["errors"]
    made = client.post(url, json=body, headers=bearer[UCD])
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["outcome"] == "rejected" and made.get_json()["decided_by"] == UCD
    again = client.post(url, json=body, headers=bearer[UCD])
    assert again.status_code == 409


def test_a_transcript_older_than_the_list_is_evaluated_by_its_number(
    client, session, world, elmo, monkeypatch
):
    """The list offers the newest transcripts only; one past it is reached by its number (here
    the list is cut to nothing older than the newest, and the page says so)."""
    sign_in(client, UCD)
    upload(client, elmo)
    monkeypatch.setattr(transfer, "MAX_LISTED", 1)
    page = html(client.get("/transfers"))
    assert "Only the newest 1 transcripts are in the list" in page
    transcript = re.search(r'<option value="(\d+)">', page).group(1)
    response = post(
        client,
        "/transfers",
        "/transfers",
        transcript="999999999",
        transcript_number=transcript,
        on="2024-09-01",
    )
    assert response.status_code == 302, html(response)
    evaluation = session.get(
        TransferEvaluation, int(response.headers["Location"].rsplit("/", 1)[1])
    )
    assert str(evaluation.transcript_id) == transcript


def test_a_batch_for_a_target_the_registry_does_not_hold_is_one_error(client, world, elmo):
    sign_in(client, UCD)
    response = client.post(
        "/batch",
        data={
            "csrf_token": csrf_token(client.get("/batch")),
            "file": (io.BytesIO(elmo), "example.xml"),
            "format": "elmo",
            "target": "Narnia",
            "output": "page",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = html(response)
    assert "target" in page and "Results for" not in page


def test_an_institution_named_by_anything_but_its_number_is_refused(client, world):
    """An admin's mistyped id is an error, not "no institution" (which would file an import as
    nobody's)."""
    admin = get_or_create_account(
        client.application.extensions["registry.sessions"](), "ws-admin", "admin", []
    )
    set_password(admin, PASSWORD)
    sign_in(client, "ws-admin")
    for page in ("/catalogue?institution=12a", "/transfers?institution=x"):
        response = client.get(page)
        assert response.status_code == 400, page
        assert "The institution is named by its number." in html(response)
