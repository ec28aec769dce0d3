"""A ministry in the browser: drafts the next version of its framework, checks its impact and
publishes it."""

import datetime as dt
import re

from playwright.sync_api import expect

from tests.browser.conftest import check_page, sign_in

NAME = "Department of Education (IE)"


def test_ministry_drafts_checks_and_publishes(page):
    today = dt.date.today().isoformat()
    sign_in(page, NAME)

    page.goto("/frameworks/IE-NFQ")
    page.get_by_role("button", name="Start a draft").click()
    expect(page.get_by_role("status")).to_contain_text(f"Draft {today} started")
    check_page(page, "ministry-framework-draft")

    page.get_by_role("link", name=f"Impact report of version {today}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Impact of IE-NFQ version {today}")
    expect(page.get_by_text("Publishing this version changes no equivalence.")).to_be_visible()
    check_page(page, "ministry-impact")

    page.get_by_role("button", name=f"Publish version {today}").click()
    expect(page).to_have_url(re.compile(r"/frameworks/IE-NFQ$"))
    expect(page.get_by_role("status")).to_have_text(
        f"Version {today} of IE-NFQ is published, in force from {today}."
    )
    versions = page.get_by_role("table").first
    expect(versions.get_by_role("row", name=re.compile(r"^2009 superseded"))).to_be_visible()
    expect(versions.get_by_role("row", name=re.compile(f"^{today} published"))).to_be_visible()
