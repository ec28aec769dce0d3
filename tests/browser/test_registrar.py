"""A registrar in the browser: fills in the credential form with a live suggestion, gets a
decision, downloads the statement for the applicant and finds the decision in its history; the
decision stays closed to another office and to visitors who are not signed in."""

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import check_page, sign_in
from tests.conftest import SHARED

REGISTRAR = "Admissions, Trinity College Dublin"
ELMO = SHARED / "formats" / "emrex-elmo" / "example.xml"


def assess_with_a_suggestion(page) -> int:
    page.goto("/")
    page.get_by_role("link", name="Assess a credential").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assess a credential")
    check_page(page, "registrar-form")

    page.get_by_label("Title of the qualification").fill("BA (Hons) History")
    institution = page.get_by_role("combobox", name="Institution")
    institution.press_sequentially("univ college dub", delay=20)
    suggestion = page.get_by_role("option", name=re.compile("University College Dublin"))
    # The first look-up of a server builds its name index (several seconds); later ones are fast.
    expect(suggestion).to_be_visible(timeout=30_000)
    check_page(page, "registrar-form-suggestions")
    suggestion.click()
    expect(institution).to_have_value("University College Dublin")
    expect(page.get_by_role("textbox", name=re.compile("^Country"))).to_have_value("IE")
    page.get_by_label("Award date").fill("2020-06-30")
    page.get_by_label("Level", exact=True).fill("IE-NFQ:8")
    page.get_by_label("Credits", exact=True).fill("240")
    page.get_by_label("Credit system").fill("ECTS")
    page.get_by_label("Target country or framework").fill("DE")
    page.get_by_label("Qualification asked for").select_option("master")
    page.get_by_role("button", name="Assess and store the decision").click()

    expect(page).to_have_url(re.compile(r"/assessments/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_registrar_assesses_and_gives_the_applicant_a_statement(page, site):
    sign_in(page, REGISTRAR)
    number = assess_with_a_suggestion(page)
    expect(page.get_by_role("status").first).to_contain_text(
        f"Assessment {number} is stored: not recognised."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Assessment {number}: not recognised"
    )
    expect(page.get_by_role("heading", name="Alternative offered")).to_be_visible()
    expect(page.get_by_text("1 level(s) below the qualification asked for").first).to_be_visible()
    digest = page.locator("code.digest").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    check_page(page, "registrar-decision")

    page.get_by_role("link", name="Statement for the applicant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statement of comparability")
    check_page(page, "registrar-statement")
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Tasks")).to_be_hidden()
    page.emulate_media(media="screen")

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="Download the statement (PDF)").click()
    download = downloaded.value
    assert download.suggested_filename == f"statement-of-comparability-{number}.pdf"
    reader = PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    text = " ".join(p.extract_text() for p in reader.pages)
    flat = re.sub(r"\s+", "", text)
    assert "Statement of comparability" in text and "not recognised" in text
    assert digest in flat and f"{site.url}/assessments/{number}" in flat
    code = page.locator(".check-code").inner_text()
    assert code in text and f"{site.url}/check/{code}" in flat

    # The applicant, or whoever receives the statement, checks it by its code.
    visitor = page.context.browser.new_context(base_url=site.url, accept_downloads=True)
    checker = visitor.new_page()
    checker.goto("/")
    checker.get_by_role("link", name="Check a statement").first.click()
    checker.get_by_label("Check code").fill(code.lower().replace("-", " "))
    checker.get_by_role("button", name="Check").click()
    expect(checker.get_by_role("status")).to_have_text("This registry issued this statement.")
    expect(checker.locator("code.digest")).to_have_text(digest)
    check_page(checker, "check-statement")
    with checker.expect_download() as downloaded:
        checker.get_by_role("link", name="VC-JWT (compact JWS)").click()
    assert downloaded.value.suggested_filename == "statement.jwt"
    checker.goto(f"/check/A-{number}-AAAA-AAAA-AAAA-AAAA")
    expect(checker.get_by_role("alert")).to_contain_text("No statement issued by this registry")
    check_page(checker, "check-unknown")
    visitor.close()

    page.get_by_role("navigation", name="Tasks").get_by_role("link", name="My assessments").click()
    expect(page.get_by_role("status")).to_have_text("1 decision found.")
    check_page(page, "registrar-history")
    page.get_by_label("Words").fill("history not recognised")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"q=history"))
    expect(page.get_by_role("link", name=f"Assessment {number}")).to_be_visible()
    page.get_by_label("Words").fill("medicine")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("0 decisions found.")


def test_a_credential_file_fills_in_the_form(page):
    if not ELMO.is_file():
        pytest.skip(f"{ELMO} is absent: the ELMO sample sits in the shared formats in CI")
    sign_in(page, REGISTRAR)
    page.goto("/assessments/new")
    page.get_by_label("Credential file", exact=True).set_input_files(ELMO)
    page.get_by_label("Format").select_option("elmo")
    page.get_by_role("button", name="Fill in the form from the file").click()
    expect(page.get_by_label("Title of the qualification")).to_have_value(
        "Master of Science in Biology"
    )
    expect(page.get_by_role("combobox", name="Institution")).to_have_value("University of Warsaw")
    expect(page.get_by_role("textbox", name=re.compile("^Country"))).to_have_value("PL")
    check_page(page, "registrar-form-from-file")
    row = page.get_by_role("row", name=re.compile("Compiler construction"))
    row.get_by_role("link", name=re.compile("^Assess this one")).click()
    expect(page.get_by_label("Title of the qualification")).to_have_value("Compiler construction")
    expect(page.get_by_label("Level", exact=True)).to_have_value("EQF:5")


def test_a_decision_is_closed_to_another_office_and_to_visitors(browser, site):
    registrar = browser.new_context(base_url=site.url)
    page = registrar.new_page()
    sign_in(page, REGISTRAR)
    number = assess_with_a_suggestion(page)
    registrar.close()

    office = browser.new_context(base_url=site.url)
    page = office.new_page()
    sign_in(page, "Registry office, University College Dublin")
    page.goto(f"/assessments/{number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not found")
    expect(page.get_by_role("alert")).to_have_text(f"No assessment {number}.")
    check_page(page, "registrar-refused-other-office")
    office.close()

    visitor = browser.new_context(base_url=site.url)
    page = visitor.new_page()
    page.goto(f"/assessments/{number}/statement")
    expect(page.get_by_role("heading", level=1)).to_contain_text("(401)")
    page.get_by_role("link", name="Sign in").last.click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    check_page(page, "registrar-refused-visitor")
    visitor.close()
