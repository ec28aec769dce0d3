"""An institution in the browser: uploads an ELMO file and follows its import to the end (the
embedded worker runs it in the background, the page follows it live), reads and downloads the
rejections, searches its catalogue, evaluates a transcript and approves a suggestion (and
rejects another with its reason), runs a batch assessment and downloads its CSV. The wrong role
is refused clearly. Every page is checked with axe-core.

The transcripts are the EMREX ELMO example of /work/shared/formats (University of Warsaw), with
one course's credits made negative so that the import has a rejection to show; the courses are
test data written for this test."""

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from importers import jobs
from registry.institutions.schemas import InstitutionRecordSchema
from registry.institutions.services import upsert_many
from tests.browser.conftest import check_page, serve, sign_in
from tests.registry.test_web_workspace import add_courses

NAME = "Registry office, University College Dublin"
EXAMPLE = Path("/work/shared/formats/emrex-elmo/example.xml")
# code, title, credits, ISCED-F
COURSES = {
    "ucd": [
        ("COMP30330", "Compiler Lab Classes", "5", "0612"),
        ("COMP30340", "Compiler Lectures", "5", "0612"),
        ("BIOL40020", "Identifying Fungi", "15", "0511"),
    ],
    "uw": [("2829051", "Lecture", "5", "0612"), ("2829515", "Lab classes", "5", "0612")],
}


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory):
    """This module's own server, whose imports run on the embedded worker in the background
    (not inline), with the Warsaw institution of the example and both catalogues."""
    if not EXAMPLE.exists():
        pytest.skip(f"{EXAMPLE} is absent: the ELMO example sits in the shared formats in CI")
    for running in serve(tmp_path_factory.mktemp("workspace"), IMPORTS_INLINE=False):
        with running.session() as session:
            (outcome,) = upsert_many(
                session,
                [
                    InstitutionRecordSchema().load(
                        {
                            "name": "University of Warsaw",
                            "country": "PL",
                            "identifiers": [
                                {"scheme": "schac", "value": "uw.edu.pl"},
                                {"scheme": "erasmus", "value": "PL WARSZAW01"},
                            ],
                        }
                    )
                ],
            )
            ids = {"ucd": running.institutions["ucd"], "uw": outcome.institution.id}
            add_courses(session, ids, COURSES)
            session.commit()
        yield running


def broken_example(tmp_path: Path) -> Path:
    path = tmp_path / "transcripts.xml"
    path.write_bytes(EXAMPLE.read_bytes().replace(b"<value>15</value>", b"<value>-15</value>", 1))
    return path


