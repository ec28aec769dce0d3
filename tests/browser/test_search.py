"""Anyone in the browser: looks up what an Irish level 8 is in Scotland, reads the answer with
its level titles and sources, opens a citation, converts credits beside it; and is offered the
choices, or told plainly, when the search does not name one level."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import check_page, sign_in


def test_search_an_equivalence_read_the_answer_and_convert_credits(page):
    page.goto("/")
    check_page(page, "search-home")
    page.get_by_label("From level").fill("Ireland — NFQ level 8")
    page.get_by_label("To framework or country").fill("Scotland")
    page.get_by_role("button", name="Find equivalents").click()

    # The shareable address names the level and the framework read from the text.
    expect(page).to_have_url(re.compile(r"/equivalents\?level=IE-NFQ:8&target=GB-SCQF$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Equivalents of IE-NFQ:8 in GB-SCQF")
    expect(page.get_by_role("heading", name="GB-SCQF:9: SCQF level 9")).to_be_visible()
    expect(page.get_by_role("heading", name="GB-SCQF:10: SCQF level 10")).to_be_visible()
    first = page.locator("section.match").first
    expect(first.locator(".relation")).to_contain_text("the same level")
    expect(first.get_by_role("img", name="The path from IE-NFQ:8 to GB-SCQF:9")).to_be_visible()
    check_page(page, "search-answer")
    page.set_viewport_size({"width": 375, "height": 800})
    expect(first.get_by_role("img")).to_be_visible()
    check_page(page, "search-answer-phone")
    page.set_viewport_size({"width": 1280, "height": 800})

    citation = first.locator("details.citation").first
    full = citation.get_by_text("National Qualifications Authority of Ireland (NQAI), 2009")
    expect(full).to_be_hidden()
    citation.locator("summary").click()
    expect(full).to_be_visible()

    calculators = page.get_by_role("complementary")
    calculators.get_by_label("Credits").fill("240")
    expect(calculators.get_by_label("From credit system")).to_have_value("ECTS")
    expect(calculators.get_by_label("To credit system")).to_have_value("GB-SCQF-CP")
    calculators.get_by_role("button", name="Convert credits").click()
    expect(page).to_have_url(re.compile(r"/credits\?value=240&from=ECTS&to=GB-SCQF-CP"))
    expect(page.get_by_role("status")).to_have_text("240 ECTS = 480 GB-SCQF-CP")
    expect(page.get_by_text("By annual load: a full-time year of study")).to_be_visible()
    check_page(page, "search-credits")


def test_grade_calculator_with_its_steps(page):
    page.goto("/")
    page.get_by_role("link", name="Grade calculator").first.click()
    page.get_by_label("Grade", exact=True).fill("1.7")
    page.get_by_label("From grading scale").select_option("DE-1-5")
    page.get_by_label("To grading scale").select_option("FR-0-20")
    page.get_by_role("button", name="Convert grade").click()
    expect(page.get_by_role("status")).to_contain_text("1.7 (DE-1-5) = 17.67 (FR-0-20)")
    expect(page.get_by_role("heading", name="Step by step")).to_be_visible()
    check_page(page, "search-grades")

    page.get_by_label("Grade", exact=True).fill("9")
    page.get_by_role("button", name="Convert grade").click()
    expect(page.get_by_role("alert")).to_contain_text("is not a grade on DE-1-5")
    check_page(page, "search-grades-refused")


def test_choices_and_an_unknown_level(page):
    page.goto("/")
    page.get_by_label("From level").fill("QNQ 5")
    page.get_by_label("To framework or country").fill("GB-SCQF")
    page.get_by_role("button", name="Find equivalents").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Which one do you mean?")
    check_page(page, "search-choices")
    page.get_by_role("link", name="PT-QNQ:5").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Equivalents of PT-QNQ:5 in GB-SCQF")

    response = page.goto("/equivalents?level=IE-NFQ:99&target=GB-SCQF")
    assert response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("No level “IE-NFQ:99” in the registry")
    expect(page.get_by_label("From level")).to_have_value("IE-NFQ:99")
    check_page(page, "search-not-found")


def test_a_signed_in_registrar_sees_the_same_search(page):
    """Search is public: signing in changes nothing on it, and the tasks the role may do are
    listed below it (the registrar's, not the ministry's)."""
    sign_in(page, "Admissions, Trinity College Dublin")
    page.goto("/equivalents?level=GB-SCQF:1&target=IE-NFQ")
    expect(page.get_by_role("heading", name="No counterpart")).to_be_visible()
    expect(page.get_by_text("The level lies below EQF level 1 on purpose")).to_be_visible()
    check_page(page, "search-no-match")
