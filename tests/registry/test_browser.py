"""One walk through the pages in a real browser: Debian's chromium, driven by Playwright, against
the real server on its own database, as a ministry drafting, checking and publishing a version.

Without chromium or Playwright the test is skipped, except in CI (CI is set), which installs them:
there a missing browser must fail, not pass unseen.
"""

import datetime as dt
import os
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from frameworks.reference import load_reference
from registry.app import create_app
from registry.core.accounts import get_or_create_account, set_password
from registry.core.db import make_engine
from registry.core.permissions import OPERATOR
from registry.migrations import upgrade

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
NAME = "Department of Education (IE)"
PASSWORD = "correct horse battery staple"


def require(present: bool, what: str, install: str) -> None:
    if not present:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing; CI must install it ({install}).", pytrace=False)
        pytest.skip(f"{what} is missing, the browser test needs it: {install}.")


@pytest.fixture
def browser():
    """Debian's chromium under Playwright, never a browser build Playwright would download."""
    require(CHROMIUM.exists(), str(CHROMIUM), "apt-get install chromium")
    require(sync_playwright is not None, "The playwright package", "pip install playwright")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture
def server(tmp_path):
    """The app served over HTTP on a free local port, with its own migrated SQLite database."""
    url = f"sqlite:///{tmp_path / 'browser.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load_reference(session, OPERATOR)
        set_password(get_or_create_account(session, NAME, "ministry", ["IE"]), PASSWORD)
        session.commit()
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "IMPORTS_INLINE": True})
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()
    app.extensions["registry.engine"].dispose()


# `browser` first: without chromium the test stops before a server is built.
def test_ministry_drafts_checks_and_publishes_in_a_browser(browser, server, tmp_path):
    today = dt.date.today().isoformat()
    page = browser.new_page()
    page.goto(server + "/login")
    page.get_by_label("Account name").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_have_text(f"Signed in as {NAME}.")

    page.goto(server + "/frameworks/IE-NFQ")
    page.get_by_role("button", name="Start a draft").click()
    expect(page.get_by_role("status")).to_contain_text(f"Draft {today} started")

    page.get_by_role("link", name=f"Impact report of version {today}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Impact of IE-NFQ version {today}")
    expect(page.get_by_text("Publishing this version changes no equivalence.")).to_be_visible()

    page.get_by_role("button", name=f"Publish version {today}").click()
    expect(page).to_have_url(server + "/frameworks/IE-NFQ")
    expect(page.get_by_role("status")).to_have_text(
        f"Version {today} of IE-NFQ is published, in force from {today}."
    )
    versions = page.get_by_role("table").first
    expect(versions.get_by_role("row", name=re.compile(r"^2009 superseded"))).to_be_visible()
    expect(versions.get_by_role("row", name=re.compile(f"^{today} published"))).to_be_visible()
    page.screenshot(path=tmp_path / "published.png", full_page=True)
