"""The pages in German: the switch in the footer, the choice kept for the next pages, and the
German pages as accessible as the English ones."""

from playwright.sync_api import expect

from tests.browser.conftest import check_page


def test_the_language_switch_turns_the_pages_german_and_keeps_it(page):
    page.goto("/")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    account = page.get_by_role("navigation", name="Konto")
    expect(account.get_by_role("link", name="Anmelden")).to_be_visible()
    check_page(page, "german-home")

    # The choice is kept: the next page, asked for without ?lang=, is German too.
    page.goto("/frameworks/IE-NFQ")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Versionen")).to_be_visible()
    check_page(page, "german-framework")

    page.goto("/compare?frameworks=IE-NFQ,EQF")
    expect(page.get_by_role("heading", level=1)).to_have_text("Qualifikationsrahmen vergleichen")
    check_page(page, "german-compare")

    page.get_by_role("navigation", name="Sprache").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
