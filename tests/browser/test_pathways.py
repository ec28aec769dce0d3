"""Pathways in the browser: anyone finds where a micro-credential counts (a search over every
catalogue, then the approved pathways with their credits in the unit picked); an institution
proposes a pathway through its form (the credential found by a search posted with the form) and
approves it, after which it counts in the public answer. Every page is checked with axe-core.

The catalogues and the agreement are test data written for this test."""

import re

import pytest
from playwright.sync_api import expect

from registry.catalogue.pathways import services as pathways
from registry.catalogue.schemas import QualificationRecordSchema
from registry.catalogue.services import upsert_qualifications
from registry.core.permissions import OPERATOR
from tests.browser.conftest import check_page, serve, sign_in

HEIDELBERG = "Registry office, Heidelberg University"


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory):
    """This module's server: a micro-credential of University College Dublin, a master's of
    each university, and one approved pathway of Dublin's."""
    for running in serve(tmp_path_factory.mktemp("pathways")):
        ids = running.institutions
        with running.session() as session:
            rows = [
                ("ucd", "MC-DS1", "Data Science Essentials", "10", "micro_credential"),
                ("ucd", "MSC-DA", "MSc Data Analytics", "90", "master"),
                ("heidelberg", "MSC-DS", "Master of Science Data Science", "120", "master"),
            ]
            made = upsert_qualifications(
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
                    for owner, code, title, credits, kind in rows
                ],
            )
            micro, dublin_msc = made[0].item.id, made[1].item.id
            pathway = pathways.create_pathway(
                session,
                OPERATOR,
                {
                    "rule_id": "UCD-DS-1",
                    "institution_id": ids["ucd"],
                    "title": "Data Science Essentials toward the MSc",
                    "programme_id": dublin_msc,
                    "credentials": [{"qualification_id": micro}],
                    "credits": "10",
                    "credit_system": "ECTS",
                    "max_age_months": 60,
                    "source": "https://www.ucd.example/pathways/ds-1",
                },
            )
            pathways.decide(session, OPERATOR, pathway.id, {"status": "approved"})
            session.commit()
        yield running


def test_anyone_finds_where_a_credential_counts(page):
    page.goto("/")
    page.get_by_role("navigation", name="Tasks").get_by_role(
        "link", name="Where does this count?"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Where does this count?")
    page.get_by_label("Code or title contains").fill("data science")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row", name=re.compile("MC-DS1 Data Science Essentials"))
    expect(row).to_contain_text("University College Dublin (IE)")
    check_page(page, "pathways-where-search")
    row.get_by_role("link", name=re.compile("^Choose")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Where Data Science Essentials counts"
    )
    expect(page.get_by_role("status")).to_have_text("1 approved pathway valid today accepts it.")
    page.get_by_label("Show credits in").select_option("US-SEM")
    page.get_by_role("button", name="Show").click()
    pathway = page.get_by_role("article", name=re.compile("MSc Data Analytics"))
    expect(pathway).to_contain_text("10 ECTS = 5 US-SEM")
    expect(pathway).to_contain_text("awarded at most 60 months before the evaluation")
    expect(
        pathway.get_by_role("link", name="https://www.ucd.example/pathways/ds-1")
    ).to_be_visible()
    check_page(page, "pathways-where-answer")


def test_an_institution_proposes_and_approves_a_pathway(page):
    sign_in(page, HEIDELBERG)
    tasks = page.get_by_role("navigation", name="Tasks")
    tasks.get_by_role("link", name="Our pathways").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pathways of Heidelberg University")
    check_page(page, "pathways-own-empty")
    page.get_by_role("link", name="Propose a pathway").click()
    page.get_by_label("Your reference").fill("HD-DS-2026")
    page.get_by_label(re.compile("^Title")).fill("Data Science Essentials toward our MSc")
    programme = page.get_by_label("Programme it counts toward")
    programme.select_option(label="MSC-DS · Master of Science Data Science")
    page.get_by_label(re.compile("^Credits")).fill("8")
    page.get_by_label("Code or title contains").fill("essentials")
    page.get_by_label("Look for").select_option("qualifications")
    page.get_by_role("button", name="Search the catalogues").click()
    expect(page.get_by_role("status")).to_have_text("1 entry found.")
    # The search kept what was typed.
    expect(page.get_by_label("Your reference")).to_have_value("HD-DS-2026")
    check_page(page, "pathways-propose-search")
    page.get_by_label(re.compile("MC-DS1 · Data Science Essentials")).check()
    page.get_by_label("Awarded at most this many months before").fill("none")
    page.get_by_role("button", name="Propose the pathway").click()
    expect(page.get_by_role("alert")).to_contain_text("nothing was written")
    expect(page.locator("#f-max_age_months-error")).to_be_visible()
    check_page(page, "pathways-propose-invalid")
    page.get_by_label("Awarded at most this many months before").fill("36")
    page.get_by_role("button", name="Propose the pathway").click()
    expect(page.get_by_role("status").first).to_contain_text("Pathway HD-DS-2026 proposed")
    pathway = page.get_by_role("article", name=re.compile("HD-DS-2026"))
    expect(pathway).to_contain_text("proposed")
    check_page(page, "pathways-own-proposed")
    pathway.get_by_label("Reason (stated with the decision)").fill("Agreed by the board.")
    pathway.get_by_role("button", name="Approve HD-DS-2026").click()
    expect(page.get_by_role("status").first).to_contain_text("approved: it counts from now on")
    pathway = page.get_by_role("article", name=re.compile("HD-DS-2026"))
    expect(pathway).to_contain_text("Agreed by the board.")
    check_page(page, "pathways-own-approved")

    tasks.get_by_role("link", name="Where does this count?").click()
    page.get_by_label("Code or title contains").fill("MC-DS1")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=re.compile("^Choose")).click()
    expect(page.get_by_role("status")).to_have_text("2 approved pathways valid today accept it.")
    expect(
        page.get_by_role("article", name=re.compile("Master of Science Data Science"))
    ).to_contain_text("Heidelberg University (DE)")
