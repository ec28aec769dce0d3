"""The review queue of ambiguous institution matches in the browser: a ministry confirms the
institution a spelling names and rejects another spelling's candidates; a registrar is refused;
an anonymous visitor signs in and comes back to the queue."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from registry.core.permissions import OPERATOR
from registry.institutions import services as institutions
from registry.match_reviews import services as match_reviews
from tests.browser.conftest import PASSWORD, check_page, sign_in

MINISTRY = "Department of Education (IE)"
REGISTRAR = "Admissions, Trinity College Dublin"
CONFIRMED, REJECTED = "University Colege", "Univ. Coll. Ireland"


@pytest.fixture(scope="module")
def entries(site):
    """Two spellings the matcher could not decide between University College Dublin and
    University College Cork, queued as assessments queue them."""
    with site.session() as session:
        cork = institutions.create_institution(
            session,
            OPERATOR,
            {"name": "University College Cork", "country": "IE", "city": "Cork"},
        ).id
        candidates = [
            {
                "id": site.institutions["ucd"],
                "name": "University College Dublin",
                "country": "IE",
                "score": 84.0,
                "matched_on": "name",
            },
            {
                "id": cork,
                "name": "University College Cork",
                "country": "IE",
                "score": 83.5,
                "matched_on": "name",
            },
        ]
        sightings = match_reviews.Sightings()
        for n, spelling in enumerate((CONFIRMED, REJECTED, CONFIRMED)):
            sightings.met(
                spelling,
                "IE",
                {"verdict": "ambiguous", "candidates": candidates},
                "assessment",
                n + 1,
                None,
            )
        sightings.write(session)
        session.commit()


def test_a_ministry_confirms_one_spelling_and_rejects_another(page, entries):
    sign_in(page, MINISTRY)
    page.get_by_role("navigation", name="Tasks").get_by_role("link", name="Match reviews").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Match reviews")
    queue = page.get_by_role("table")
    expect(queue.get_by_role("row")).to_have_count(3)  # the header and two entries
    # The spelling met twice comes first.
    expect(queue.get_by_role("row").nth(1)).to_contain_text(CONFIRMED)
    check_page(page, "reviews-queue")

    page.get_by_role("link", name=CONFIRMED).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Match review: “{CONFIRMED}”")
    expect(page.get_by_role("definition").filter(has_text=re.compile(r"^2$"))).to_be_visible()
    candidates = page.get_by_role("table", name="The matcher's candidates, best first")
    expect(
        candidates.get_by_role("row", name=re.compile("University College Dublin"))
    ).to_contain_text("84.0")
    check_page(page, "reviews-entry")
    page.get_by_label("University College Dublin").check()
    page.get_by_label("Note (optional)").fill("The college's own spelling on older transcripts.")
    page.get_by_role("button", name="Confirm the chosen institution").click()

    expect(page.get_by_role("status").first).to_contain_text(
        f"“{CONFIRMED}” is confirmed as University College Dublin"
    )
    expect(page.get_by_role("link", name=CONFIRMED)).to_have_count(0)
    check_page(page, "reviews-queue-after-confirming")

    page.get_by_role("link", name=REJECTED).click()
    page.get_by_label("Why none of the candidates is meant").fill(
        "A Dublin college not listed yet."
    )
    page.get_by_role("button", name="Reject all candidates").click()
    expect(page.get_by_role("status").first).to_contain_text("are rejected")
    expect(page.get_by_text("No entries here.")).to_be_visible()

    page.get_by_label("State").select_option("confirmed")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=CONFIRMED).click()
    expect(page.get_by_text("the spelling became one of its names")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm the chosen institution")).to_have_count(0)
    check_page(page, "reviews-entry-decided")


def test_a_registrar_is_neither_offered_the_queue_nor_let_in(page, entries):
    sign_in(page, REGISTRAR)
    tasks = page.get_by_role("navigation", name="Tasks")
    expect(tasks.get_by_role("link", name="Frameworks", exact=True)).to_be_visible()
    expect(tasks.get_by_role("link", name="Match reviews")).to_have_count(0)
    response = page.goto("/match-reviews")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Permission denied (403)")
    expect(page.get_by_text("Your account's role or scope does not cover this.")).to_be_visible()
    check_page(page, "reviews-refused-403")


def test_an_anonymous_visitor_signs_in_and_comes_back(page, entries):
    response = page.goto("/match-reviews?state=rejected")
    assert response.status == 401
    expect(page.get_by_role("heading", level=1)).to_contain_text("(401)")
    check_page(page, "reviews-refused-401")
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page(page, "login")
    page.get_by_label("Account name").fill(MINISTRY)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/match-reviews\?state=rejected$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Match reviews")


def test_a_failed_sign_in_and_an_unknown_entry_are_clear_pages(page, entries):
    page.goto("/login")
    page.get_by_label("Account name").fill(MINISTRY)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Unknown account or wrong password.")
    check_page(page, "login-failed")
    sign_in(page, MINISTRY)
    response = page.goto("/match-reviews/999999")
    assert response.status == 404
    expect(page.get_by_role("alert")).to_have_text("No match review 999999.")
    check_page(page, "reviews-not-found-404")