def test_institution_imports_evaluates_and_approves(page, tmp_path):
    sign_in(page, NAME)
    tasks = page.get_by_role("navigation", name="Tasks")
    for label in ("Imports", "Catalogue", "Transfer evaluations", "Batch assessment"):
        expect(tasks.get_by_role("link", name=label)).to_be_visible()

    tasks.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    check_page(page, "institution-imports-empty")
    page.get_by_role("link", name="Upload a file to import").click()
    check_page(page, "institution-import-new")
    page.get_by_label("What the file holds").select_option("elmo")
    page.get_by_label("File", exact=True).set_input_files(broken_example(tmp_path))
    page.get_by_role("button", name="Upload and import").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))
    # The page follows the job live, then shows its rejections once it has ended.
    expect(page.locator("#job-state")).to_contain_text("completed", timeout=20_000)
    rejections = page.get_by_role("table", name=re.compile("Each rejected record"))
    expect(rejections).to_contain_text("Must be greater than or equal to 0", timeout=20_000)
    expect(page.locator('[data-count="rejected"]')).to_have_text("1")
    expect(page.locator('[data-count="inserted"]')).to_have_text("5")
    check_page(page, "institution-import-job")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download every rejection (CSV)").click()
    rows = list(csv.reader(Path(download.value.path()).read_text().splitlines()))
    assert rows[0] == ["position", "reason"] and len(rows) == 2 and "credits" in rows[1][1]
    page.get_by_role("link", name="Your imports").click()
    expect(page.get_by_role("link", name=re.compile(r"^Import \d+$"))).to_have_count(1)
    check_page(page, "institution-imports")

    tasks.get_by_role("link", name="Catalogue").click()
    page.get_by_label("Code or title contains").fill("compiler")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("2 entries found.")
    expect(
        page.get_by_role("row", name=re.compile("COMP30330 Compiler Lab Classes"))
    ).to_be_visible()
    check_page(page, "institution-catalogue")

    tasks.get_by_role("link", name="Transfer evaluations").click()
    check_page(page, "institution-transfers")
    page.get_by_label("Transcript received").select_option(index=0)
    page.get_by_role("button", name="Evaluate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Evaluation \d+$"))
    check_page(page, "institution-transfer-evaluation")
    lab = page.get_by_role("region", name=re.compile("2829515 · Lab classes"))
    lab.get_by_role("button", name="Approve COMP30330").click()
    expect(page.get_by_role("status").first).to_contain_text("now grants it automatically")
    lab = page.get_by_role("region", name=re.compile("2829515 · Lab classes"))
    expect(lab.get_by_role("note")).to_contain_text("counts as COMP30330 for 5 ECTS")
    lecture = page.get_by_role("region", name=re.compile("2829051 · Lecture"))
    lecture.get_by_label("Reason for rejecting (required)").fill("Another syllabus.")
    lecture.get_by_role("button", name=re.compile(r"^Reject result")).click()
    lecture = page.get_by_role("region", name=re.compile("2829051 · Lecture"))
    expect(lecture.get_by_role("note")).to_contain_text("Another syllabus.")
    check_page(page, "institution-transfer-decided")
    page.get_by_role("link", name="All evaluations").click()
    expect(page.get_by_role("link", name=re.compile(r"^Evaluation \d+$"))).to_have_count(1)

    tasks.get_by_role("link", name="Batch assessment").click()
    check_page(page, "institution-batch")
    page.get_by_label("What the file holds").select_option("elmo")
    page.get_by_label("File", exact=True).set_input_files(EXAMPLE)
    page.get_by_label("Target: a country code or a framework code").fill("IE")
    with page.expect_download() as download:
        page.get_by_role("button", name="Assess and download the CSV").click()
    lines = list(csv.DictReader(Path(download.value.path()).read_text().splitlines()))
    assert lines[-1]["position"] == "summary"
    assert "Master of Science in Biology" in {line["title"] for line in lines}
    page.get_by_label("File", exact=True).set_input_files(EXAMPLE)
    page.get_by_role("button", name="Assess and show the results").click()
    expect(page.get_by_role("heading", name="Results for example.xml")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("Master of Science in Biology")
    check_page(page, "institution-batch-results")


def test_a_registrar_is_refused_the_imports(page):
    sign_in(page, "Admissions, Trinity College Dublin")
    expect(page.get_by_role("navigation", name="Tasks")).not_to_contain_text("Imports")
    response = page.goto("/imports/new")
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("The registrar role may not")
    expect(page.get_by_text("Your account's role or scope does not cover this.")).to_be_visible()
    check_page(page, "institution-imports-refused")


def test_an_import_s_progress_is_followed_live(page, site):
    """The job's row moved on by hand (no worker holds it): the page's script shows each step
    without a reload, then loads the page again once the job has ended."""
    with site.session() as session:
        job = jobs.ImportJob(
            format="elmo",
            source="slow.xml",
            path="",
            options={},
            actor={
                "name": NAME,
                "role": "institution",
                "scopes": [str(site.institutions["ucd"])],
                "account_id": None,
                "token_id": None,
                "request_id": None,
            },
        )
        session.add(job)
        session.commit()
        job_id = job.id

    def move(**values):
        with site.session() as session:
            session.execute(
                update(jobs.ImportJob).where(jobs.ImportJob.id == job_id).values(**values)
            )
            session.commit()

    sign_in(page, NAME)
    page.goto(f"/imports/{job_id}")
    expect(page.locator("#job-state")).to_contain_text("queued")
    expect(page.get_by_role("link", name="Refresh")).to_be_visible()
    check_page(page, "institution-import-queued")
    # Held by a lease far ahead, so that the worker's sweep leaves it alone.
    move(
        state="running",
        read=40,
        lease_owner="test",
        lease_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    expect(page.locator("#job-state")).to_contain_text("running")
    expect(page.locator('[data-count="read"]')).to_have_text("40")
    move(state="completed", read=75, inserted=75, lease_owner=None)
    expect(page.get_by_text("None: every record read was stored.")).to_be_visible()
    expect(page.locator('[data-count="inserted"]')).to_have_text("75")
    expect(page.get_by_role("link", name="Refresh")).to_have_count(0)
