"""A ministry in the browser: finds its drafts, edits a level of the next version of its
framework, sees the edit in the impact report, publishes it and reads the audit trail; and
finds no editing controls on another country's framework, nor a way round them."""

import datetime as dt
import re

from playwright.sync_api import expect

from tests.browser.conftest import check_page, sign_in

NAME = "Department of Education (IE)"


def test_ministry_edits_checks_publishes_and_reads_the_trail(page):
    today = dt.date.today().isoformat()
    sign_in(page, NAME)

    page.get_by_role("navigation", name="Tasks").get_by_role("link", name="My drafts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My drafts")
    expect(page.get_by_text("You have no draft in preparation.")).to_be_visible()
    check_page(page, "ministry-drafts-none")

    page.get_by_role("link", name="IE-NFQ").click()
    page.get_by_role("button", name="Start a draft").click()
    expect(page.get_by_role("status")).to_contain_text(f"Draft {today} started")
    check_page(page, "ministry-framework-draft")

    page.get_by_role("link", name="Edit level 8").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit level 8 of IE-NFQ")
    check_page(page, "ministry-level-edit")
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save level 8").click()
    # The browser's own check stops an empty title first; the server's message is tested
    # through the client. Now a real edit:
    page.get_by_label("Title").fill("NFQ level 8: Honours Bachelor")
    page.get_by_label("Knowledge", exact=True).fill("Revised knowledge descriptor.")
    page.get_by_role("button", name="Save level 8").click()
    expect(page.get_by_role("status")).to_have_text(f"Level 8 of draft {today} saved.")
    draft_levels = page.locator("#draft-levels")
    expect(
        draft_levels.get_by_role("row", name=re.compile(r"^8 NFQ level 8: Honours"))
    ).to_be_visible()

    page.get_by_role("link", name=f"Add a level to draft {today}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a level to IE-NFQ")
    check_page(page, "ministry-level-new")
    page.get_by_label("Code").fill("8")
    page.get_by_label("Title").fill("A second level 8")
    page.get_by_role("button", name="Add the level").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved")
    code = page.get_by_label("Code")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_have_accessible_description(re.compile("Duplicate level code"))
    expect(page.get_by_label("Title")).to_have_value("A second level 8")
    check_page(page, "ministry-level-invalid")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("link", name="Links of level 8").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Links of level 8 of IE-NFQ")
    check_page(page, "ministry-links-edit")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("link", name="My drafts").click()
    expect(page.get_by_role("row", name=re.compile(f"IE-NFQ.*{today}"))).to_be_visible()
    check_page(page, "ministry-drafts")
    page.get_by_role("link", name="Impact report and publication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Impact of IE-NFQ version {today}")
    edited = page.get_by_role("table").filter(has_text="1 level edited")
    expect(edited).to_contain_text("NFQ level 8: Honours Bachelor")
    expect(edited).to_contain_text("Revised knowledge descriptor.")
    check_page(page, "ministry-impact")

    page.get_by_label("In force from").fill(today)
    page.get_by_role("button", name=f"Publish version {today}").click()
    expect(page).to_have_url(re.compile(r"/frameworks/IE-NFQ$"))
    expect(page.get_by_role("status")).to_have_text(
        f"Version {today} of IE-NFQ is published, in force from {today}."
    )
    versions = page.get_by_role("table").first
    expect(versions.get_by_role("row", name=re.compile(r"^2009 superseded"))).to_be_visible()
    expect(versions.get_by_role("row", name=re.compile(f"^{today} published"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(r"^8 NFQ level 8: Honours"))).to_be_visible()

    page.get_by_role("link", name="Audit trail of IE-NFQ").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail of IE-NFQ")
    trail = page.get_by_role("table")
    expect(trail.get_by_role("row").nth(1)).to_contain_text("framework.publish")
    edit = trail.get_by_role("row").filter(has_text="framework.level.edit")
    expect(edit).to_contain_text(NAME)
    expect(edit).to_contain_text("NFQ level 8: Honours Bachelor")
    check_page(page, "ministry-audit")


def test_ministry_finds_no_edit_controls_on_another_countrys_framework(page):
    sign_in(page, NAME)
    page.goto("/frameworks/DE-DQR")
    expect(page.get_by_role("heading", level=1)).to_contain_text("DE-DQR")
    expect(page.get_by_role("button", name="Start a draft")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^Edit"))).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Audit trail"))).to_have_count(0)
    check_page(page, "ministry-other-framework")

    response = page.goto("/frameworks/DE-DQR/levels/6/edit")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_contain_text("Permission denied")
    expect(page.get_by_role("alert")).to_contain_text("outside its scope")
    expect(page.get_by_text("does not cover this")).to_be_visible()
    check_page(page, "ministry-refused")
    assert page.goto("/frameworks/DE-DQR/audit").status == 403
